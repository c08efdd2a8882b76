"""SQL for the limits (issue 12): a user's tasks in the last hour, and the workspace's FIFO queue.

Both are counted from the task table, so every process (web, gateway, workers) sees the same
figures. The queue needs no state of its own: a task may start when fewer than N unfinished tasks
of its platform are older than it (lower id). Finishing is the only thing that changes that count
for a given task, and only downwards, so once a task may start it stays so, and the tasks running
at once are always at most N, oldest first.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, text
from sqlalchemy.engine import Connection
from sqlmodel import col

from storage.db import Store
from storage.models import UNFINISHED_TASK, Task, utcnow
from storage.ratings import as_utc

HOUR = timedelta(hours=1)
_LOCK_SPACE = 0x6C696D  # "lim": the first key of the per-platform advisory lock


class TooManyTasks(Exception):
    """The asker reached the hourly limit; ``retry_at`` is when one more task will be accepted."""

    def __init__(self, asked: int, retry_at: datetime) -> None:
        super().__init__(f"{asked} tasks in the last hour")
        self.asked = asked
        self.retry_at = retry_at


def lock_platform(conn: Connection, platform: str) -> None:
    """PostgreSQL: hold the platform's task-creation lock until the transaction ends."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:platform))"),
                 {"space": _LOCK_SPACE, "platform": platform})


@functools.cache
def _recent() -> Select[Any]:
    return (select(col(Task.created_at)).where(
        col(Task.platform) == bindparam("platform"), col(Task.requester_id) == bindparam("user"),
        col(Task.created_at) >= bindparam("since"), col(Task.id) != bindparam("new_id")).order_by(col(Task.created_at)))


def check_hourly(conn: Connection, platform: str, user_id: str, per_hour: int, new_id: int) -> None:
    """Raise :class:`TooManyTasks` when ``user_id`` asked ``per_hour`` tasks in the last hour
    before task ``new_id`` (being inserted in this transaction, which the error rolls back)."""
    now = utcnow()
    times = list(conn.execute(_recent(), {"platform": platform, "user": user_id, "since": now - HOUR,
                                          "new_id": new_id}).scalars())
    if len(times) >= per_hour:
        oldest_counted = times[len(times) - per_hour]  # once it is an hour old, one more fits
        raise TooManyTasks(len(times), as_utc(oldest_counted) + HOUR)


def _unfinished() -> Any:
    return or_(*(col(Task.status) == status for status in UNFINISHED_TASK))


def older_unfinished(store: Store, platform: str, task_id: int) -> int:
    """How many unfinished tasks of ``platform`` were asked before task ``task_id``."""
    query = select(func.count(col(Task.id))).where(
        col(Task.platform) == platform, col(Task.id) < task_id, _unfinished())
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def queued_tasks(store: Store, platform: str) -> list[int]:
    """Ids of ``platform``'s tasks waiting for a slot with their header showing it, oldest first."""
    query = select(col(Task.id)).where(
        col(Task.platform) == platform, col(Task.queue_ahead).is_not(None), _unfinished()).order_by(col(Task.id))
    with store.engine.connect() as conn:
        return [i for i in conn.execute(query).scalars() if i is not None]
