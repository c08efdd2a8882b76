"""SQL for ratings: reaction upserts and retractions, the rows the ranking needs, and export rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from storage.categories import category_clause
from storage.db import Store
from storage.models import Answer, Rating, Task, TestResult, utcnow
from storage.retention import pseudonymiser


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
    """The answer posted as (platform, channel, message_id), if its task still exists and has not
    expired.

    A platform's message id names one message, but a surface that reused ids across runs (the
    console before its ids were made unique) left several answers with the same reference: the
    newest is the message on screen, so it is the one a rating means.
    """
    query = (
        select(col(Answer.id), col(Answer.task_id), col(Answer.contestant_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .where(
            col(Task.platform) == platform,
            col(Answer.message_channel) == channel,
            col(Answer.message_id) == message_id,
            col(Task.expired_at).is_(None),  # an expired task's ratings are final
        )
        .order_by(Answer.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    with store.session() as session:
        row = session.execute(query).first()
    return None if row is None else RatedAnswer(int(row[0]), int(row[1]), str(row[2]))


def upsert_rating(
    store: Store, answer_id: int, rater_id: str, scale: str, value: int, emoji: str, at_us: int | None = None
) -> tuple[int | None, int | None]:
    """Set a rater's rating of an answer on a scale, as of event time ``at_us`` (µs since the
    epoch; None: now); returns the rating (before, after).

    One conditional upsert on the (answer, rater, scale) key: it only lands when no newer event
    (rating or retraction) for that key is stored, so a late, older event changes nothing, on any
    replica and any backend, and a duplicate delivery is a no-op.
    """
    now = utcnow()
    at_us = now_us() if at_us is None else at_us
    statement = store.upsert(Rating).values(
        answer_id=answer_id, rater_id=rater_id, scale=scale, value=value, emoji=emoji,
        created_at=now, updated_at=now, event_us=at_us, retracted=False,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["answer_id", "rater_id", "scale"],
        set_={"value": value, "emoji": emoji, "updated_at": now, "event_us": at_us, "retracted": False},
        where=_RATING.c.event_us < at_us,
    )
    return _apply(store, statement, answer_id, rater_id, scale)


def retract_rating(
    store: Store, answer_id: int, rater_id: str, scale: str, value: int, emoji: str, at_us: int | None = None
) -> tuple[int | None, int | None]:
    """Retract the rating if it still comes from ``emoji`` (a removed reaction that is no longer the
    rater's current one leaves the current rating alone); returns the rating (before, after).

    A retraction leaves a tombstone row (``retracted``, with its event time), also when the rating
    it retracts has not arrived yet, so an older "add" delivered late cannot bring it back.
    """
    now = utcnow()
    at_us = now_us() if at_us is None else at_us
    statement = store.upsert(Rating).values(
        answer_id=answer_id, rater_id=rater_id, scale=scale, value=value, emoji=emoji,
        created_at=now, updated_at=now, event_us=at_us, retracted=True,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["answer_id", "rater_id", "scale"],
        set_={"retracted": True, "updated_at": now, "event_us": at_us},
        where=(_RATING.c.event_us < at_us) & (_RATING.c.emoji == emoji),
    )
    return _apply(store, statement, answer_id, rater_id, scale)


def now_us() -> int:
    """Now in µs since the epoch: the event time of a reaction whose platform gives none."""
    return time.time_ns() // 1000


_RATING = Rating.__table__  # type: ignore[attr-defined]
_LIVE = ~Rating.retracted  # type: ignore[operator]  # tombstones are never a rating


def _apply(store: Store, statement: Any, answer_id: int, rater_id: str, scale: str) -> tuple[int | None, int | None]:
    current = select(Rating.value).where(
        Rating.answer_id == answer_id, Rating.rater_id == rater_id, Rating.scale == scale, _LIVE
    )
    with store.engine.begin() as conn:
        before = conn.execute(current).scalar()
        conn.execute(statement)
        after = conn.execute(current).scalar()
    return (None if before is None else int(before)), (None if after is None else int(after))


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
        return list(session.scalars(select(Rating).where(Rating.answer_id == answer_id, _LIVE).order_by(Rating.id)))


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
    length: int = 0  # characters in the rated answer's text


def ranking_rows(
    store: Store, since: datetime | None, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> list[RankingRow]:
    """Ratings of answers whose task was created in [since, until), as they stood at ``until``,
    each rater named by pseudonym (see storage.retention).

    ``kind`` / ``language`` keep only tasks of that category.
    """
    until_n = as_utc(until)
    first_pos = (
        select(col(Answer.task_id), func.min(col(Answer.position)).label("first"))
        .group_by(col(Answer.task_id))
        .subquery()
    )
    query = (
        select(
            Task.id, Rating.rater_id, Rating.scale, Answer.contestant_id, Answer.contestant_name,
            Rating.value, Answer.position == first_pos.c.first,
            func.coalesce(Answer.chars, func.length(Answer.text)),
        )
        .select_from(Rating)
        .join(Answer, col(Answer.id) == col(Rating.answer_id))
        .join(Task, col(Task.id) == col(Answer.task_id))
        .join(first_pos, first_pos.c.task_id == Task.id)
        .where(Task.created_at < until_n, Rating.updated_at < until_n, _LIVE, category_clause(kind, language, followups))
    )
    if since is not None:
        query = query.where(col(Task.created_at) >= as_utc(since))
    with store.session() as session:
        rows = session.execute(query).all()
    rater = pseudonymiser(store)  # expired ratings keep only the pseudonym: group every rating by it
    return [RankingRow(int(r[0]), rater(str(r[1])), str(r[2]), str(r[3]), str(r[4] or r[3]), int(r[5]), bool(r[6]),
                       int(r[7] or 0)) for r in rows]


def count_ratings(
    store: Store, since: datetime, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> int:
    """Ratings given (or last changed) in [since, until) (on tasks of one category, when set)."""
    query = select(func.count(Rating.id)).where(
        Rating.updated_at >= as_utc(since), Rating.updated_at < as_utc(until), _LIVE
    )
    if kind is not None or language is not None or followups:
        query = (query.join(Answer, Answer.id == Rating.answer_id).join(Task, Task.id == Answer.task_id)
                 .where(category_clause(kind, language, followups)))
    with store.session() as session:
        return int(session.execute(query).scalar() or 0)


TASK_COLUMNS = ("id", "platform", "channel", "requester_id", "text", "status", "blind", "created_at", "root_id", "turn")
ANSWER_COLUMNS = (
    "id", "contestant_id", "contestant_name", "position", "label", "status", "language",
    "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "cost_usd", "finish_reason",
    "error", "text", "code", "context_dropped",
)
RATING_COLUMNS = ("rater_id", "scale", "value", "emoji", "created_at", "updated_at")
# An answer's automatic run (against its task's tests, or a smoke run), exported as tests_<column>.
TEST_COLUMNS = ("kind", "status", "passed", "failed", "errors", "total", "duration_ms")


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
            answers = list(session.scalars(select(Answer).where(Answer.task_id.in_(ids)).order_by(Answer.task_id, Answer.position, Answer.id)))  # type: ignore[union-attr]
            ratings = list(session.scalars(select(Rating).where(Rating.answer_id.in_([a.id for a in answers]), _LIVE).order_by(Rating.id))) if answers else []  # type: ignore[union-attr]
            tested = {r.answer_id: r for r in session.scalars(select(TestResult).where(TestResult.answer_id.in_([a.id for a in answers])))} if answers else {}  # type: ignore[attr-defined]
        by_answer: dict[int, list[dict[str, Any]]] = {}
        for rating in ratings:
            by_answer.setdefault(rating.answer_id, []).append({c: getattr(rating, c) for c in RATING_COLUMNS})
        by_task: dict[int | None, list[dict[str, Any]]] = {}
        for answer in answers:
            record = {c: getattr(answer, c) for c in ANSWER_COLUMNS}
            result = tested.get(answer.id)  # type: ignore[arg-type]
            record.update({f"tests_{c}": getattr(result, c) if result else None for c in TEST_COLUMNS})
            record["ratings"] = by_answer.get(answer.id, [])  # type: ignore[arg-type]
            by_task.setdefault(answer.task_id, []).append(record)
        for task in tasks:
            record = {c: getattr(task, c) for c in TASK_COLUMNS}
            record["answers"] = by_task.get(task.id, [])
            yield record
        last_id = tasks[-1].id or last_id
