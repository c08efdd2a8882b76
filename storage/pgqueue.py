"""The job queue on PostgreSQL, shared by every process: procrastinate (a maintained library).

Each job kind of :mod:`bot.jobs` is one procrastinate task; a job's ``lock`` and
``queueing_lock`` become procrastinate's. Workers send heartbeats; two periodic tasks, run once
per period whichever worker's deferrer wins, keep work from getting lost:

- ``retry_stalled`` (every 10 s): jobs whose worker stopped sending heartbeats (killed, host
  lost) go back to the queue, so another worker asks the model again into the same message;
- ``sweep`` (every minute): tasks left unfinished for a while (a process died between storing a
  task and queueing it) are started again; starting is idempotent (a task waiting for a slot,
  bot/limits.py, starts or shows its new place in the queue);
- ``daily`` (03:17 UTC): what the composition root gives as ``daily``: retention
  (bot/retention.py), which a rerun finishes when a run was cut short.

A job that raises is retried with backoff; a worker stopping gracefully hands its unfinished
jobs back (procrastinate aborts them after the grace period, and the retry strategy requeues).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job as EngineJob
from sqlalchemy.engine import make_url

from bot.jobs import JOB_TYPES, Job, StartTask, job_from_dict
from storage import tasks as task_store
from storage.db import Store

log = logging.getLogger(__name__)
Executor = Callable[[Job], Awaitable[None]]
HEARTBEAT_S = 5.0
STALLED_AFTER_S = 20.0  # a worker silent this long is dead: its jobs are retried
SWEEP_AFTER = timedelta(minutes=2)


def libpq_url(sqlalchemy_url: str) -> str:
    """The psycopg/libpq form of a SQLAlchemy PostgreSQL URL (query options kept)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ProcrastinateQueue:
    """A :class:`bot.jobs.JobQueue` on procrastinate, plus its worker."""

    def __init__(self, store: Store, *, concurrency: int = 64,
                 daily: Callable[[], Awaitable[object]] | None = None) -> None:
        self.store = store
        self.daily = daily
        self.concurrency = concurrency
        self.executor: Executor | None = None
        self.app = App(connector=PsycopgConnector(conninfo=libpq_url(store.url), min_size=1, max_size=10))
        self._opened = False
        retry = RetryStrategy(max_attempts=5, exponential_wait=2)
        for kind in JOB_TYPES:
            self.app.task(name=kind, retry=retry, pass_context=False)(self._runner(kind))
        self.app.periodic(cron="* * * * * */10", periodic_id="retry_stalled")(
            self.app.task(name="retry_stalled", pass_context=False)(self._retry_stalled))
        self.app.periodic(cron="* * * * *", periodic_id="sweep")(
            self.app.task(name="sweep", pass_context=False)(self._sweep))
        self.app.periodic(cron="17 3 * * *", periodic_id="daily")(
            self.app.task(name="daily", retry=retry, pass_context=False)(self._daily))

    def bind(self, executor: Executor) -> None:
        """Set what runs a job."""
        self.executor = executor

    def _runner(self, kind: str) -> Callable[..., Awaitable[None]]:
        async def run(**values: Any) -> None:
            assert self.executor is not None, "ProcrastinateQueue.bind() was never called"
            await self.executor(job_from_dict(kind, values))

        run.__name__ = f"run_{kind}"
        return run

    async def open(self) -> None:
        """Connect (idempotent)."""
        if not self._opened:
            await self.app.open_async()
            self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self.app.close_async()
            self._opened = False

    async def defer(self, jobs: Sequence[Job]) -> None:
        """Queue each job; one already waiting under the same queueing lock is not queued again.
        Several jobs go in one statement unless one of them is already waiting."""
        await self.open()
        if len(jobs) > 1:
            try:
                await self.app.job_manager.batch_defer_jobs_async([self._new_job(job) for job in jobs])
                return
            except AlreadyEnqueued:  # the batch is one statement: queue the others one by one
                pass
        for job in jobs:
            try:
                await self.app.job_manager.defer_job_async(self._new_job(job))
            except AlreadyEnqueued:
                log.debug("%s is already queued", job)

    def _new_job(self, job: Job) -> EngineJob:
        deferrer = self.app.configure_task(job.kind, lock=job.lock, queueing_lock=job.queueing_lock)
        return deferrer.make_new_job(**job.to_dict())

    async def run_worker(self, stop: asyncio.Event, grace: float) -> None:
        """Run jobs until ``stop`` is set; then take no new job, let running ones finish for up to
        ``grace`` seconds and hand the rest back to the queue."""
        await self.open()
        worker = asyncio.create_task(self.app.run_worker_async(
            concurrency=self.concurrency, install_signal_handlers=False, shutdown_graceful_timeout=grace,
            update_heartbeat_interval=HEARTBEAT_S, stalled_worker_timeout=STALLED_AFTER_S, delete_jobs="successful",
        ))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([worker, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not worker.done():
            worker.cancel()  # procrastinate stops gracefully when its run is cancelled
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    # ----------------------------------------------------------------------------- periodic

    async def _retry_stalled(self, timestamp: int) -> None:
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S):
            log.warning("job %s of a dead worker goes back to the queue", job.call_string)
            await manager.retry_job(job)

    async def _sweep(self, timestamp: int) -> None:
        from storage.models import utcnow

        stale = await self.store.run(task_store.unfinished_tasks, utcnow() - SWEEP_AFTER)
        if stale:
            log.info("re-starting %d unfinished task(s)", len(stale))
            await self.defer([StartTask(task.id or 0) for task in stale])

    async def _daily(self, timestamp: int) -> None:
        if self.daily is not None:
            await self.daily()

    async def depth(self) -> tuple[int, float]:
        """(jobs waiting, age in seconds of the oldest), for metrics."""
        await self.open()
        row = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(e.at)), 0) AS age "
            "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred' "
            "WHERE j.status = 'todo'"
        )
        return int(row["n"]), float(row["age"] or 0.0)
