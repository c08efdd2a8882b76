"""Reactions become ratings: scales, latest-wins, retraction, unknown input, duplicates, races."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.events import ReactionChanged, User
from bot.ratings import apply_reaction, parse_reaction
from storage.db import Store
from storage.ratings import ratings_of


def react(message_id: str, emoji: str, user: str = "U1", added: bool = True, channel: str = "C1",
          platform: str = "slack") -> ReactionChanged:
    return ReactionChanged(platform=platform, user=User(user), channel=channel, message_id=message_id,
                           emoji=emoji, added=added)


@pytest.mark.parametrize(
    ("emoji", "expected"),
    [
        ("+1", ("thumbs", 1)), ("thumbsup", ("thumbs", 1)), ("+1::skin-tone-2", ("thumbs", 1)),
        ("\N{THUMBS UP SIGN}", ("thumbs", 1)), ("\N{THUMBS UP SIGN}\U0001F3FD", ("thumbs", 1)),
        ("-1", ("thumbs", 0)), ("thumbsdown", ("thumbs", 0)), ("\N{THUMBS DOWN SIGN}", ("thumbs", 0)),
        ("one", ("stars", 1)), ("three", ("stars", 3)), ("five", ("stars", 5)),
        ("1\ufe0f\u20e3", ("stars", 1)), ("5\ufe0f\u20e3", ("stars", 5)), ("4\u20e3", ("stars", 4)),
        ("heart", None), ("six", None), ("", None), ("thumbsup_all", None),
    ],
)
def test_parse_reaction(emoji: str, expected: tuple[str, int] | None) -> None:
    assert parse_reaction(emoji) == expected


async def test_thumbs_and_stars_are_separate_ratings(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    await apply_reaction(store, react(mid, "+1"))
    await apply_reaction(store, react(mid, "four"))
    got = {(r.scale, r.value) for r in ratings_of(store, answers[0].id)}
    assert got == {("thumbs", 1), ("stars", 4)}


async def test_latest_reaction_counts_and_removal_retracts(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    first = await apply_reaction(store, react(mid, "two"))
    assert first is not None and first.value == 2 and first.previous is None
    change = await apply_reaction(store, react(mid, "5\ufe0f\u20e3"))
    assert change is not None and (change.previous, change.value) == (2, 5)
    assert [(r.scale, r.value) for r in ratings_of(store, answers[0].id)] == [("stars", 5)]
    # Removing the superseded reaction keeps the current rating.
    kept = await apply_reaction(store, react(mid, "two", added=False))
    assert kept is not None and kept.value == 5 and not kept.changed
    assert [r.value for r in ratings_of(store, answers[0].id)] == [5]
    gone = await apply_reaction(store, react(mid, "five", added=False))
    assert gone is not None and (gone.previous, gone.value) == (5, None)
    assert ratings_of(store, answers[0].id) == []


async def test_slack_alias_removal_retracts(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[1].message_id
    await apply_reaction(store, react(mid, "thumbsup::skin-tone-3"))
    await apply_reaction(store, react(mid, "+1", added=False))
    assert ratings_of(store, answers[1].id) == []


async def test_raters_are_separate(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    await apply_reaction(store, react(mid, "+1", user="U1"))
    await apply_reaction(store, react(mid, "-1", user="U2"))
    assert sorted((r.rater_id, r.value) for r in ratings_of(store, answers[0].id)) == [("U1", 1), ("U2", 0)]


async def test_unknown_emoji_and_unknown_message_ignored(store: Store, seed, caplog) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    assert await apply_reaction(store, react(answers[0].message_id, "tada")) is None
    caplog.set_level(logging.INFO, logger="bot.ratings")
    assert await apply_reaction(store, react("999.999", "+1")) is None
    assert "matches no stored answer" in caplog.text
    # Same message id, other channel or other platform: not our answer.
    assert await apply_reaction(store, react(answers[0].message_id, "+1", channel="C2")) is None
    assert await apply_reaction(store, react(answers[0].message_id, "+1", platform="discord")) is None
    assert ratings_of(store, answers[0].id) == []


async def test_duplicate_and_concurrent_events_leave_one_rating(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    await asyncio.gather(*(apply_reaction(store, react(mid, "three")) for _ in range(8)))
    assert [(r.scale, r.value) for r in ratings_of(store, answers[0].id)] == [("stars", 3)]
    await asyncio.gather(*(apply_reaction(store, react(mid, "three", added=False)) for _ in range(4)))
    assert ratings_of(store, answers[0].id) == []


def at(event: ReactionChanged, us: int) -> ReactionChanged:
    """The same event, stamped with platform time ``us``."""
    from dataclasses import replace

    return replace(event, occurred_us=us)


async def test_a_late_older_event_never_overwrites_a_newer_one(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    """As when two replicas get one rater's events and apply them in the wrong order."""
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    await apply_reaction(store, at(react(mid, "four"), 2_000))
    await apply_reaction(store, at(react(mid, "two"), 1_000))  # older: arrives late, changes nothing
    assert [(r.scale, r.value) for r in ratings_of(store, answers[0].id)] == [("stars", 4)]


async def test_a_retraction_leaves_a_tombstone_an_older_add_cannot_resurrect(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    from storage.ratings import count_ratings, export_records, ranking_rows

    _, answers = seed.task(["a", "b"])
    mid, other = answers[0].message_id, answers[1].message_id
    await apply_reaction(store, at(react(mid, "+1"), 1_000))
    await apply_reaction(store, at(react(mid, "+1", added=False), 3_000))
    await apply_reaction(store, at(react(mid, "+1"), 2_000))  # the add before the removal, delivered last
    assert ratings_of(store, answers[0].id) == []
    # a removal that overtakes its own add leaves the add nothing to bring back, too
    await apply_reaction(store, at(react(other, "-1", added=False), 5_000))
    await apply_reaction(store, at(react(other, "-1"), 4_000))
    assert ratings_of(store, answers[1].id) == []
    # the leaderboard, the counts and the export see no rating (tombstones are no ratings)
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    assert count_ratings(store, now - timedelta(days=1), now + timedelta(days=1)) == 0
    assert all(a["ratings"] == [] for t in export_records(store) for a in t["answers"])
    assert ranking_rows(store, None, now + timedelta(days=1)) == []
    # and a newer add after the tombstone counts again
    await apply_reaction(store, at(react(mid, "-1"), 6_000))
    assert [(r.scale, r.value) for r in ratings_of(store, answers[0].id)] == [("thumbs", 0)]


async def test_a_duplicate_delivery_counts_once(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    mid = answers[0].message_id
    add, remove = at(react(mid, "five"), 1_000), at(react(mid, "five", added=False), 2_000)
    for event in (add, remove, add):  # the add delivered again after its removal: still retracted
        await apply_reaction(store, event)
    assert ratings_of(store, answers[0].id) == []
