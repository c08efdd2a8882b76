"""The weekly post: schedule, exactly once (also across two processes on PostgreSQL), reruns edit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import MemorySurface
from bot.weekly import WeeklyPoster
from storage.db import Store
from storage.leaderboard import claim_post, posts, set_subscription
from storage.models import LeaderboardPost
from storage.ratings import upsert_rating

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; ISO week 2026-W10


def _next_monday_9() -> datetime:
    """The first Monday 09:00 UTC after now, so ratings stored now are already in its window."""
    now = datetime.now(UTC)
    day = now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


SOON = _next_monday_9()
WEEK = WeeklyPoster.iso_week(SOON)
LAST_WEEK = WeeklyPoster.iso_week(SOON - timedelta(days=7))


def poster(store: Store, **surfaces: MemorySurface) -> WeeklyPoster:
    return WeeklyPoster(store, dict(surfaces), "UTC", bootstrap=50)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_schedule_and_iso_week(store: Store) -> None:
    p = poster(store)
    assert p.due_slot(MONDAY_9) == MONDAY_9
    assert p.due_slot(MONDAY_9 - timedelta(minutes=1)) == MONDAY_9 - timedelta(days=7)
    assert p.due_slot(MONDAY_9 + timedelta(days=3)) == MONDAY_9
    assert p.iso_week(p.due_slot(MONDAY_9)) == "2026-W10"
    assert p.next_slot(MONDAY_9) == MONDAY_9 + timedelta(days=7)
    berlin = WeeklyPoster(store, {}, "Europe/Berlin")
    # 08:30 UTC is 09:30 in Berlin (UTC+1 in March before DST): due; 07:30 UTC is 08:30: not yet.
    assert berlin.iso_week(berlin.due_slot(MONDAY_9 - timedelta(minutes=30))) == "2026-W10"
    assert berlin.iso_week(berlin.due_slot(MONDAY_9 - timedelta(minutes=90))) == "2026-W09"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_bad_settings_are_clear_errors(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        WeeklyPoster(store, {}, "Mars/Olympus")
    with pytest.raises(ValueError, match="weekday must be 0"):
        WeeklyPoster(store, {}, "UTC", weekday=7)


async def test_posts_once_to_subscribed_channels_and_rerun_edits(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        _, answers = seed.task(["a", "b"], created=SOON - timedelta(days=2))
        upsert_rating(store, answers[0].id, f"u{i}", "stars", 5, "five")
        upsert_rating(store, answers[1].id, f"u{i}", "stars", 2, "two")
    set_subscription(store, "slack", "C1", True)
    set_subscription(store, "slack", "C2", True)
    set_subscription(store, "slack", "C3", True)
    set_subscription(store, "slack", "C3", False)
    set_subscription(store, "discord", "D1", True)  # no discord surface in this process
    slack = MemorySurface(platform="slack")
    p = poster(store, slack=slack)

    before = await p.tick(SOON - timedelta(seconds=1))  # last week's slot is due: posted
    assert {r.channel for r in before if r.action == "posted"} == {"C1", "C2"}
    assert {r.iso_week for r in before} == {LAST_WEEK}
    results = await p.tick(SOON)
    assert [(r.channel, r.action, r.iso_week) for r in results] == [("C1", "posted", WEEK), ("C2", "posted", WEEK)]
    posted = slack.posts()
    assert len(posted) == 4 and {c.ref.channel for c in posted} == {"C1", "C2"}
    message = posted[-1].message
    assert message is not None and message.title.startswith(f"📊 Weekly leaderboard {WEEK}")  # type: ignore[union-attr]
    assert "```" in message.text and message.attachments[0].content.startswith(b"\x89PNG")

    again = await p.tick(SOON + timedelta(hours=5))
    assert [r.action for r in again] == ["skipped", "skipped"] and len(slack.posts()) == 4

    edited = await p.rerun(SOON + timedelta(hours=6))
    assert [r.action for r in edited] == ["edited", "edited"]
    assert len(slack.posts()) == 4
    assert [len(slack.edits_of(c.ref)) for c in posted[2:]] == [1, 1]
    rows = [r for r in posts(store) if r.iso_week == WEEK]
    assert sorted((r.channel, r.message_id) for r in rows) == sorted((c.ref.channel, c.ref.message_id) for c in posted[2:])


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
async def test_missed_week_is_posted_on_start(store: Store) -> None:
    set_subscription(store, "slack", "C1", True)
    slack = MemorySurface(platform="slack")
    wednesday = SOON + timedelta(days=2, hours=3)  # the bot was down on Monday
    results = await poster(store, slack=slack).tick(wednesday)
    assert [(r.action, r.iso_week) for r in results] == [("posted", WEEK)]
    assert "No rated comparisons" in slack.posts()[0].message.text  # type: ignore[union-attr]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
async def test_failed_post_is_retried_next_tick(store: Store) -> None:
    set_subscription(store, "slack", "C1", True)
    slack = MemorySurface(platform="slack", fail_posts_with="channel_not_found")
    p = poster(store, slack=slack)
    assert [r.action for r in await p.tick(SOON)] == ["failed"]
    assert posts(store) == []
    slack.fail_posts_with = None
    assert [r.action for r in await p.tick(SOON + timedelta(minutes=1))] == ["posted"]
    assert len(slack.posts()) == 1


async def test_stale_claim_is_taken_over_but_a_live_one_is_not(store: Store) -> None:
    set_subscription(store, "slack", "C1", True)
    set_subscription(store, "slack", "C2", True)
    assert claim_post(store, "slack", "C1", WEEK, "crashed-process")
    assert claim_post(store, "slack", "C2", WEEK, "busy-process")
    with store.session() as session:
        row = session.query(LeaderboardPost).filter_by(channel="C1").one()
        row.claimed_at = datetime.now(UTC) - timedelta(hours=1)
    slack = MemorySurface(platform="slack")
    results = await poster(store, slack=slack).tick(SOON)
    assert [(r.channel, r.action) for r in results] == [("C1", "posted"), ("C2", "skipped")]


async def test_two_processes_sharing_postgresql_post_once(pg_url: str) -> None:
    stores = [Store(pg_url), Store(pg_url)]
    channels = [f"C{i}" for i in range(6)]
    for channel in channels:
        set_subscription(stores[0], "slack", channel, True)
    surfaces = [MemorySurface(platform="slack"), MemorySurface(platform="slack")]
    posters = [WeeklyPoster(s, {"slack": surf}, "UTC", bootstrap=20) for s, surf in zip(stores, surfaces, strict=True)]
    try:
        for week in range(3):
            now = SOON + timedelta(days=7 * week, seconds=1)
            await asyncio.gather(*(p.tick(now) for p in posters), *(p.tick(now) for p in posters))
        all_posts = surfaces[0].posts() + surfaces[1].posts()
        assert len(all_posts) == 3 * len(channels)
        per_channel = sorted(c.ref.channel for c in all_posts)
        assert per_channel == sorted(channels * 3)
        rows = posts(stores[0])
        assert len(rows) == 3 * len(channels) and all(r.message_id for r in rows)
    finally:
        for s in stores:
            s.dispose()
