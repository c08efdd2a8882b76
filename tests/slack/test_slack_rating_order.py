"""Ratings come out as a replay of the reaction stream says, on PostgreSQL, where several
database threads (and, across replicas, several processes) could otherwise apply one rater's
events out of order."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator

from sqlmodel import select

from storage.models import Answer, Rating
from tests.slack.conftest import Harness
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"
SCALE = {"+1": ("thumbs", 1), "-1": ("thumbs", 0)} | {
    name: ("stars", i) for i, name in enumerate(("one", "two", "three", "four", "five"), start=1)
}


def replay(events: list[tuple[str, str, str, bool]]) -> dict[tuple[str, str, str], int]:
    """What the ratings must be: the documented rules applied to the stream in order.

    The latest reaction per (answer, rater, scale) counts; removing it retracts the rating;
    removing a reaction that is no longer the current one changes nothing."""
    state: dict[tuple[str, str, str], tuple[int, str]] = {}
    for message, rater, emoji, added in events:
        scale, value = SCALE[emoji]
        key = (message, rater, scale)
        if added:
            state[key] = (value, emoji)
        elif key in state and state[key][1] == emoji:
            del state[key]
    return {key: value for key, (value, _) in state.items()}


def stored(h: Harness) -> dict[tuple[str, str, str], int]:
    with h.arena.store.session() as s:
        rows = s.exec(select(Rating, Answer).join(Answer, Answer.id == Rating.answer_id)
                      .where(Rating.retracted == False)).all()  # noqa: E712
    return {(answer.message_id or "", rating.rater_id, rating.scale): rating.value for rating, answer in rows}


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    """CPU work in another thread of the bot's process, as a busy bot has (streaming, rendering):
    the database threads then get the interpreter in a less predictable order."""
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(i * i for i in range(2000))

    worker = threading.Thread(target=burn, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()


async def test_a_serial_stream_of_reactions_on_postgresql_comes_out_as_its_replay(pg_harness: Harness) -> None:
    h = pg_harness
    await h.command("write a linked list")
    await h.settle()
    with h.arena.store.session() as s:
        messages = [a.message_id or "" for a in s.exec(select(Answer))]
    for run in range(3):  # 3 × 200 events, each run with its own raters and stream
        with busy_process():
            rng = random.Random(100 + run)
            raters = [f"U0R{run}{i}" for i in range(2)]
            present: dict[tuple[str, str], set[str]] = {}  # reactions each rater has on each message
            events: list[tuple[str, str, str, bool]] = []
            for _ in range(200):
                message, rater = rng.choice(messages), rng.choice(raters)
                mine = present.setdefault((message, rater), set())
                if mine and rng.random() < 0.45:  # Slack only reports removing a reaction that is there
                    emoji, added = rng.choice(sorted(mine)), False
                    mine.discard(emoji)
                else:
                    emoji, added = rng.choice([e for e in SCALE if e not in mine] or list(SCALE)), True
                    mine.add(emoji)
                events.append((message, rater, emoji, added))
                status, _ = await h.event({  # acked before the next is sent: a strictly serial stream
                    "type": "reaction_added" if added else "reaction_removed", "user": rater, "reaction": emoji,
                    "item_user": BOT_USER_ID, "item": {"type": "message", "channel": CHANNEL, "ts": message},
                    "event_ts": f"{time.time():.6f}",
                })
                assert status == 200
            await h.settle()
            expected = replay(events)
            assert expected, "the stream leaves some ratings"
            assert {k: v for k, v in stored(h).items() if k[1] in raters} == expected, f"run {run}"
