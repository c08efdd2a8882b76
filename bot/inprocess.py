"""Work in this process: one task tracker, and the job queue of the embedded default.

:class:`Tracker` is the one place that keeps background asyncio tasks alive, logs their
failures, waits for them (``join``) and stops them (``shutdown``). :class:`InProcessQueue` runs
jobs on it: the embedded default (SQLite, one process), the console and the tests. Nothing here
is durable: what a job changes is in storage, and on start the previous process's unfinished
work is resumed from there (see :func:`bot.answering.resume`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.jobs import Job

log = logging.getLogger(__name__)
Executor = Callable[[Job], Awaitable[None]]
CANCELLED_BY_ASKER = "cancelled by the asker"  # the cancel message jobs see (vs. a shutdown)


class Tracker:
    """Background tasks of this process: spawned, tracked, awaited, stopped."""

    def __init__(self, name: str = "background") -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; its failure is logged, never lost."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s task %s failed", self.name, task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until no tracked task is left (including tasks spawned meanwhile)."""
        while self._tasks:
            await self._idle.wait()

    async def shutdown(self, grace: float) -> int:
        """Let tasks finish for up to ``grace`` seconds, then cancel the rest; returns how many
        were cancelled."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.join(), grace)
        left = list(self._tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
        return len(left)


class InProcessQueue:
    """A :class:`bot.jobs.JobQueue` that runs each job as a tracked task of this process.

    It honours the jobs' ``lock`` (one at a time per key, in defer order) and ``queueing_lock``
    (a job already waiting is not queued twice), and retries a job that raised up to
    ``max_attempts`` times with a growing pause, as the PostgreSQL queue does.
    """

    def __init__(self, executor: Executor | None = None, *, max_attempts: int = 3, backoff: float = 1.0) -> None:
        self.executor = executor
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.tracker = Tracker("job")
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: set[str] = set()
        self._running: dict[asyncio.Task[Any], Job] = {}
        self._open: dict[str, int] = {}  # jobs waiting or running, by lock
        self._settled: dict[str, asyncio.Event] = {}
        self._closed = False

    def bind(self, executor: Executor) -> None:
        """Set what runs a job (the services are built after the queue)."""
        self.executor = executor

    async def defer(self, jobs: Sequence[Job]) -> None:
        """Start each job in the background (dropped, with a log line, after :meth:`shutdown`)."""
        for job in jobs:
            if self._closed:
                log.warning("not starting %s: the process is stopping (it resumes on the next start)", job)
                continue
            key = job.queueing_lock
            if key is not None:
                if key in self._waiting:
                    continue
                self._waiting.add(key)
            task = self.tracker.spawn(self._run(job), name=f"{job.kind}:{job.to_dict()}")
            self._running[task] = job
            if job.lock:
                self._open[job.lock] = self._open.get(job.lock, 0) + 1
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        lock = self._running.pop(task).lock
        if lock:
            left = self._open[lock] - 1
            if left:
                self._open[lock] = left
            else:
                del self._open[lock]
                if (settled := self._settled.pop(lock, None)) is not None:
                    settled.set()

    async def settled(self, locks: Sequence[str]) -> None:
        """Wait until no job whose ``lock`` is one of ``locks`` is waiting or running (a job
        defers its successors before it ends, so a chain of jobs counts as one)."""
        while (busy := next((lock for lock in locks if lock in self._open), None)) is not None:
            await self._settled.setdefault(busy, asyncio.Event()).wait()

    async def _run(self, job: Job) -> None:
        lock = self._locks.setdefault(job.lock, asyncio.Lock()) if job.lock else None
        try:
            async with lock or contextlib.nullcontext():
                if job.queueing_lock is not None:
                    self._waiting.discard(job.queueing_lock)
                await self._attempts(job)
        finally:
            if lock is not None and not lock.locked() and self._locks.get(job.lock or "") is lock:
                del self._locks[job.lock or ""]

    async def _attempts(self, job: Job) -> None:
        assert self.executor is not None, "InProcessQueue.bind() was never called"
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.executor(job)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == self.max_attempts:
                    log.exception("job %s failed %d times; giving up", job, attempt)
                    return
                log.warning("job %s failed (attempt %d); retrying", job, attempt, exc_info=True)
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def cancel(self, locks: set[str]) -> int:
        """Stop the jobs (waiting or running) whose ``lock`` is one of ``locks``, as their asker
        wants; returns how many. Each sees ``CancelledError(CANCELLED_BY_ASKER)``."""
        chosen = [task for task, job in self._running.items() if job.lock in locks]
        for task in chosen:
            task.cancel(CANCELLED_BY_ASKER)
        await asyncio.gather(*chosen, return_exceptions=True)
        return len(chosen)

    async def join(self) -> None:
        """Wait until every deferred job (and the jobs those deferred) has finished."""
        await self.tracker.join()

    async def shutdown(self, grace: float) -> int:
        """Take no new job, let running ones finish for ``grace`` s, cancel the rest."""
        self._closed = True
        return await self.tracker.shutdown(grace)
