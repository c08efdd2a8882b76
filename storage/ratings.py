"""SQL for ratings: reaction upserts and retractions, the rows the ranking needs, and export rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from storage.db import Store
from storage.models import Answer, Rating, Task, utcnow


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime, as the tables store (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class RatedAnswer:
    """The answer a chat message holds, with what a rating needs to know about it."""

    answer_id: int
    task_id: int
    contestant_id: str


def find_answer(store: Store, platform: str, channel: str, message_id: str) -> RatedAnswer | None:
    """The answer posted as (platform, channel, message_id), if its task still exists."""
    query = (
        select(col(Answer.id), col(Answer.task_id), col(Answer.contestant_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .where(
            col(Task.platform) == platform,
            col(Answer.message_channel) == channel,
            col(Answer.message_id) == message_id,
        )
        .order_by(col(Answer.id))
        .limit(1)
    )
    with store.session() as session:
        row = session.execute(query).first()
    return None if row is None else RatedAnswer(int(row[0]), int(row[1]), str(row[2]))


def upsert_rating(
    store: Store, answer_id: int, rater_id: str, scale: str, value: int, emoji: str
) -> int | None:
    """Set a rater's rating of an answer on a scale (the latest wins); returns the previous value.

    One statement, relying on the (answer, rater, scale) unique key, so concurrent and duplicate
    events converge on one row on SQLite and PostgreSQL alike.
    """
    now = utcnow()
    insert = postgresql.insert if store.engine.dialect.name == "postgresql" else sqlite.insert
    values = dict(
        answer_id=answer_id, rater_id=rater_id, scale=scale, value=value, emoji=emoji,
        created_at=now, updated_at=now,
    )
    statement = insert(Rating).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["answer_id", "rater_id", "scale"],
        set_={"value": value, "emoji": emoji, "updated_at": now},
    )
    with store.session() as session:
        previous = session.execute(
            select(col(Rating.value)).where(
                col(Rating.answer_id) == answer_id, col(Rating.rater_id) == rater_id, col(Rating.scale) == scale
            )
        ).scalar()
        session.execute(statement)
    return None if previous is None else int(previous)


def retract_rating(
    store: Store, answer_id: int, rater_id: str, scale: str, emoji: str
) -> tuple[int | None, int | None]:
    """Delete the rating if it still comes from ``emoji``; returns (value before, value after).

    A removed reaction that is no longer the rater's current one (they reacted again since)
    leaves the current rating alone.
    """
    key = and_(col(Rating.answer_id) == answer_id, col(Rating.rater_id) == rater_id, col(Rating.scale) == scale)
    with store.session() as session:
        row = session.execute(select(col(Rating.value), col(Rating.emoji)).where(key)).first()
        if row is None:
            return None, None
        if row[1] != emoji:
            return int(row[0]), int(row[0])
        result = session.execute(delete(Rating).where(key, col(Rating.emoji) == emoji))
    return int(row[0]), (None if cast("CursorResult[Any]", result).rowcount else int(row[0]))


def answer_messages(store: Store, platform: str, since: datetime) -> list[tuple[int, str, str]]:
    """(answer id, channel, message id) of answers posted on ``platform`` for tasks created since."""
    query = (
        select(col(Answer.id), col(Answer.message_channel), col(Answer.message_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .where(col(Task.platform) == platform, col(Task.created_at) >= as_utc(since),
               col(Answer.message_id).is_not(None), col(Answer.message_channel).is_not(None))
        .order_by(col(Answer.id))
    )
    with store.session() as session:
        return [(int(r[0]), str(r[1]), str(r[2])) for r in session.execute(query).all()]


def ratings_of(store: Store, answer_id: int) -> list[Rating]:
    """Every current rating of one answer."""
    with store.session() as session:
        return list(session.scalars(select(Rating).where(col(Rating.answer_id) == answer_id).order_by(col(Rating.id))))


@dataclass(frozen=True)
class RankingRow:
    """One rating as the ranking sees it."""

    task_id: int
    rater_id: str
    scale: str
    contestant_id: str
    contestant_name: str
    value: int
    first: bool  # the answer was shown first among its task's answers


def ranking_rows(store: Store, since: datetime | None, until: datetime) -> list[RankingRow]:
    """Ratings of answers whose task was created in [since, until), as they stood at ``until``."""
    until_n = as_utc(until)
    first_pos = (
        select(col(Answer.task_id), func.min(col(Answer.position)).label("first"))
        .group_by(col(Answer.task_id))
        .subquery()
    )
    query = (
        select(
            col(Task.id), col(Rating.rater_id), col(Rating.scale), col(Answer.contestant_id), col(Answer.contestant_name),
            col(Rating.value), col(Answer.position) == first_pos.c.first,
        )
        .select_from(Rating)
        .join(Answer, col(Answer.id) == col(Rating.answer_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .join(first_pos, first_pos.c.task_id == Task.id)
        .where(col(Task.created_at) < until_n, col(Rating.updated_at) < until_n)
    )
    if since is not None:
        query = query.where(col(Task.created_at) >= as_utc(since))
    with store.session() as session:
        rows = session.execute(query).all()
    return [RankingRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4] or r[3]), int(r[5]), bool(r[6])) for r in rows]


def count_ratings(store: Store, since: datetime, until: datetime) -> int:
    """Ratings given (or last changed) in [since, until)."""
    query = select(func.count(col(Rating.id))).where(
        col(Rating.updated_at) >= as_utc(since), col(Rating.updated_at) < as_utc(until)
    )
    with store.session() as session:
        return int(session.execute(query).scalar() or 0)


TASK_COLUMNS = ("id", "platform", "channel", "requester_id", "text", "status", "blind", "created_at")
ANSWER_COLUMNS = (
    "id", "contestant_id", "contestant_name", "position", "label", "status", "language",
    "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "cost_usd", "finish_reason",
    "error", "text", "code",
)
RATING_COLUMNS = ("rater_id", "scale", "value", "emoji", "created_at", "updated_at")


def export_records(store: Store, since: datetime | None = None, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Tasks created since ``since`` (oldest first), each with its answers and their ratings."""
    last_id = 0
    while True:
        query = select(Task).where(col(Task.id) > last_id).order_by(col(Task.id)).limit(batch)
        if since is not None:
            query = query.where(col(Task.created_at) >= as_utc(since))
        with store.session() as session:
            tasks = list(session.scalars(query))
            if not tasks:
                return
            ids = [t.id for t in tasks]
            answers = list(session.scalars(select(Answer).where(col(Answer.task_id).in_(ids)).order_by(col(Answer.task_id), col(Answer.position), col(Answer.id))))
            ratings = list(session.scalars(select(Rating).where(col(Rating.answer_id).in_([a.id for a in answers])).order_by(col(Rating.id)))) if answers else []
        by_answer: dict[int | None, list[dict[str, Any]]] = {}
        for rating in ratings:
            by_answer.setdefault(rating.answer_id, []).append({c: getattr(rating, c) for c in RATING_COLUMNS})
        by_task: dict[int | None, list[dict[str, Any]]] = {}
        for answer in answers:
            record = {c: getattr(answer, c) for c in ANSWER_COLUMNS}
            record["ratings"] = by_answer.get(answer.id, [])
            by_task.setdefault(answer.task_id, []).append(record)
        for task in tasks:
            record = {c: getattr(task, c) for c in TASK_COLUMNS}
            record["answers"] = by_task.get(task.id, [])
            yield record
        last_id = tasks[-1].id or last_id
