"""Queries for tasks, answers, runs and processed platform events."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, exists, func, insert, or_
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select, update

from storage.db import Store, from_row
from storage.limits import check_hourly, lock_platform
from storage.models import (
    UNFINISHED_ANSWER,
    UNFINISHED_TASK,
    Answer,
    AnswerStatus,
    ChannelSettings,
    ProcessedEvent,
    Run,
    Task,
    TaskStatus,
    utcnow,
)

TASKS: Table = Task.__table__  # type: ignore[attr-defined]
ANSWERS: Table = Answer.__table__  # type: ignore[attr-defined]
# The statements run for every answer are built once (see _update_by_id): building one costs
# more than running it, and an ORM session more again.


def _one_of(column: Any, values: tuple[str, ...]) -> Any:
    """``column IN values`` as ORs of plain comparisons: an IN list is re-rendered on every run."""
    return or_(*(column == value for value in values))


@functools.cache
def _channel_blind() -> Select[Any]:
    settings = ChannelSettings.__table__.c  # type: ignore[attr-defined]
    return core_select(settings.blind).where(
        settings.platform == bindparam("platform"), settings.channel == bindparam("channel"))


@functools.cache
def _latest_turn() -> Select[Any]:
    return core_select(func.max(TASKS.c.turn)).where(TASKS.c.root_id == bindparam("root_id"))


@functools.cache
def _insert_task() -> Insert:
    return insert(TASKS).returning(TASKS.c.id)


@functools.cache
def _insert_answers() -> Insert:
    return insert(ANSWERS).returning(ANSWERS.c.id, sort_by_parameter_order=True)


@functools.cache
def _task_by_id() -> Select[Any]:
    return core_select(TASKS).where(TASKS.c.id == bindparam("task_id"))


@functools.cache
def _answers_of_task() -> Select[Any]:
    return core_select(ANSWERS).where(ANSWERS.c.task_id == bindparam("task_id")).order_by(ANSWERS.c.position)


@functools.cache
def _claim() -> Update:
    return (
        update(ANSWERS)
        .where(ANSWERS.c.id == bindparam("answer_id"), _one_of(ANSWERS.c.status, UNFINISHED_ANSWER))
        .values(status=AnswerStatus.STREAMING, text="", error=None, attempts=ANSWERS.c.attempts + 1)
        .returning(*ANSWERS.c)
    )


@functools.cache
def _task_running() -> Update:
    return update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(status=TaskStatus.RUNNING)


@functools.cache
def _lock_task() -> Select[Any]:
    return core_select(TASKS.c.id).where(TASKS.c.id == bindparam("task_id")).with_for_update()


@functools.cache
def _done_unless_answers_left() -> Update:
    """The task becomes done when it is still open and none of its answers is unfinished."""
    left = exists().where(ANSWERS.c.task_id == bindparam("task_id"), _one_of(ANSWERS.c.status, UNFINISHED_ANSWER))
    return (
        update(TASKS)
        .where(TASKS.c.id == bindparam("task_id"), _one_of(TASKS.c.status, UNFINISHED_TASK), ~left)
        .values(status=TaskStatus.DONE, finished_at=bindparam("finished_at"))
    )


def claim_event(store: Store, key: str) -> bool:
    """Record a platform delivery; False when it was already handled (a retry).

    Raises :class:`storage.errors.StorageUnavailable` (after a short wait on SQLite) when the
    claim cannot be written, so the user hears about it instead of silence."""
    try:
        with store.engine.begin() as conn, store.fail_fast(conn):
            conn.execute(insert(ProcessedEvent).values(key=key, created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def prune_events(store: Store, older_than: timedelta = timedelta(days=2)) -> int:
    """Forget processed-event keys older than the platforms' retry horizon."""
    with store.session() as session:
        result = session.exec(
            delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < utcnow() - older_than)
        )
        return int(result.rowcount or 0)


def create_task(store: Store, task: Task, answers: list[Answer], *, per_hour: int = 0) -> tuple[Task, list[Answer]]:
    """Insert a task (blind when its channel is) and its answers; returns them with ids.

    A follow-up (``root_id`` set) keeps the blind mode it was given and gets the next turn number.
    ``per_hour`` > 0: raises :class:`storage.limits.TooManyTasks` instead when the asker already
    asked that many on this platform in the last hour (counted in the same transaction, under a
    per-platform lock on PostgreSQL, so replicas cannot together let one more through; that lock
    also makes a platform's task ids commit in order, which the FIFO queue relies on, and keeps
    two follow-ups from sharing a turn number).
    Like :func:`claim_event`, waits only briefly for another process's SQLite write lock."""
    with store.engine.begin() as conn, store.fail_fast(conn):  # Core statements: keep it light
        if not store.is_sqlite:
            lock_platform(conn, task.platform)
        if task.root_id is None:
            task.blind = bool(conn.execute(_channel_blind(), {"platform": task.platform, "channel": task.channel}).scalar())
        else:
            latest = conn.execute(_latest_turn(), {"root_id": task.root_id}).scalar()
            task.turn = int(latest or 1) + 1
        task.id = task_id = cast(int, conn.execute(_insert_task(), _columns(task)).scalar_one())
        if per_hour:  # counted after the insert, which holds SQLite's write lock: no two count at once
            check_hourly(conn, task.platform, task.requester_id, per_hour, task_id)
        for answer in answers:
            answer.task_id = task_id
        if answers:
            ids = conn.execute(_insert_answers(), [_columns(a) for a in answers]).scalars()
            for answer, answer_id in zip(answers, ids, strict=True):
                answer.id = answer_id
    return task, answers


def _columns(row: Task | Answer) -> dict[str, Any]:
    """A new row's column values (without its not-yet-assigned id)."""
    return row.model_dump(exclude={"id"})


def update_task(store: Store, task_id: int, **values: Any) -> None:
    """Set columns on a task (one UPDATE statement)."""
    with store.engine.begin() as conn:
        conn.execute(_update_by_id(Task, frozenset(values)), {"row_id": task_id, **values})


def update_answer(store: Store, answer_id: int, **values: Any) -> None:
    """Set columns on an answer (one UPDATE statement: it runs on every streaming save)."""
    with store.engine.begin() as conn:
        conn.execute(_update_by_id(Answer, frozenset(values)), {"row_id": answer_id, **values})


@functools.lru_cache(maxsize=64)
def _update_by_id(table: type[Task] | type[Answer], columns: frozenset[str]) -> Update:
    """`UPDATE table SET col = :col, … WHERE id = :row_id`, built once per column set.

    Building the statement anew with literal values costs more than running it (SQLAlchemy hashes
    every value into its cache key), and these updates run for every streamed answer.
    """
    return update(table).where(col(table.id) == bindparam("row_id")).values({c: bindparam(c) for c in columns})


def start_answers(
    store: Store, task_id: int, refs: dict[int, tuple[str | None, str | None]], **task_values: Any
) -> None:
    """Mark answers streaming (clearing any earlier error) with their message refs; task running.

    ``task_values`` sets more task columns in the same transaction (its thread, parent message).
    """
    rows = [
        {"answer_id": answer_id, "status": AnswerStatus.STREAMING, "error": None, "text": "",
         "message_channel": channel, "message_id": message_id}
        for answer_id, (channel, message_id) in refs.items()
    ]
    with store.engine.begin() as conn:
        conn.execute(
            update(Answer).where(col(Answer.id) == bindparam("answer_id")).values(
                {k: bindparam(k) for k in rows[0] if k != "answer_id"}
            ),
            rows,
        )
        conn.execute(update(Task).where(col(Task.id) == task_id).values(status=TaskStatus.RUNNING, **task_values))


def get_task(store: Store, task_id: int) -> Task | None:
    with store.engine.connect() as conn:
        row = conn.execute(_task_by_id(), {"task_id": task_id}).mappings().first()
        return from_row(Task, row) if row is not None else None


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
    with store.engine.connect() as conn:
        return [from_row(Answer, row) for row in conn.execute(_answers_of_task(), {"task_id": task_id}).mappings()]


def unfinished_tasks(store: Store, started_before: datetime | None = None) -> list[Task]:
    """Tasks a crash (or a replica that died) left pending or running."""
    with store.session() as session:
        query = select(Task).where(col(Task.status).in_(UNFINISHED_TASK))
        if started_before is not None:
            query = query.where(col(Task.created_at) < started_before)
        return list(session.exec(query.order_by(col(Task.id))))


def finish_task_if_done(store: Store, task_id: int) -> list[Answer]:
    """Mark a task done when none of its answers is still pending or streaming.

    Returns the task's answers in display order (whatever their state).
    """
    with store.engine.begin() as conn:
        answers = [from_row(Answer, row) for row in conn.execute(_answers_of_task(), {"task_id": task_id}).mappings()]
        if not any(a.status in UNFINISHED_ANSWER for a in answers):
            conn.execute(
                _update_by_id(Task, frozenset({"status", "finished_at"})),
                {"row_id": task_id, "status": TaskStatus.DONE, "finished_at": utcnow()},
            )
        return answers


def task_with_answers(store: Store, task_id: int) -> tuple[Task, list[Answer]] | None:
    """A task and its answers in display order, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(_task_by_id(), {"task_id": task_id}).mappings().first()
        if row is None:
            return None
        answers = conn.execute(_answers_of_task(), {"task_id": task_id}).mappings()
        return from_row(Task, row), [from_row(Answer, a) for a in answers]


def claim_answer(store: Store, answer_id: int) -> tuple[Answer, Task] | None:
    """Start (or restart) streaming an unfinished answer: status streaming, text cleared, one more
    attempt counted. None when the answer is already final (or gone)."""
    with store.engine.begin() as conn:
        row = conn.execute(_claim(), {"answer_id": answer_id}).mappings().first()
        if row is None:
            return None
        answer = from_row(Answer, row)
        task_row = conn.execute(_task_by_id(), {"task_id": answer.task_id}).mappings().first()
        if task_row is None:
            return None
        if task_row["status"] == TaskStatus.PENDING:
            conn.execute(_task_running(), {"task_id": answer.task_id})
        return answer, from_row(Task, task_row)


def finish_answer(store: Store, answer_id: int, task_id: int, values: dict[str, Any]) -> bool:
    """Store an answer's final state; mark its task done when no answer is left unfinished.

    One transaction, holding the task's row lock (PostgreSQL; SQLite has one writer at a time),
    so that two answers finishing at once cannot each see the other unfinished: returns True
    when this call finished the task.
    """
    with store.engine.begin() as conn:
        if not store.is_sqlite:
            conn.execute(_lock_task(), {"task_id": task_id})
        conn.execute(_update_by_id(Answer, frozenset(values)), {"row_id": answer_id, **values})
        done = conn.execute(_done_unless_answers_left(), {"task_id": task_id, "finished_at": utcnow()})
        return bool(done.rowcount)


def abandon_task(store: Store, task_id: int, reason: str) -> None:
    """End a task the chat refused (e.g. the bot is not in the channel): every answer errors."""
    with store.session() as session:
        now = utcnow()
        for answer in session.exec(select(Answer).where(Answer.task_id == task_id)):
            answer.status, answer.error, answer.finished_at = AnswerStatus.ERROR, reason, now
        task = session.get(Task, task_id)
        if task is not None:
            task.status, task.finished_at = TaskStatus.INTERRUPTED, now


def cancel_task(store: Store, task_id: int) -> tuple[Task, list[Answer]] | None:
    """End a task its asker stopped: unfinished answers become cancelled (finished ones stay).

    Returns the task and its answers in display order, or None when there is no such task.
    """
    now = utcnow()
    with store.session() as session:
        task = session.get(Task, task_id)
        if task is None:
            return None
        answers = list(session.exec(select(Answer).where(Answer.task_id == task_id).order_by(col(Answer.position))))
        for answer in answers:
            if answer.status in UNFINISHED_ANSWER:
                answer.status, answer.error, answer.finished_at = AnswerStatus.CANCELLED, "cancelled", now
        if task.status in (TaskStatus.PENDING, TaskStatus.RUNNING):
            task.status, task.finished_at = TaskStatus.CANCELLED, now
        return task, answers


def record_run(store: Store, run: Run) -> Run:
    """Store a sandbox run result."""
    with store.session() as session:
        session.add(run)
        session.flush()
        session.refresh(run)
        return run
