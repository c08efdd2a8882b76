"""The weekly post is made once even when the process that posted it dies before recording it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.weekly import WeeklyPoster
from storage import leaderboard as lb_store
from tests.slack.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "C0GENERAL"
POSTER = """
import asyncio, sys
from slack_sdk.web.async_client import AsyncWebClient
from adapters.slack.surface import SlackSurface
from bot.weekly import WeeklyPoster
from storage.db import Store

async def main(url, api):
    surface = SlackSurface(AsyncWebClient(token="xoxb-test-token", base_url=api))
    print(await WeeklyPoster(Store(url), {"slack": surface}, "UTC", bootstrap=20).tick(), flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


def weekly_posts(h: Harness) -> list[str]:
    return [c.body.get("channel", "") for c in h.slack.calls_to("chat.postMessage") if c.body.get("metadata")]


async def test_a_poster_killed_between_posting_and_recording_is_adopted_not_reposted(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("subscribe")
    await h.settle()
    released = h.slack.hold_reply("chat.postMessage")  # Slack posts it; the poster never hears back
    poster = await asyncio.create_subprocess_exec(
        sys.executable, "-c", POSTER, h.arena.store.url, h.slack.api_url, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE)
    try:
        async def posted() -> None:
            while not weekly_posts(h):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(posted(), 60)
        poster.send_signal(signal.SIGKILL)  # dies with the post made and its id unrecorded
        await poster.wait()
    finally:
        if poster.returncode is None:
            poster.kill()
            await poster.wait()
        released.set()
    [row] = lb_store.posts(h.arena.store)
    assert row.message_id is None and row.channel == CHANNEL

    rerun = WeeklyPoster(h.arena.store, {"slack": h.adapter.surface}, "UTC", bootstrap=20,
                         claim_timeout=timedelta(0))  # the dead claim is taken over at once
    [result] = await rerun.tick()
    assert result.action == "adopted"
    assert weekly_posts(h) == [CHANNEL], "exactly one weekly post"
    [posted_message] = [m for m in h.slack.channel_messages(CHANNEL) if m.metadata]
    [row] = lb_store.posts(h.arena.store)
    assert row.message_id == posted_message.ts == result.message_id
    assert [r.action for r in await rerun.tick()] == ["skipped"]


async def test_a_claimer_that_died_before_posting_is_taken_over_and_posts(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("subscribe")
    await h.settle()
    dead = WeeklyPoster(h.arena.store, {"slack": h.adapter.surface}, "UTC")
    week = dead.iso_week(dead.due_slot(datetime.now(UTC)))
    assert lb_store.claim_post(h.arena.store, "slack", CHANNEL, week, "a-process-that-died")
    rerun = WeeklyPoster(h.arena.store, {"slack": h.adapter.surface}, "UTC", bootstrap=20,
                         claim_timeout=timedelta(0))
    [result] = await rerun.tick()
    assert result.action == "posted" and weekly_posts(h) == [CHANNEL]
    assert h.slack.calls_to("conversations.history"), "it looked for an earlier post first"
