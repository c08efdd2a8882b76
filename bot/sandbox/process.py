"""Supervise one spawned job without blocking the event loop: a wall-clock deadline enforced
from outside, output read incrementally and capped, and a kill of everything on the way out."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import IO

KillRest = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """How a supervised process ended. ``killed`` means we stopped it (deadline or flood)."""

    returncode: int
    stdout: bytes
    stderr: bytes
    produced: int
    timed_out: bool
    killed: bool
    duration_ms: int

    @property
    def truncated(self) -> bool:
        """True when more was printed than was kept."""
        return self.produced > len(self.stdout) + len(self.stderr)


def memfd(name: str, data: bytes) -> int:
    """An anonymous in-memory file holding ``data``, positioned at its start."""
    fd = os.memfd_create(name, 0)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


async def spawn(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    pass_fds: tuple[int, ...],
    preexec: Callable[[], None],
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, stdin from /dev/null, stdout/stderr piped.

    Popen (fork, ``preexec``, exec) runs in a worker thread: joining a v1 cgroup alone can take
    ~10 ms, which must not stall the event loop.
    """
    return await asyncio.to_thread(
        subprocess.Popen,
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        pass_fds=pass_fds,
        start_new_session=True,
        preexec_fn=preexec,
    )


def kill_until_gone(list_pids: Callable[[], Collection[int]], patience: float = 2.0) -> None:
    """SIGKILL every pid ``list_pids()`` names until it names none (or ``patience`` runs out)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.005)


def killpg(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (gone already is fine)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def _read_pipe(pipe: IO[bytes]) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**20)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader, transport


async def wait_exit(proc: subprocess.Popen[bytes]) -> int:
    """Wait for ``proc`` to exit without blocking the loop or holding a thread (pidfd)."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return await asyncio.to_thread(proc.wait)
    exited = loop.create_future()

    def on_exit() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, on_exit)
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    return proc.wait()


async def supervise(
    proc: subprocess.Popen[bytes],
    *,
    wall_s: float,
    kept: int,
    kill_at: int,
    started: float,
    kill_rest: KillRest,
) -> Outcome:
    """Watch ``proc`` until it exits, ``wall_s`` passes or it prints ``kill_at`` bytes.

    Up to ``kept`` bytes of each stream are kept. ``kill_rest`` kills what the process group
    kill cannot reach (the job's cgroup or uid). The process is always reaped on return.
    """
    assert proc.stdout is not None and proc.stderr is not None
    out_stream, out_transport = await _read_pipe(proc.stdout)
    err_stream, err_transport = await _read_pipe(proc.stderr)
    try:
        return await _supervise(proc, out_stream, err_stream, wall_s, kept, kill_at, started,
                                kill_rest)
    finally:
        out_transport.close()
        err_transport.close()
        if proc.returncode is None:  # cancelled: make sure it is gone and reaped
            killpg(proc.pid)
            await asyncio.to_thread(proc.wait)


async def _supervise(
    proc: subprocess.Popen[bytes],
    out_stream: asyncio.StreamReader,
    err_stream: asyncio.StreamReader,
    wall_s: float,
    kept: int,
    kill_at: int,
    started: float,
    kill_rest: KillRest,
) -> Outcome:
    buffers = {"stdout": bytearray(), "stderr": bytearray()}
    produced = 0
    flood = asyncio.Event()

    async def pump(name: str, stream: asyncio.StreamReader) -> None:
        nonlocal produced
        buf = buffers[name]
        # Keep reading (and discarding) past the cap: a pipe left unread would never report
        # end-of-file, and the process would never be reaped.
        while chunk := await stream.read(65536):
            produced += len(chunk)
            room = kept - len(buf)
            if room > 0:
                buf += chunk[:room]
            if produced > kill_at:
                flood.set()

    pumps = asyncio.gather(pump("stdout", out_stream), pump("stderr", err_stream))
    waiter = asyncio.ensure_future(wait_exit(proc))
    flooded = asyncio.ensure_future(flood.wait())
    done, _ = await asyncio.wait({waiter, flooded}, timeout=wall_s,
                                 return_when=asyncio.FIRST_COMPLETED)
    timed_out = not done
    killed = timed_out or (flooded in done and waiter not in done)
    if killed:
        killpg(proc.pid)
        await kill_rest()
    try:
        await asyncio.wait_for(asyncio.shield(waiter), timeout=2.0)
    except TimeoutError:  # something escaped the process group
        await kill_rest()
        await waiter
    flooded.cancel()
    duration_ms = int((time.monotonic() - started) * 1000)
    try:
        await asyncio.wait_for(pumps, timeout=1.0)
    except TimeoutError:  # a leftover holds the pipe open; the cleanup kills it
        pumps.cancel()
    return Outcome(
        returncode=waiter.result(),
        stdout=bytes(buffers["stdout"]),
        stderr=bytes(buffers["stderr"]),
        produced=produced,
        timed_out=timed_out,
        killed=killed,
        duration_ms=duration_ms,
    )
