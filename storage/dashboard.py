"""SQL for the dashboard's pages: the task list and its filters, a task's ratings and runs, a
model's recent answers. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlmodel import col

from storage.categories import category_clause
from storage.db import Store
from storage.models import Answer, Rating, Run, Task, TestResult
from storage.ratings import as_utc

PAGE_SIZE = 50
_LIVE = ~col(Rating.retracted)  # tombstones are never a rating


@dataclass(frozen=True)
class TaskFilter:
    """What the task list shows: text containing ``search`` (case-insensitive), one kind of work
    and/or language, one channel ("platform:channel")."""

    search: str | None = None
    kind: str | None = None
    language: str | None = None
    platform: str | None = None
    channel: str | None = None

    def clause(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = [category_clause(self.kind, self.language)]
        if self.search:
            pattern = "%" + self.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(func.lower(col(Task.text)).like(pattern, escape="\\"))
        if self.platform:
            clauses.append(col(Task.platform) == self.platform)
        if self.channel:
            clauses.append(col(Task.channel) == self.channel)
        return and_(*clauses) if len(clauses) > 1 else clauses[0]


@dataclass(frozen=True)
class TaskRow:
    """One line of the task list."""

    id: int
    platform: str
    channel: str
    requester: str
    text: str
    created_at: datetime
    status: str
    kind: str | None
    language: str | None
    answers: int
    ratings: int


def list_tasks(store: Store, where: TaskFilter, *, limit: int = PAGE_SIZE, offset: int = 0) -> tuple[list[TaskRow], int]:
    """The newest tasks matching ``where`` (a page of them) and how many match in all."""
    answers = (select(func.count(col(Answer.id))).where(col(Answer.task_id) == col(Task.id))
               .correlate(Task).scalar_subquery())
    ratings = (select(func.count(col(Rating.id))).join(Answer, col(Answer.id) == col(Rating.answer_id))
               .where(col(Answer.task_id) == col(Task.id), _LIVE).correlate(Task).scalar_subquery())
    query = (
        select(col(Task.id), col(Task.platform), col(Task.channel), col(Task.requester_name),
               col(Task.requester_id), col(Task.text), col(Task.created_at), col(Task.status), col(Task.kind),
               col(Task.language), answers, ratings)
        .where(where.clause())
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .limit(limit).offset(offset)
    )
    count = select(func.count(col(Task.id))).where(where.clause())
    with store.session() as session:
        rows = [TaskRow(int(r[0]), str(r[1]), str(r[2]), str(r[3] or r[4]), str(r[5]), as_utc(r[6]), str(r[7]),
                        r[8], r[9], int(r[10] or 0), int(r[11] or 0)) for r in session.execute(query)]
        total = int(session.execute(count).scalar() or 0)
    return rows, total


def channels(store: Store) -> list[tuple[str, str]]:
    """Every (platform, channel) that has tasks, for the channel filter."""
    query = select(col(Task.platform), col(Task.channel)).distinct().order_by(col(Task.platform), col(Task.channel))
    with store.session() as session:
        return [(str(p), str(c)) for p, c in session.execute(query)]


def ratings_for_task(store: Store, task_id: int) -> dict[int, list[Rating]]:
    """The current ratings of a task's answers, by answer id."""
    query = (select(Rating).join(Answer, col(Answer.id) == col(Rating.answer_id))
             .where(col(Answer.task_id) == task_id, _LIVE).order_by(col(Rating.id)))
    found: dict[int, list[Rating]] = {}
    with store.session() as session:
        for rating in session.scalars(query):
            found.setdefault(rating.answer_id, []).append(rating)
    return found


def runs_for_task(store: Store, task_id: int) -> dict[int, list[Run]]:
    """Every sandbox run of a task's answers, by answer id, oldest first."""
    query = (select(Run).join(Answer, col(Answer.id) == col(Run.answer_id))
             .where(col(Answer.task_id) == task_id).order_by(col(Run.id)))
    found: dict[int, list[Run]] = {}
    with store.session() as session:
        for run in session.scalars(query):
            found.setdefault(run.answer_id, []).append(run)
    return found


@dataclass(frozen=True)
class ModelAnswer:
    """One of a model's answers, as its page lists them."""

    task_id: int
    task_text: str
    created_at: datetime
    status: str
    latency_ms: float | None
    cost_usd: float | None
    test_status: str | None
    thumbs_up: int
    thumbs_total: int


def model_answers(
    store: Store, model: str, since: datetime | None, until: datetime, *, kind: str | None = None,
    language: str | None = None, limit: int = PAGE_SIZE,
) -> list[ModelAnswer]:
    """A model's newest answers to tasks created in [since, until), leaving out blind tasks not
    yet revealed (listing them under the model's name would reveal it)."""
    def thumbs(of: ColumnElement[int]) -> ColumnElement[int]:
        return (select(of).where(col(Rating.answer_id) == col(Answer.id), col(Rating.scale) == "thumbs", _LIVE)
                .correlate(Answer).scalar_subquery())

    query = (
        select(col(Task.id), col(Task.text), col(Task.created_at), col(Answer.status), col(Answer.latency_ms),
               col(Answer.cost_usd), col(TestResult.status), thumbs(func.sum(col(Rating.value))), thumbs(func.count(col(Rating.id))))
        .select_from(Answer)
        .join(Task, col(Task.id) == col(Answer.task_id))
        .outerjoin(TestResult, and_(col(TestResult.answer_id) == col(Answer.id), col(TestResult.kind) == "tests"))
        .where(col(Answer.contestant_id) == model, col(Task.created_at) < as_utc(until),
               category_clause(kind, language), or_(~col(Task.blind), col(Task.revealed)),
               col(Task.created_at) >= as_utc(since) if since is not None else true())
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .limit(limit)
    )
    with store.session() as session:
        return [ModelAnswer(int(r[0]), str(r[1]), as_utc(r[2]), str(r[3]), r[4], r[5], r[6], int(r[7] or 0),
                            int(r[8] or 0)) for r in session.execute(query)]
