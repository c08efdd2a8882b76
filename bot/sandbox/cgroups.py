"""Per-job cgroups: a job-wide memory and process cap, and a reliable "kill everything".

cgroup v1 (separate ``memory``, ``pids`` and ``cpu`` hierarchies, as on these machines) is used
when its directories are writable; on cgroup v2, ``SANDBOX_CGROUP_V2_PARENT`` names a delegated
directory with the memory and pids controllers enabled. Without either, :func:`create` returns
None and the backend falls back to rlimits plus a kill of the job's private uid.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.process import kill_until_gone

V1_ROOT = Path("/sys/fs/cgroup")
GROUP = "codegen-arena"
CPU_PERIOD_US = 100_000


@dataclass
class JobCgroup:
    """The cgroup directories of one job (one per v1 controller, or one v2 directory)."""

    dirs: dict[str, Path]
    v2: bool

    def procs_files(self) -> list[Path]:
        """``cgroup.procs`` files a process writes its pid into to join the job."""
        return [d / "cgroup.procs" for d in self.dirs.values()]

    def admit(self, pids: list[int]) -> bool:
        """Move running processes into the job; False if a live one could not be moved."""
        for path in self.procs_files():
            for pid in pids:
                try:
                    fd = os.open(path, os.O_WRONLY)
                    try:
                        os.write(fd, str(pid).encode())
                    finally:
                        os.close(fd)
                except OSError:
                    if _alive(pid):
                        return False
        return True

    def pids(self) -> set[int]:
        """Every process still in the job."""
        found: set[int] = set()
        for path in self.procs_files():
            try:
                found |= {int(x) for x in path.read_text().split()}
            except OSError:
                continue
        return found

    def kill_all(self) -> None:
        """SIGKILL every process in the job (repeated until none is left or 2 s pass)."""
        if self.v2 and (self.dirs["memory"] / "cgroup.kill").exists():
            try:
                (self.dirs["memory"] / "cgroup.kill").write_text("1")
            except OSError:
                pass
        kill_until_gone(self.pids)

    def oom_killed(self) -> bool:
        """True when the kernel killed a process of this job for exceeding the memory cap."""
        memory = self.dirs.get("memory")
        if memory is None:
            return False
        try:
            if self.v2:
                events = (memory / "memory.events").read_text()
                return any(
                    line.split()[0] in ("oom_kill", "oom") and int(line.split()[1]) > 0
                    for line in events.splitlines()
                )
            text = (memory / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value) > 0:
                return True
        return False

    def peak_hit(self) -> bool:
        """True when usage reached the limit (v1 ``failcnt``), a hint of memory pressure."""
        memory = self.dirs.get("memory")
        if memory is None or self.v2:
            return False
        try:
            return int((memory / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        """Kill what is left and delete the directories.

        The kernel may keep a cgroup busy for a moment after its last process died (notably
        after an OOM kill); such directories are retried briefly, then by the next
        :func:`create` or :func:`sweep`.
        """
        self.kill_all()
        for path in self.dirs.values():
            if not _rmdir_retrying(path, 0.5):
                _pending.append(path)


_pending: list[Path] = []
_live: set[Path] = set()


def live_jobs() -> list[Path]:
    """Job cgroup directories this process created that still exist."""
    return sorted(p for p in _live if p.exists())


def _rmdir_retrying(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            path.rmdir()
            _live.discard(path)
            return True
        except FileNotFoundError:
            _live.discard(path)
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)


_stale_checked = False


def _remove_stale() -> None:
    """Once per process: delete empty job cgroups over a minute old (left by a crashed bot)."""
    global _stale_checked
    if _stale_checked:
        return
    _stale_checked = True
    now = time.time()
    for ctl in ("memory", "pids", "cpu"):
        base = V1_ROOT / ctl / GROUP
        if not base.is_dir():
            continue
        for path in base.glob("job-*"):
            try:
                if now - path.stat().st_mtime > 60 and not (path / "cgroup.procs").read_text().strip():
                    path.rmdir()
            except OSError:
                continue


def sweep(seconds: float = 0.0) -> list[Path]:
    """Retry removing job cgroups that were still busy; return those still left."""
    deadline = time.monotonic() + seconds
    while True:
        _pending[:] = [p for p in _pending if not _rmdir_retrying(p, 0)]
        if not _pending or time.monotonic() >= deadline:
            return list(_pending)
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _v1_available() -> bool:
    return all(
        os.access(V1_ROOT / ctl, os.W_OK) and (V1_ROOT / ctl / "cgroup.procs").exists()
        for ctl in ("memory", "pids")
    )


def _create_v1(memory: int, processes: int) -> JobCgroup:
    name = f"job-{uuid.uuid4().hex[:12]}"
    dirs: dict[str, Path] = {}
    job = JobCgroup(dirs, v2=False)
    try:
        for ctl in ("memory", "pids", "cpu"):
            base = V1_ROOT / ctl / GROUP
            if ctl == "cpu" and not os.access(V1_ROOT / ctl, os.W_OK):
                continue
            base.mkdir(exist_ok=True)
            path = base / name
            path.mkdir()
            _live.add(path)
            dirs[ctl] = path
        _write(dirs["memory"] / "memory.limit_in_bytes", str(memory))
        swap = dirs["memory"] / "memory.memsw.limit_in_bytes"
        if swap.exists():
            try:
                _write(swap, str(memory))
            except OSError:
                pass
        _write(dirs["pids"] / "pids.max", str(processes))
        if "cpu" in dirs:  # at most one core per job, so a busy loop cannot starve the bot
            _write(dirs["cpu"] / "cpu.cfs_quota_us", str(CPU_PERIOD_US))
    except OSError:
        job.remove()
        raise
    return job


def _create_v2(parent: Path, memory: int, processes: int) -> JobCgroup:
    path = parent / f"job-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    _live.add(path)
    job = JobCgroup({"memory": path}, v2=True)
    try:
        _write(path / "memory.max", str(memory))
        if (path / "memory.swap.max").exists():
            _write(path / "memory.swap.max", "0")
        _write(path / "pids.max", str(processes))
    except OSError:
        job.remove()
        raise
    return job


def mode() -> str:
    """Which cgroup support this host offers us: ``'v1'``, ``'v2'`` or ``'none'``."""
    if os.environ.get("SANDBOX_NO_CGROUPS") == "1":
        return "none"
    parent = os.environ.get("SANDBOX_CGROUP_V2_PARENT")
    if parent and os.access(parent, os.W_OK):
        return "v2"
    if _v1_available():
        return "v1"
    return "none"


def create(memory: int, processes: int) -> JobCgroup | None:
    """A fresh job cgroup with the given caps, or None when cgroups are not usable here."""
    kind = mode()
    if _pending:
        sweep()
    try:
        if kind == "v1":
            _remove_stale()
            return _create_v1(memory, processes)
        if kind == "v2":
            return _create_v2(Path(os.environ["SANDBOX_CGROUP_V2_PARENT"]), memory, processes)
    except OSError:
        return None
    return None
