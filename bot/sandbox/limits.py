"""Resource limits of one sandboxed run (defaults as the README gives them, overridable from the env)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import env_setting, integer, number

MIB = 1024 * 1024
MIN_MEMORY_MIB = 32  # python3 cannot even load its shared libraries under ~16 MiB of address space


@dataclass(frozen=True)
class Limits:
    """Per-run limits. ``output_kept`` bytes of stdout+stderr are kept; the job is stopped once
    ``output_kill`` bytes have been produced (a flood cannot grow the bot's memory)."""

    wall_s: float = 6.0
    cpu_s: int = 6
    memory: int = 256 * MIB
    processes: int = 32
    file_size: int = 10 * MIB
    open_files: int = 64
    tmpfs_size: int = 32 * MIB
    output_kept: int = 1 * MIB
    output_kill: int = 8 * MIB

    @classmethod
    def from_env(cls) -> Limits:
        """Read ``SANDBOX_WALL_S``, ``SANDBOX_MEMORY_MIB`` and ``SANDBOX_PROCESSES``."""
        wall = env_setting("SANDBOX_WALL_S", cls.wall_s, number(minimum=0.1))
        memory_mib = env_setting("SANDBOX_MEMORY_MIB", cls.memory / MIB, number(
            minimum=MIN_MEMORY_MIB,
            too_low=f"the limit is too low: an interpreter needs at least {MIN_MEMORY_MIB} MiB to start"))
        return cls(
            wall_s=wall,
            cpu_s=max(1, int(wall + 0.999)),
            memory=int(memory_mib * MIB),
            processes=env_setting("SANDBOX_PROCESSES", cls.processes, integer(minimum=1)),
        )
