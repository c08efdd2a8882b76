"""SQL for the leaderboard: channel settings (subscription, blind), weekly-post claims, side stats."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.categories import category_clause
from storage.db import Store
from storage.models import Answer, ChannelSettings, LeaderboardPost, Rating, Run, Task, utcnow
from storage.ratings import as_utc

# --- channel settings -------------------------------------------------------------------------


def _set_channel(store: Store, platform: str, channel: str, **values: object) -> None:
    now = utcnow()
    insert = store.upsert
    statement = insert(ChannelSettings).values(platform=platform, channel=channel, updated_at=now, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "channel"], set_={**values, "updated_at": now}
    )
    with store.session() as session:
        session.execute(statement)


def channel_settings(store: Store, platform: str, channel: str) -> ChannelSettings | None:
    """The channel's settings row, if it has one."""
    with store.session() as session:
        return session.scalars(
            select(ChannelSettings).where(
                col(ChannelSettings.platform) == platform, col(ChannelSettings.channel) == channel
            )
        ).first()


def set_subscription(store: Store, platform: str, channel: str, subscribed: bool) -> None:
    """(Un)subscribe a channel from the weekly leaderboard post."""
    _set_channel(store, platform, channel, subscribed=subscribed)


def subscribed_channels(store: Store, platforms: list[str] | None = None) -> list[tuple[str, str]]:
    """(platform, channel) of every subscribed channel, optionally only on ``platforms``."""
    query = select(col(ChannelSettings.platform), col(ChannelSettings.channel)).where(col(ChannelSettings.subscribed))
    if platforms is not None:
        query = query.where(col(ChannelSettings.platform).in_(platforms))
    with store.session() as session:
        return [(str(p), str(c)) for p, c in session.execute(query.order_by(col(ChannelSettings.id)))]


def is_blind(store: Store, platform: str, channel: str) -> bool:
    """Whether answers in this channel are shown as "Answer A/B/…" until revealed."""
    settings = channel_settings(store, platform, channel)
    return bool(settings and settings.blind)


def set_blind(store: Store, platform: str, channel: str, blind: bool) -> None:
    """Turn blind mode on or off for a channel."""
    _set_channel(store, platform, channel, blind=blind)


def set_autorun(store: Store, platform: str, channel: str, enabled: bool) -> None:
    """Turn smoke runs (every answer's code run once when it finishes) on or off for a channel."""
    _set_channel(store, platform, channel, autorun=enabled)


def autorun_enabled(store: Store, platform: str, channel: str) -> bool:
    """Whether answers in this channel are smoke-run (tasks without tests). Asked after every
    answer: one prepared Core statement, no ORM session."""
    with store.engine.connect() as conn:
        return bool(conn.execute(_autorun(), {"platform": platform, "channel": channel}).scalar())


@functools.cache
def _autorun() -> Select[tuple[bool]]:
    return select(col(ChannelSettings.autorun)).where(
        col(ChannelSettings.platform) == bindparam("platform"), col(ChannelSettings.channel) == bindparam("channel"))


def blind_tasks_due(store: Store, created_before: datetime) -> list[int]:
    """Ids of blind, unrevealed tasks created before ``created_before`` (due for a reveal)."""
    query = (
        select(col(Task.id))
        .where(col(Task.blind), ~col(Task.revealed), col(Task.created_at) < as_utc(created_before))
        .order_by(col(Task.id))
    )
    with store.session() as session:
        return [x for x in session.scalars(query) if x is not None]


def mark_revealed(store: Store, task_id: int) -> bool:
    """Mark a blind task revealed; False if it already was (so only one reveal is posted)."""
    with store.session() as session:
        result = session.execute(
            update(Task).where(col(Task.id) == task_id, ~col(Task.revealed)).values(revealed=True)
        )
        return bool(cast("CursorResult[Any]", result).rowcount)


# --- weekly posts --------------------------------------------------------------------------------


def claim_post(store: Store, platform: str, channel: str, iso_week: str, owner: str) -> bool:
    """Claim the week's post for a channel; False when a row already exists (someone else has it)."""
    try:
        with store.session() as session:
            session.add(LeaderboardPost(platform=platform, channel=channel, iso_week=iso_week, claimed_by=owner))
    except IntegrityError:
        return False
    return True


def get_post(store: Store, platform: str, channel: str, iso_week: str) -> LeaderboardPost | None:
    """The week's post row for a channel, if claimed."""
    with store.session() as session:
        return session.scalars(
            select(LeaderboardPost).where(
                col(LeaderboardPost.platform) == platform,
                col(LeaderboardPost.channel) == channel,
                col(LeaderboardPost.iso_week) == iso_week,
            )
        ).first()


def take_over_stale_claim(
    store: Store, platform: str, channel: str, iso_week: str, owner: str, claimed_before: datetime
) -> bool:
    """Take over a claim whose holder never posted (crashed) and that is older than the cutoff."""
    with store.session() as session:
        result = session.execute(
            update(LeaderboardPost)
            .where(
                col(LeaderboardPost.platform) == platform,
                col(LeaderboardPost.channel) == channel,
                col(LeaderboardPost.iso_week) == iso_week,
                col(LeaderboardPost.message_id).is_(None),
                col(LeaderboardPost.claimed_at) < as_utc(claimed_before),
            )
            .values(claimed_by=owner, claimed_at=utcnow())
        )
        return bool(cast("CursorResult[Any]", result).rowcount)


def record_posted(store: Store, platform: str, channel: str, iso_week: str, message_id: str) -> None:
    """Store the posted message's id on the week's row."""
    with store.session() as session:
        session.execute(
            update(LeaderboardPost)
            .where(
                col(LeaderboardPost.platform) == platform,
                col(LeaderboardPost.channel) == channel,
                col(LeaderboardPost.iso_week) == iso_week,
            )
            .values(message_id=message_id, posted_at=utcnow())
        )


def release_claim(store: Store, platform: str, channel: str, iso_week: str, owner: str) -> None:
    """Drop our claim after a failed post so the next tick retries."""
    with store.session() as session:
        session.execute(
            delete(LeaderboardPost).where(
                col(LeaderboardPost.platform) == platform,
                col(LeaderboardPost.channel) == channel,
                col(LeaderboardPost.iso_week) == iso_week,
                col(LeaderboardPost.claimed_by) == owner,
                col(LeaderboardPost.message_id).is_(None),
            )
        )


def posts(store: Store) -> list[LeaderboardPost]:
    """Every weekly-post row (for tests and the CLI)."""
    with store.session() as session:
        return list(session.scalars(select(LeaderboardPost).order_by(col(LeaderboardPost.id))))


# --- side statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerStat:
    """One answer's model, status, latency, cost and time to first token."""

    contestant_id: str
    contestant_name: str
    status: str
    latency_ms: float | None
    cost_usd: float | None
    ttft_ms: float | None = None


def answer_stats(
    store: Store, since: datetime | None, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> list[AnswerStat]:
    """Answers of tasks created in [since, until) (of one category when ``kind``/``language`` are set)."""
    query = (
        select(Answer.contestant_id, Answer.contestant_name, Answer.status, Answer.latency_ms, Answer.cost_usd,
               Answer.ttft_ms)
        .join(Task, Task.id == Answer.task_id)
        .where(Task.created_at < as_utc(until), category_clause(kind, language, followups))
    )
    if since is not None:
        query = query.where(col(Task.created_at) >= as_utc(since))
    with store.session() as session:
        return [AnswerStat(str(a), str(b or a), str(c), d, e, f) for a, b, c, d, e, f in session.execute(query)]


def run_stats(
    store: Store, since: datetime | None, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> dict[str, tuple[int, int]]:
    """Per model: (successful runs, runs) of answers of tasks created in [since, until).

    A run succeeds when it exited 0 without timing out, exceeding memory or failing to start.
    """
    ok = (col(Run.exit_code) == 0) & ~col(Run.timed_out) & ~col(Run.memory_exceeded) & col(Run.error).is_(None)
    query = (
        select(col(Answer.contestant_id), func.count(col(Run.id)), func.sum(case((ok, 1), else_=0)))
        .select_from(Run)
        .join(Answer, Answer.id == Run.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .where(Task.created_at < as_utc(until), category_clause(kind, language, followups))
        .group_by(Answer.contestant_id)
    )
    if since is not None:
        query = query.where(col(Task.created_at) >= as_utc(since))
    with store.session() as session:
        return {str(m): (int(good or 0), int(total)) for m, total, good in session.execute(query)}


def count_tasks(
    store: Store, since: datetime, until: datetime, *, kind: str | None = None, language: str | None = None,
    followups: bool = False,
) -> int:
    """Tasks created in [since, until) (of one category when ``kind``/``language`` are set)."""
    query = select(func.count(Task.id)).where(
        Task.created_at >= as_utc(since), Task.created_at < as_utc(until), category_clause(kind, language, followups)
    )
    with store.session() as session:
        return int(session.execute(query).scalar() or 0)


def rated_categories(store: Store, since: datetime | None, until: datetime) -> tuple[set[str], set[str]]:
    """(kinds, languages) of tasks created in [since, until) that have at least one rating."""
    query: Any = (
        select(Task.kind, Task.language).distinct()
        .join(Answer, Answer.task_id == Task.id)
        .join(Rating, Rating.answer_id == Answer.id)
        .where(Task.created_at < as_utc(until))
    )
    if since is not None:
        query = query.where(Task.created_at >= as_utc(since))
    kinds: set[str] = set()
    languages: set[str] = set()
    with store.session() as session:
        for kind, language in session.execute(query):
            if kind:
                kinds.add(str(kind))
            if language:
                languages.add(str(language))
    return kinds, languages
