"""Queries for tasks, answers, runs and processed platform events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select, update

from storage.db import Store
from storage.models import (
    Answer,
    AnswerStatus,
    ProcessedEvent,
    Run,
    Task,
    TaskStatus,
    utcnow,
)

UNFINISHED_ANSWER = (AnswerStatus.PENDING, AnswerStatus.STREAMING)


def claim_event(store: Store, key: str) -> bool:
    """Record a platform delivery; False when it was already handled (a retry)."""
    try:
        with store.session() as session:
            session.add(ProcessedEvent(key=key))
    except IntegrityError:
        return False
    return True


def prune_events(store: Store, older_than: timedelta = timedelta(days=2)) -> int:
    """Forget processed-event keys older than the platforms' retry horizon."""
    with store.session() as session:
        result = session.exec(  # type: ignore[call-overload]
            delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < utcnow() - older_than)
        )
        return int(result.rowcount or 0)


def create_task(store: Store, task: Task, answers: list[Answer]) -> tuple[Task, list[Answer]]:
    """Insert a task and its answers in one transaction; returns them with ids."""
    with store.session() as session:
        session.add(task)
        session.flush()
        for answer in answers:
            answer.task_id = task.id  # type: ignore[assignment]
            session.add(answer)
        session.flush()
        for item in (task, *answers):
            session.refresh(item)
    return task, answers


def update_task(store: Store, task_id: int, **values: Any) -> None:
    """Set columns on a task (one UPDATE statement)."""
    with store.session() as session:
        session.exec(update(Task).where(col(Task.id) == task_id).values(**values))  # type: ignore[call-overload]


def update_answer(store: Store, answer_id: int, **values: Any) -> None:
    """Set columns on an answer (one UPDATE statement: it runs on every streaming save)."""
    with store.session() as session:
        session.exec(update(Answer).where(col(Answer.id) == answer_id).values(**values))  # type: ignore[call-overload]


def start_answers(store: Store, task_id: int, refs: dict[int, tuple[str | None, str | None]]) -> None:
    """Mark answers streaming (clearing any earlier error) with their message refs; task running."""
    with store.session() as session:
        for answer_id, (channel, message_id) in refs.items():
            answer = session.get(Answer, answer_id)
            if answer is not None:
                answer.status, answer.error, answer.text = AnswerStatus.STREAMING, None, ""
                answer.message_channel, answer.message_id = channel, message_id
        task = session.get(Task, task_id)
        if task is not None:
            task.status = TaskStatus.RUNNING


def get_task(store: Store, task_id: int) -> Task | None:
    with store.session() as session:
        return session.get(Task, task_id)


def get_answer(store: Store, answer_id: int) -> tuple[Answer, Task] | None:
    """An answer with its task, or None."""
    with store.session() as session:
        answer = session.get(Answer, answer_id)
        if answer is None:
            return None
        task = session.get(Task, answer.task_id)
        return (answer, task) if task is not None else None


def task_answers(store: Store, task_id: int) -> list[Answer]:
    """A task's answers in display order."""
    with store.session() as session:
        query = select(Answer).where(Answer.task_id == task_id).order_by(col(Answer.position))
        return list(session.exec(query))


def unfinished_tasks(store: Store, started_before: datetime | None = None) -> list[Task]:
    """Tasks a crash (or a replica that died) left pending or running."""
    with store.session() as session:
        query = select(Task).where(col(Task.status).in_([TaskStatus.PENDING, TaskStatus.RUNNING]))
        if started_before is not None:
            query = query.where(col(Task.created_at) < started_before)
        return list(session.exec(query.order_by(col(Task.id))))


def finish_task_if_done(store: Store, task_id: int) -> list[Answer]:
    """Mark a task done when none of its answers is still pending or streaming.

    Returns the task's answers in display order (whatever their state).
    """
    with store.session() as session:
        query = select(Answer).where(Answer.task_id == task_id).order_by(col(Answer.position))
        answers = list(session.exec(query))
        task = session.get(Task, task_id)
        if task is not None and not any(a.status in UNFINISHED_ANSWER for a in answers):
            task.status = TaskStatus.DONE
            task.finished_at = utcnow()
        return answers


def abandon_task(store: Store, task_id: int, reason: str) -> None:
    """End a task the chat refused (e.g. the bot is not in the channel): every answer errors."""
    with store.session() as session:
        now = utcnow()
        for answer in session.exec(select(Answer).where(Answer.task_id == task_id)):
            answer.status, answer.error, answer.finished_at = AnswerStatus.ERROR, reason, now
        task = session.get(Task, task_id)
        if task is not None:
            task.status, task.finished_at = TaskStatus.INTERRUPTED, now


def record_run(store: Store, run: Run) -> Run:
    """Store a sandbox run result."""
    with store.session() as session:
        session.add(run)
        session.flush()
        session.refresh(run)
        return run
