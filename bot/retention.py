"""Retention and deletion (issue 12): old tasks' contents expire daily, and people can be forgotten.

- ``CODEGEN_RETENTION_DAYS`` (default 90; 0 keeps everything): once a day the contents of tasks
  older than that are deleted (:func:`storage.retention.expire`: texts, answers, code, tests, run
  output; ratings keep only model, task, rater pseudonym and value, so the leaderboard is the same).
  On PostgreSQL it is a procrastinate periodic task (one worker runs it); on SQLite the serving
  process runs it (:mod:`bot.background`). ``codegen-bot expire`` runs it by hand.
- ``/codegen forget`` shows what would be deleted of the caller's on this platform;
  ``/codegen forget confirm`` deletes it (:func:`storage.retention.forget`); ``codegen-bot forget
  --user ID`` is the admin's way. Both can be repeated after an interruption.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import render
from bot.config import Settings
from bot.events import ControlRequested, notify_safely
from bot.services import Services
from storage import retention as db
from storage.db import Store
from storage.models import Task, utcnow

log = logging.getLogger(__name__)
GONE = "That task's contents were deleted (it is older than the retention period, or its asker asked to be forgotten)."


def contents_gone(task: Task) -> bool:
    """Whether the task's text and answers were deleted (expired, or its asker forgotten)."""
    return task.expired_at is not None or task.requester_id == db.FORGOTTEN


async def expire_old(store: Store, settings: Settings, now: datetime | None = None) -> int:
    """Delete the contents of every task older than the retention period; returns how many."""
    if not settings.retention_days:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=settings.retention_days)
    total = 0
    while done := await store.run(db.expire, cutoff):
        total += done
    if total:
        log.info("retention: deleted the contents of %d task(s) older than %d days", total, settings.retention_days)
    return total


def describe(found: db.Forgotten) -> str:
    """'3 tasks, 5 ratings, 1 run and 2 settings changes'."""
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    return (f"{n(found.tasks, 'task')}, {n(found.ratings, 'rating')}, {n(found.runs, 'run')} and "
            f"{n(found.settings_changes, 'settings change')}")


async def forget_command(services: Services, event: ControlRequested) -> None:
    """``/codegen forget``: what would go; ``/codegen forget confirm``: delete it."""
    store, user = services.store, event.user.id
    if event.args.strip().lower() != "confirm":
        found = await store.run(db.forget_counts, user, event.platform)
        await notify_safely(event, render.info(
            f"🗑️ Forgetting you here deletes {describe(found)} of yours on {event.platform}: your tasks' texts, "
            "answers, code, tests and run output, your ratings and runs, and your name in the settings audit "
            "(the change stays, by “a forgotten user”). Other people's ratings of your tasks' answers stay. "
            "This cannot be undone. To go ahead: `/codegen forget confirm`."))
        return
    done = await store.run(db.forget, user, event.platform)
    log.info("forgot a user on %s: %s", event.platform, describe(done))
    await notify_safely(event, render.info(f"🗑️ Done: deleted {describe(done)} of yours. "
                                           "Running `/codegen forget confirm` again finds nothing left."))
