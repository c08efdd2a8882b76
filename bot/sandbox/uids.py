"""Private host uids for sandboxed jobs, leased across processes with lock files.

Each running job owns one uid from ``SANDBOX_UID_BASE`` (61000) upward: RLIMIT_NPROC then
counts that job alone, and whatever the uid still runs after the job is a leftover to kill.
Leases are ``flock`` locks on ``/run/codegen-arena-sandbox/<uid>.lock`` so several bot (or test)
processes on one host never share a uid; the kernel drops a lock when its holder dies.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

from bot.sandbox.process import kill_until_gone

UID_BASE = 61000
UID_POOL = 64


def sandbox_uids() -> range:
    """The host uids sandboxed jobs run as."""
    from bot.config import env_setting, integer

    base = env_setting("SANDBOX_UID_BASE", UID_BASE, integer(minimum=1000, maximum=2**31 - UID_POOL - 1))
    return range(base, base + UID_POOL)


def _lock_dir() -> Path:
    path = Path(os.environ.get("SANDBOX_LOCK_DIR", "/run/codegen-arena-sandbox"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def try_lease(uid: int) -> int | None:
    """Lock ``uid`` for this process; return the lock's fd, or None when someone holds it."""
    fd = os.open(_lock_dir() / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def release(fd: int) -> None:
    """Give a leased uid back."""
    os.close(fd)


_next_offset = 0


async def lease() -> tuple[int, int]:
    """Wait for a free uid; return ``(uid, lock_fd)``.

    Uids are handed out round-robin: a job's exiting processes still count against its uid's
    RLIMIT_NPROC until the kernel has reaped them, so reusing the uid just released made the
    next bwrap fail with "Can't fork" under load.
    """
    global _next_offset
    pool = sandbox_uids()
    while True:
        for step in range(len(pool)):
            offset = (_next_offset + step) % len(pool)
            fd = try_lease(pool[offset])
            if fd is not None:
                _next_offset = offset + 1
                return pool[offset], fd
        await asyncio.sleep(0.05)


def processes_by_uid() -> dict[int, list[int]]:
    """Live (non-zombie) host processes grouped by real uid."""
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                status = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        uid = state = None
        for line in status.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
                break
        if uid is not None and state != "Z":
            found.setdefault(uid, []).append(int(entry.name))
    return found


def processes_of(uids: range | set[int]) -> list[int]:
    """Pids of live host processes whose real uid is in ``uids``."""
    return [pid for uid, pids in processes_by_uid().items() if uid in uids for pid in pids]


def strays() -> list[int]:
    """Processes running as a sandbox uid that no job currently holds (leftovers)."""
    left: list[int] = []
    pool = sandbox_uids()
    for uid, _pids in processes_by_uid().items():
        if uid not in pool:
            continue
        fd = try_lease(uid)
        if fd is None:
            continue  # a live job (ours or another process's) owns these
        try:
            left += processes_of({uid})
        finally:
            release(fd)
    return left


def kill_uid(uid: int) -> None:
    """SIGKILL whatever ``uid`` still runs (call while holding its lease), retrying briefly."""
    kill_until_gone(lambda: processes_of({uid}))
