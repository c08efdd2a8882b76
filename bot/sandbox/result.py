"""The outcome of one sandboxed run, shared by every backend."""

from __future__ import annotations

import signal as _signal
from dataclasses import asdict, dataclass
from typing import Any

JSON_KEYS = (
    "exit_code",
    "signal",
    "stdout",
    "stderr",
    "duration_ms",
    "timed_out",
    "memory_exceeded",
    "truncated",
)


@dataclass(frozen=True)
class RunResult:
    """What a run did. ``exit_code`` is None when the program was killed by ``signal``."""

    exit_code: int | None
    signal: str | None
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool = False
    memory_exceeded: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the program exited by itself with status 0."""
        return self.exit_code == 0 and not (self.timed_out or self.memory_exceeded or self.signal)

    def to_json(self) -> dict[str, Any]:
        """The CLI ``--json`` object: exactly the keys in :data:`JSON_KEYS`."""
        data = asdict(self)
        return {key: data[key] for key in JSON_KEYS}


def signal_name(number: int) -> str:
    """``9`` -> ``'SIGKILL'``; unknown numbers give ``'SIG<n>'``."""
    try:
        return _signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def status_line(result: RunResult) -> str:
    """One line: ✅/❌/⏱ and what happened, with the duration."""
    took = f"{result.duration_ms / 1000:.2f} s" if result.duration_ms >= 1000 else (
        f"{result.duration_ms} ms"
    )
    if result.timed_out:
        return f"⏱ timed out after {took} (the time limit stopped it)"
    if result.memory_exceeded:
        return f"❌ memory limit exceeded after {took}"
    if result.truncated and result.signal == "SIGKILL":
        return f"❌ stopped after {took}: too much output"
    if result.signal:
        return f"❌ killed by {result.signal} after {took}"
    if result.exit_code == 0:
        return f"✅ exited 0 in {took}"
    return f"❌ exited with code {result.exit_code} in {took}"
