"""SQL for task categories: the filter every leaderboard query shares, tagging, and backfill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true, update

from storage.db import Store
from storage.models import Answer, AnswerStatus, Task, utcnow


def category_clause(kind: str | None = None, language: str | None = None) -> ColumnElement[bool]:
    """A WHERE clause on ``task`` for one kind of work and/or language (true when both are None)."""
    clauses = []
    if kind is not None:
        clauses.append(Task.kind == kind)
    if language is not None:
        clauses.append(Task.language == language)
    return and_(*clauses) if clauses else true()


def set_category(store: Store, task_id: int, kind: str | None, language: str | None, tagged_by: str) -> None:
    """A person's correction of a task's category (recorded with who and when)."""
    with store.session() as session:
        session.execute(
            update(Task).where(Task.id == task_id).values(  # type: ignore[arg-type]
                kind=kind, language=language, tagged_by=tagged_by, tagged_at=utcnow()
            )
        )


def fill_language(store: Store, task_id: int, language: str) -> bool:
    """Set a task's language if it has none and nobody tagged it; False when it was left alone."""
    with store.session() as session:
        result = session.execute(
            update(Task)
            .where(Task.id == task_id, Task.language.is_(None), Task.tagged_by.is_(None))  # type: ignore[arg-type,union-attr]
            .values(language=language)
        )
        return bool(result.rowcount)


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
    query: Any = select(Task.id, Task.text).where(Task.id > after_id, Task.tagged_by.is_(None))  # type: ignore[union-attr]
    if not everything:
        query = query.where(Task.kind.is_(None))  # type: ignore[union-attr]
    with store.session() as session:
        tasks = session.execute(query.order_by(Task.id).limit(limit)).all()
        ids = [int(t[0]) for t in tasks]
        answers: dict[int, list[str]] = {}
        if ids:
            rows = session.execute(
                select(Answer.task_id, Answer.text)
                .where(Answer.task_id.in_(ids), Answer.status == AnswerStatus.DONE)  # type: ignore[attr-defined]
                .order_by(Answer.task_id, Answer.position)
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
                .where(Task.id == task_id, Task.tagged_by.is_(None))  # type: ignore[arg-type,union-attr]
                .values(kind=kind, language=language)
            )

