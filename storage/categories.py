"""SQL for task categories: the filter every leaderboard query shares, tagging, and backfill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, select, true, update
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from storage.db import Store
from storage.models import Answer, AnswerStatus, Task, utcnow


def category_clause(kind: str | None = None, language: str | None = None, followups: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on ``task`` for one kind of work and/or language, or follow-up turns only
    (true when none is set)."""
    clauses = [col(Task.turn) > 1] if followups else []
    if kind is not None:
        clauses.append(col(Task.kind) == kind)
    if language is not None:
        clauses.append(col(Task.language) == language)
    return and_(*clauses) if clauses else true()


def set_category(store: Store, task_id: int, kind: str | None, language: str | None, tagged_by: str) -> None:
    """A person's correction of a task's category (recorded with who and when)."""
    with store.session() as session:
        session.execute(
            update(Task).where(col(Task.id) == task_id).values(
                kind=kind, language=language, tagged_by=tagged_by, tagged_at=utcnow()
            )
        )


def fill_language(store: Store, task_id: int, language: str) -> bool:
    """Set a task's language if it has none and nobody tagged it; False when it was left alone."""
    with store.session() as session:
        result = session.execute(
            update(Task)
            .where(col(Task.id) == task_id, col(Task.language).is_(None), col(Task.tagged_by).is_(None))
            .values(language=language)
        )
        return bool(cast(CursorResult[Any], result).rowcount)


@dataclass(frozen=True)
class Unclassified:
    """A task the classifier has to (re)visit, with its finished answers' texts."""

    task_id: int
    text: str
    answer_texts: tuple[str, ...]


def tasks_to_classify(store: Store, *, everything: bool = False, after_id: int = 0, limit: int = 500) -> list[Unclassified]:
    """Tasks with no kind yet (or, with ``everything``, all the classifier set), by id after ``after_id``.

    Tasks a person tagged are never returned: the classifier does not override a correction.
    """
    query = select(col(Task.id), col(Task.text)).where(col(Task.id) > after_id, col(Task.tagged_by).is_(None))
    if not everything:
        query = query.where(col(Task.kind).is_(None))
    with store.session() as session:
        tasks = session.execute(query.order_by(col(Task.id)).limit(limit)).all()
        ids = [int(t[0]) for t in tasks]
        answers: dict[int, list[str]] = {}
        if ids:
            rows = session.execute(
                select(col(Answer.task_id), col(Answer.text))
                .where(col(Answer.task_id).in_(ids), col(Answer.status) == AnswerStatus.DONE)
                .order_by(col(Answer.task_id), col(Answer.position))
            )
            for task_id, text in rows:
                answers.setdefault(int(task_id), []).append(str(text or ""))
    return [Unclassified(int(i), str(text), tuple(answers.get(int(i), []))) for i, text in tasks]


def set_classified(store: Store, values: list[tuple[int, str, str | None]]) -> None:
    """Store the classifier's (task id, kind, language) for tasks nobody tagged."""
    if not values:
        return
    with store.session() as session:
        for task_id, kind, language in values:
            session.execute(
                update(Task)
                .where(col(Task.id) == task_id, col(Task.tagged_by).is_(None))
                .values(kind=kind, language=language)
            )

