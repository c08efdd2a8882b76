"""SQL for test runs: each answer's stored result, answers still waiting for one, leaderboard rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import col

from storage.categories import category_clause
from storage.db import Store
from storage.models import Answer, AnswerStatus, ChannelSettings, Task, TestResult, utcnow
from storage.ratings import as_utc


def needs_run(store: Store, answer_id: int) -> bool:
    """Whether a finished answer has a test or smoke run to do or to show (one cheap statement:
    it runs for every answer, and most tasks have no tests)."""
    autorun = select(col(ChannelSettings.autorun)).where(
        col(ChannelSettings.platform) == col(Task.platform), col(ChannelSettings.channel) == col(Task.channel),
    ).scalar_subquery()
    query = (
        select(col(Task.tests).is_not(None), autorun, col(TestResult.id), col(TestResult.shown_at))
        .select_from(Answer)
        .join(Task, col(Task.id) == col(Answer.task_id))
        .outerjoin(TestResult, col(TestResult.answer_id) == col(Answer.id))
        .where(col(Answer.id) == answer_id, col(Answer.status) == AnswerStatus.DONE)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return False
    has_tests, autorun_on, result_id, shown_at = row
    return (result_id is not None and shown_at is None) or (result_id is None and bool(has_tests or autorun_on))


def record_once(store: Store, answer_id: int, values: dict[str, Any]) -> TestResult:
    """Store an answer's result unless it has one already; returns the stored row (first wins)."""
    insert = store.upsert
    statement = insert(TestResult).values(answer_id=answer_id, created_at=utcnow(), **values)
    with store.session() as session:
        session.execute(statement.on_conflict_do_nothing(index_elements=["answer_id"]))
        return session.scalars(select(TestResult).where(col(TestResult.answer_id) == answer_id)).one()


def get_result(store: Store, answer_id: int) -> TestResult | None:
    """An answer's stored result, if it has one."""
    with store.session() as session:
        return session.scalars(select(TestResult).where(col(TestResult.answer_id) == answer_id)).first()


def results_for_task(store: Store, task_id: int) -> dict[int, TestResult]:
    """The stored results of a task's answers, by answer id."""
    query = (
        select(TestResult)
        .join(Answer, col(Answer.id) == col(TestResult.answer_id))
        .where(col(Answer.task_id) == task_id)
    )
    with store.session() as session:
        return {row.answer_id: row for row in session.scalars(query)}


def mark_shown(store: Store, answer_id: int) -> None:
    """Note that the answer's footer now shows its result."""
    with store.session() as session:
        session.execute(
            update(TestResult).where(col(TestResult.answer_id) == answer_id).values(shown_at=utcnow())
        )


def waiting(store: Store, platform: str, since: datetime) -> list[int]:
    """Finished answers on ``platform`` (tasks created since ``since``) whose footer should show a
    test or smoke run and does not yet: no result, or one never shown (a crash in between)."""
    autorun = select(col(ChannelSettings.id)).where(  # smoke runs on since before the answer finished
        col(ChannelSettings.platform) == col(Task.platform), col(ChannelSettings.channel) == col(Task.channel),
        col(ChannelSettings.autorun), col(ChannelSettings.updated_at) <= col(Answer.finished_at),
    ).exists()
    query = (
        select(col(Answer.id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .outerjoin(TestResult, col(TestResult.answer_id) == col(Answer.id))
        .where(
            col(Task.platform) == platform, col(Task.created_at) >= as_utc(since),
            col(Answer.status) == AnswerStatus.DONE, col(Answer.message_id).is_not(None),
            or_(col(Task.tests).is_not(None), autorun),
            or_(col(TestResult.id).is_(None), col(TestResult.shown_at).is_(None)),
        )
        .order_by(col(Answer.id))
    )
    with store.session() as session:
        return [int(x) for x in session.scalars(query) if x is not None]


@dataclass(frozen=True)
class ResultRow:
    """One answer's test result as the leaderboard sees it."""

    task_id: int
    contestant_id: str
    contestant_name: str
    status: str


def result_rows(
    store: Store, since: datetime | None, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> list[ResultRow]:
    """Results of runs against tests for answers of tasks created in [since, until) (of one
    category when ``kind``/``language`` are set; only follow-up turns when ``followups``)."""
    query = (
        select(col(Task.id), col(Answer.contestant_id), col(Answer.contestant_name), col(TestResult.status))
        .select_from(TestResult)
        .join(Answer, col(Answer.id) == col(TestResult.answer_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .where(col(TestResult.kind) == "tests", col(Task.created_at) < as_utc(until), category_clause(kind, language, followups))
    )
    if since is not None:
        query = query.where(col(Task.created_at) >= as_utc(since))
    with store.session() as session:
        return [ResultRow(int(t), str(m), str(n or m), str(s)) for t, m, n, s in session.execute(query)]
