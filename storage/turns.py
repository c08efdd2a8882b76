"""Queries for a task's turns: the follow-ups chained to it (``task.root_id``) and their answers."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import col, select

from storage.db import Store
from storage.models import Answer, Task


def thread_root(store: Store, platform: str, channel: str, thread: str | None) -> Task | None:
    """The first turn of the newest task answered in this thread, or None (not a task's thread).

    ``thread`` is the thread as the event names it; on Discord a message in a thread may name the
    thread as its ``channel`` (then ``thread`` is None), so a task whose thread is ``channel`` counts.
    """
    where = [col(Task.thread) == channel]
    if thread:
        where.append((col(Task.thread) == thread) & (col(Task.channel) == channel))
    with store.session() as session:
        newest = session.exec(
            select(Task).where(col(Task.platform) == platform, or_(*where)).order_by(col(Task.id).desc()).limit(1)
        ).first()
        if newest is None or newest.root_id is None:
            return newest
        return session.get(Task, newest.root_id)


def earlier_turns(store: Store, root_id: int, before_turn: int | None = None) -> list[tuple[Task, list[Answer]]]:
    """The turns of ``root_id``'s conversation before ``before_turn`` (every turn when None),
    oldest first, with their answers."""
    query = select(Task).where(or_(col(Task.id) == root_id, col(Task.root_id) == root_id))
    if before_turn is not None:
        query = query.where(col(Task.turn) < before_turn)
    with store.session() as session:
        tasks = list(session.exec(query.order_by(col(Task.turn), col(Task.id))))
        ids = [t.id for t in tasks]
        answers = list(session.exec(select(Answer).where(col(Answer.task_id).in_(ids)).order_by(col(Answer.position))))
    by_task: dict[int, list[Answer]] = {}
    for answer in answers:
        by_task.setdefault(answer.task_id, []).append(answer)
    return [(t, by_task.get(t.id or 0, [])) for t in tasks]

