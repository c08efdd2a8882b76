"""Limits (issue 12): tasks per user per hour, and tasks running at once per workspace.

- ``CODEGEN_USER_TASKS_PER_HOUR`` (default 20): a user past it is told privately how long to
  wait, and nothing is posted. Counted in storage when the task is stored
  (:func:`storage.tasks.create_task`), so replicas cannot together let one more through.
- ``CODEGEN_WORKSPACE_CONCURRENT_TASKS`` (default 10): at most that many tasks of a platform's
  workspace (a Slack bot token's workspace; the Discord bot's servers together) run at once. The
  others wait in order of asking: their header is posted saying "queued, 2 ahead of you" and is
  edited as the queue moves; when a task ends, every waiting task's :class:`~bot.jobs.StartTask`
  runs again and starts it or updates its count (:mod:`storage.limits` has the rule). On
  PostgreSQL the queue's one-minute sweep does the same, so a crash cannot leave one waiting.

The console (the operator's own terminal, and ``codegen-bot ask``) has no limits.
"""

from __future__ import annotations

from datetime import datetime

from bot.jobs import StartTask
from bot.messages import Field
from bot.services import Services
from storage import limits as db
from storage.models import Task, utcnow

EXEMPT = frozenset({"console"})


def per_hour(services: Services, platform: str) -> int:
    """The hourly limit of a user on ``platform`` (0: none)."""
    return 0 if platform in EXEMPT else services.settings.user_tasks_per_hour


def hourly_refusal(exc: db.TooManyTasks, limit: int, now: datetime | None = None) -> str:
    """What the user over the hourly limit is told (privately)."""
    wait = max(1, int((exc.retry_at - (now or utcnow())).total_seconds()))
    return (f"You have asked {exc.asked} task{'s' * (exc.asked != 1)} in the last hour; the limit is {limit} an hour "
            f"(CODEGEN_USER_TASKS_PER_HOUR). You can ask again in {duration(wait)}. Nothing was posted.")


def duration(seconds: int) -> str:
    """'45 s', '12 min', '1 h 5 min'."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = -(-seconds // 60)
    return f"{minutes} min" if minutes <= 60 else f"{minutes // 60} h {minutes % 60} min"


def not_started(task: Task) -> bool:
    """The task has not started answering: its header is not posted yet, or it says queued."""
    return task.parent_message_id is None or task.queue_ahead is not None


async def waiting(services: Services, task: Task) -> int | None:
    """None when ``task`` may start now; else how many waiting tasks are ahead of it."""
    limit = services.settings.workspace_concurrent_tasks
    if not limit or task.platform in EXEMPT:
        return None
    older = await services.store.run(db.older_unfinished, task.platform, task.id or 0)
    return None if older < limit else older - limit


def queue_field(services: Services, ahead: int) -> Field:
    """The header's line for a waiting task."""
    where = "next to start" if ahead == 0 else f"{ahead} ahead of you"
    limit = services.settings.workspace_concurrent_tasks
    return Field("Status", f"⏳ queued, {where} (at most {limit} tasks run at once here)")


async def advance(services: Services, platform: str) -> None:
    """A task of ``platform`` ended: every waiting one starts or shows its new place."""
    if not services.settings.workspace_concurrent_tasks or platform in EXEMPT:
        return
    waiting_ids = await services.store.run(db.queued_tasks, platform)
    if waiting_ids:
        await services.queue.defer([StartTask(task_id) for task_id in waiting_ids])


async def task_ended(services: Services, task_id: int, platform: str) -> None:
    """Every answer of the task is final: wake whoever in this process waits for it, move the queue."""
    services.finished.done(task_id)
    await advance(services, platform)
