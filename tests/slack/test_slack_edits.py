"""The one edit throttle (bot.edits.Editor) over the real SlackSurface and the fake Web API:
spacing, finals first and retried until they land, ordering, and Tier 3's budget."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.surface import SlackSurface
from bot.edits import Editor, LimitsBudget
from bot.messages import Message, Tone
from bot.surface import Destination, EditRate
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def editor_for(slack: FakeSlack, interval: float = 0.0, rate: EditRate | None = None) -> Editor:
    surface = SlackSurface(AsyncWebClient(token="xoxb-test", base_url=slack.api_url))
    return Editor(surface, interval=interval, budget=LimitsBudget() if rate else None, rate=rate)


async def test_progress_edits_are_coalesced_and_spaced(slack: FakeSlack) -> None:
    editor = editor_for(slack, interval=0.2)
    ref = await editor.surface.post(Destination("C1"), Message(text="…"))
    version = itertools.count()
    current = {"v": 0}
    live = editor.live(ref, lambda: Message(text=f"v{current['v']}", tone=Tone.PROGRESS))
    for _ in range(20):  # a fast stream: 20 changes in 0.2 s
        current["v"] = next(version)
        live.touch()
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) <= 3
    assert slack.message("C1", ref.message_id).text == "v19"  # the newest content landed
    times = [c.at for c in updates]
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(times))


async def test_a_final_edit_is_not_held_back_by_the_interval(slack: FakeSlack) -> None:
    editor = editor_for(slack, interval=30)
    ref = await editor.surface.post(Destination("C1"), Message(text="…", tone=Tone.PROGRESS))
    live = editor.live(ref, lambda: Message(text="writing", tone=Tone.PROGRESS))
    live.touch()
    assert await asyncio.wait_for(editor.final(ref, Message(text="done", tone=Tone.SUCCESS)), timeout=5)
    assert slack.message("C1", ref.message_id).text == "done"


async def test_a_rate_limited_final_edit_waits_out_retry_after_and_lands(slack: FakeSlack) -> None:
    editor = editor_for(slack)
    ref = await editor.surface.post(Destination("C1"), Message(text="…"))
    slack.rate_limit("chat.update", retry_after=1, times=2)
    assert await editor.final(ref, Message(text="final"))
    updates = slack.calls_to("chat.update")
    assert len(updates) == 3
    assert updates[1].at - updates[0].at >= 0.9 and updates[2].at - updates[1].at >= 0.9
    assert slack.message("C1", ref.message_id).text == "final"


async def test_a_final_edit_survives_a_dropped_connection(slack: FakeSlack) -> None:
    editor = editor_for(slack)
    ref = await editor.surface.post(Destination("C1"), Message(text="…"))
    slack.drop("chat.update", 3.0)  # Slack unreachable for 3 s
    assert await asyncio.wait_for(editor.final(ref, Message(text="final")), timeout=30)
    assert slack.message("C1", ref.message_id).text == "final"


async def test_a_final_edit_of_a_deleted_message_gives_up_at_once(slack: FakeSlack) -> None:
    editor = editor_for(slack)
    ref = await editor.surface.post(Destination("C1"), Message(text="…"))
    slack.fail("chat.update", "message_not_found")
    assert not await asyncio.wait_for(editor.final(ref, Message(text="final")), timeout=5)


async def test_a_slow_progress_edit_cannot_overwrite_the_final_answer(slack: FakeSlack) -> None:
    editor = editor_for(slack)
    ref = await editor.surface.post(Destination("C1"), Message(text="…", tone=Tone.PROGRESS))
    slack.slow("chat.update", 0.4)  # Slack applies this progress edit late
    live = editor.live(ref, lambda: Message(text="writing ▌", tone=Tone.PROGRESS))
    live.touch()
    await asyncio.sleep(0.1)
    assert await editor.final(ref, Message(text="final answer", tone=Tone.SUCCESS))
    await asyncio.sleep(0.5)
    assert slack.message("C1", ref.message_id).text == "final answer"


async def test_eight_streams_in_one_channel_stay_inside_tier_3_and_every_final_lands(slack: FakeSlack) -> None:
    """Slack allows about 50 chat.update a minute per workspace; the editor shares one budget
    among the live messages (round robin) and sends finals first, so a channel with 8 answers
    streaming sets off no 429 storm."""
    slack.tier("chat.update", per_minute=20, window=4.0)  # Tier 3 scaled down to keep the test short
    # fixed 1 s windows of 4: any 4 s span covers at most 5 of them, so at most 20 edits
    editor = editor_for(slack, interval=0.05, rate=EditRate(limit=4, per_seconds=1))
    refs = [await editor.surface.post(Destination("C1", "1.0"), Message(text="…")) for _ in range(8)]
    lives = [editor.live(ref, lambda i=i: Message(text=f"answer {i} ▌", tone=Tone.PROGRESS)) for i, ref in enumerate(refs)]
    def progress_updates() -> list[str]:
        return [c.body["ts"] for c in slack.calls_to("chat.update") if "▌" in c.body.get("text", "")]

    for _ in range(200):  # every answer changing all the time, until each has had two progress edits
        for live in lives:
            live.touch()
        await asyncio.sleep(0.05)
        if all(progress_updates().count(ref.message_id) >= 2 for ref in refs):
            break
    finals = await asyncio.gather(*(editor.final(ref, Message(text=f"answer {i} done"))
                                    for i, ref in enumerate(refs)))
    assert all(finals)
    assert [slack.message("C1", ref.message_id).text for ref in refs] == [f"answer {i} done" for i in range(8)]
    assert len(slack.throttled) == 0  # the budget kept every edit inside the tier
    first_round = progress_updates()[:8]
    assert sorted(first_round) == sorted(ref.message_id for ref in refs)  # round robin: all 8 before any twice
