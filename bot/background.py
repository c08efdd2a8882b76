"""Jobs on a timer, beside the adapters: the weekly post, blind reveals, pruning of event keys,
and (SQLite: one process) the daily retention run.

They run in every process that serves a platform: the weekly post's claim row keeps it
exactly-once across replicas, and a reveal is an atomic update. On PostgreSQL retention is a
periodic task of the job queue instead (storage/pgqueue.py), run by one worker a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.arena import Arena
from bot.blind import BlindRevealer
from bot.config import Settings
from bot.dashboard_access import weekly_link
from bot.inprocess import InProcessQueue
from bot.retention import expire_old
from bot.weekly import WeeklyPoster
from storage import tasks as db

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 6 * 3600
DAY_S = 24 * 3600  # retention (CODEGEN_RETENTION_DAYS) on SQLite: PostgreSQL has the queue's daily job


@contextlib.asynccontextmanager
async def scheduled_jobs(arena: Arena, settings: Settings) -> AsyncIterator[None]:
    """Run the timed jobs for this process's surfaces while the body runs."""
    registry = arena.services.surfaces
    surfaces = {platform: registry.get(platform) for platform in registry.platforms}
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = [
        WeeklyPoster(arena.store, surfaces, settings.leaderboard_tz,
                     dashboard_link=weekly_link(settings)).run_forever,
        BlindRevealer(arena.store, surfaces, timedelta(hours=settings.blind_reveal_after_h)).run_forever,
        lambda: _every(PRUNE_EVERY_S, lambda: _prune(arena), "pruning processed events failed"),
    ]
    if isinstance(arena.services.queue, InProcessQueue):
        jobs.append(lambda: _every(DAY_S, lambda: expire_old(arena.store, settings),
                                   "retention: expiring old tasks failed (it runs again tomorrow)"))
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(_run(job)) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _run(job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    await job()


async def _every(seconds: float, step: Callable[[], Awaitable[object]], failure: str) -> None:
    """Run ``step`` now and then every ``seconds``; a failure is logged and the next run comes."""
    while True:
        try:
            await step()
        except Exception:
            log.exception(failure)
        await asyncio.sleep(seconds)


async def _prune(arena: Arena) -> None:
    """Forget processed platform-event keys older than any platform retries."""
    removed = await arena.store.run(db.prune_events)
    log.info("pruned %d processed-event keys", removed)
