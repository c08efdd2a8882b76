"""Resource limits of one sandboxed run (defaults from DESIGN.md, overridable from the env)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1024 * 1024


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


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
        wall = _env_float("SANDBOX_WALL_S", cls.wall_s)
        return cls(
            wall_s=wall,
            cpu_s=max(1, int(wall + 0.999)),
            memory=int(_env_float("SANDBOX_MEMORY_MIB", cls.memory / MIB) * MIB),
            processes=int(_env_float("SANDBOX_PROCESSES", cls.processes)),
        )
