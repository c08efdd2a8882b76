"""Admission control (one run per user, a global cap), the event loop staying free, and refusal
when bwrap cannot start."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.errors import SandboxBusy, SandboxUnavailable, UnsupportedLanguage
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from bot.sandbox.uids import processes_of
from tests.sandbox.conftest import TEST_LIMITS

SLEEPY = "import time\ntime.sleep(0.8)\nprint('done')"


async def test_one_run_per_user(backend: LocalBackend, no_strays: None) -> None:
    service = SandboxService(backend, per_user=1, global_cap=4)
    first = asyncio.create_task(service.run("alice", SLEEPY, "python"))
    await asyncio.sleep(0.1)
    with pytest.raises(SandboxBusy, match="you already have a run going"):
        await service.run("alice", "print(1)", "python")
    other = await service.run("bob", "print('bob')", "python")  # others are not held up
    assert other.stdout == "bob\n"
    assert (await first).stdout == "done\n"
    again = await service.run("alice", "print(2)", "python")  # free again once finished
    assert again.stdout == "2\n" and service.active("alice") == 0


async def test_global_cap_limits_concurrent_jobs(backend: LocalBackend, no_strays: None) -> None:
    service = SandboxService(backend, global_cap=2)
    runs = asyncio.gather(*(service.run(f"user{i}", SLEEPY, "python") for i in range(4)))
    seen: set[int] = set()
    most = 0
    while not runs.done():
        # processes actually running as the uids this backend's jobs hold
        pids = await asyncio.to_thread(processes_of, set(backend.in_use))
        uids = {_uid(pid) for pid in pids} - {None}
        most = max(most, len(uids))
        seen |= uids  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
    results = await runs
    assert [r.stdout for r in results] == ["done\n"] * 4
    assert most == 2, "two jobs ran side by side, never more"
    assert len(seen) >= 2


def _uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


async def test_runs_do_not_block_the_event_loop(backend: LocalBackend) -> None:
    service = SandboxService(backend)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await service.run("carol", SLEEPY, "python")
    finally:
        task.cancel()
    assert result.stdout == "done\n"
    assert ticks >= 10, "the loop kept serving other work during the run"


async def test_unknown_language_is_refused_clearly(backend: LocalBackend) -> None:
    with pytest.raises(UnsupportedLanguage, match="runnable languages are python, javascript, bash"):
        await SandboxService(backend).run("dave", "fn main() {}", "rust")


@pytest.fixture
def fake_bwrap() -> Iterator[str]:
    """A bwrap stand-in that fails like bwrap does on a host without user namespaces (in a
    directory the sandbox uid can reach, unlike pytest's 0700 tmp_path)."""
    directory = Path(tempfile.mkdtemp(prefix="fake-bwrap-"))
    try:
        yield _fake_bwrap(directory)
    finally:
        shutil.rmtree(directory)


def _fake_bwrap(tmp_path: Path) -> str:
    script = tmp_path / "bwrap"
    script.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the "
        "kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp_path.chmod(0o755)
    return str(script)


async def test_refused_with_the_reason_when_bwrap_cannot_start(fake_bwrap: str) -> None:
    backend = LocalBackend(TEST_LIMITS, bwrap=fake_bwrap)
    with pytest.raises(SandboxUnavailable, match="cannot start here: bwrap: No permissions"):
        await SandboxService(backend).run("erin", "print(1)", "python")
    await backend.drain()


async def test_unsafe_fallback_only_when_the_operator_says_so(fake_bwrap: str) -> None:
    backend = LocalBackend(TEST_LIMITS, bwrap=fake_bwrap, unsafe_fallback=True)
    result = await SandboxService(backend).run("erin", "import os\nprint(os.getuid() != 0)", "python")
    assert backend.unsafe and result.stdout == "True\n"
    await backend.drain()


async def test_missing_bwrap_package_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_BWRAP", "/nonexistent/bwrap")
    service = SandboxService.from_env()
    with pytest.raises(SandboxUnavailable, match="cannot start here"):
        await service.run("frank", "print(1)", "python")


async def test_unreachable_bwrap_says_what_to_do(tmp_path: Path) -> None:
    """pytest's tmp_path is 0700 root: the sandbox uid cannot execute a bwrap placed there."""
    backend = LocalBackend(TEST_LIMITS, bwrap=_fake_bwrap(tmp_path))
    with pytest.raises(SandboxUnavailable, match=r"Permission denied.*SANDBOX_BWRAP"):
        await backend.run("print(1)", "python")
    await backend.drain()
