"""Slack faults mid-stream, end to end (signed requests → Bolt → core → the fake Web API): the
connection to Slack dropped for 3 s, a 429 with Retry-After on chat.update, and Tier 3's budget
with several tasks at once. Whatever happens, every answer message ends final."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.edits import LimitsBudget
from storage.models import Answer
from tests.slack.conftest import Harness
from tests.slack.fake_slack import Call

CHANNEL = "C0GENERAL"
STREAM = "word " * 40 + "\n```python\nprint('ok')\n```"


def answers(h: Harness) -> list[Answer]:
    with h.arena.store.session() as s:
        return list(s.exec(select(Answer).order_by(Answer.id)))


async def wait_for_update(h: Harness, timeout: float = 10) -> None:
    """Until the first streaming edit reached Slack (the stream is under way)."""
    async with asyncio.timeout(timeout):
        while not h.slack.calls_to("chat.update"):
            await asyncio.sleep(0.02)


async def every_answer_final(h: Harness, expected: int, timeout: float) -> list[str]:
    """Wait (at most ``timeout`` s) until ``expected`` answers are done and their messages show the
    final answer; returns those messages' texts."""
    async with asyncio.timeout(timeout):
        while True:
            done = [a for a in answers(h) if a.status == "done" and a.message_id]
            texts = [h.slack.message(CHANNEL, a.message_id or "").all_text() for a in done]
            if len(done) == expected and all("first token" in t and "▌" not in t for t in texts):
                return texts
            await asyncio.sleep(0.1)


async def test_slack_unreachable_for_3_s_mid_stream_every_answer_still_ends_final(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text=STREAM, chunk_delay=0.03)
    h.models.script("beta", text=STREAM, chunk_delay=0.03)
    await h.command("write something while the network hiccups")
    await wait_for_update(h)
    h.slack.drop("chat.update", 3.0)  # every chat.update connection is cut for 3 s
    texts = await every_answer_final(h, expected=2, timeout=60)
    assert all("print('ok')" in t for t in texts)
    assert h.slack.responses == []  # nothing went wrong from the user's point of view


async def test_a_429_with_retry_after_mid_stream_is_honoured_and_answers_end_final(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text=STREAM, chunk_delay=0.03)
    h.models.script("beta", text=STREAM, chunk_delay=0.03)
    await h.command("write something while Slack is rate limiting")
    await wait_for_update(h)
    h.slack.rate_limit("chat.update", retry_after=3)
    await every_answer_final(h, expected=2, timeout=60)
    [limited] = h.slack.throttled
    # An edit of the other answer may already be on its way when the 429 is answered: it arrives
    # within moments. Every edit sent after the bot heard the 429 waits for Retry-After.
    in_flight = 0.25
    later = [c for c in h.slack.calls_to("chat.update") if c.at > limited.at + in_flight]
    assert later, "the answers were edited after the 429"
    assert later[0].at - limited.at >= 2.9  # no chat.update before Retry-After had passed


async def test_four_tasks_at_once_stay_inside_tier_3_and_every_answer_ends_final(harness: Harness) -> None:
    """Slack allows about 50 chat.update a minute per workspace (with the first 50 as a burst);
    4 tasks × 2 models streaming at once share SLACK_EDITS_PER_MINUTE (default 50), finals first."""
    h = harness
    surfaces = h.arena.services.surfaces
    surfaces.budget = LimitsBudget()  # as app.wiring builds it (in memory: one process)
    surfaces.add(h.adapter.surface)
    h.slack.tier("chat.update", per_minute=50, window=60)
    h.models.script("alpha", text=STREAM, chunk_delay=0.05)
    h.models.script("beta", text=STREAM, chunk_delay=0.05)
    for n in range(4):
        await h.command(f"write program number {n} please")
    texts = await every_answer_final(h, expected=8, timeout=90)
    assert all("print('ok')" in t for t in texts)
    throttled: list[Call] = h.slack.throttled
    assert len(throttled) <= 1


def test_slack_edits_per_minute_sets_the_shared_budget_of_a_worker(monkeypatch) -> None:
    from adapters.slack.serve import web_api_surface
    from bot.config import Settings

    monkeypatch.setenv("SLACK_EDITS_PER_MINUTE", "20")
    settings = Settings.from_env(env_file=None)
    surface = web_api_surface({"SLACK_BOT_TOKEN": "xoxb-test"}, edits_per_minute=settings.slack_edits_per_minute)
    rate = surface.edit_rate
    assert rate is not None and (rate.limit, rate.per_seconds) == (3, 12)  # any minute spans ≤ 6 windows: ≤ 18
