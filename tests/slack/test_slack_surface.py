"""SlackSurface against the fake Web API: threading, 429 backoff, errors, files (the edit
schedule is bot.edits.Editor's, tested in test_slack_edits.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.surface import INVITE_HELP, SlackSurface
from bot.messages import Action, ActionKind, Attachment, Field, Message, Tone
from bot.surface import Destination, SurfaceError
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def surface_for(slack: FakeSlack) -> SlackSurface:
    return SlackSurface(AsyncWebClient(token="xoxb-test", base_url=slack.api_url))


async def test_post_and_thread_replies(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    parent = await surface.post(Destination("C1"), Message(title="Task", text="write *fizzbuzz*"))
    thread = await surface.open_thread(parent, "fizzbuzz")
    assert thread == Destination("C1", parent.message_id)
    reply = await surface.post(thread, Message(text="answer"))
    assert reply.thread == parent.message_id
    assert [m.ts for m in slack.thread("C1", parent.message_id)] == [reply.message_id]
    assert "write _fizzbuzz_" in slack.message("C1", parent.message_id).all_text()


async def test_a_rate_limited_update_is_handed_to_the_caller_with_its_retry_after(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    ref = await surface.post(Destination("C1"), Message(text="…"))
    slack.rate_limit("chat.update", retry_after=7)
    with pytest.raises(SurfaceError) as info:
        await surface.edit(ref, Message(text="final"))
    assert info.value.retry_after == 7 and info.value.transient
    assert len(slack.calls_to("chat.update")) == 1  # not waited out here: the editor schedules edits


async def test_a_dropped_connection_is_a_transient_surface_error(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    ref = await surface.post(Destination("C1"), Message(text="…"))
    slack.drop("chat.update", 60)  # the connection is cut: aiohttp raises ServerDisconnectedError
    with pytest.raises(SurfaceError) as info:
        await surface.edit(ref, Message(text="final"))
    assert info.value.transient and "couldn't reach Slack" in info.value.user_message


async def test_persistent_rate_limit_becomes_a_clear_error(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    surface.max_retries = 1
    slack.rate_limit("chat.postMessage", retry_after=0.05, times=5)
    with pytest.raises(SurfaceError) as info:
        await surface.post(Destination("C1"), Message(text="x"))
    assert "rate-limiting" in info.value.user_message
    assert info.value.retry_after is not None


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
async def test_not_in_channel_explains_how_to_invite(slack: FakeSlack, error: str) -> None:
    slack.fail("chat.postMessage", error)
    with pytest.raises(SurfaceError) as info:
        await surface_for(slack).post(Destination("C9"), Message(text="x"))
    assert info.value.user_message == INVITE_HELP
    assert "/invite @Codegen Arena" in info.value.user_message


async def test_buttons_carry_answer_id(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    ref = await surface.post(Destination("C1"), Message(text="done", actions=[
        Action(ActionKind.RUN, 41, "▶ Run"), Action(ActionKind.RETRY, 41, "🔁 Retry")]))
    blocks = slack.message("C1", ref.message_id).blocks
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("codegen_run", "41"), ("codegen_retry", "41")]


async def test_long_answer_split_and_attached_never_cut(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    code = "\n".join(f"print({i})  # {'x' * 60}" for i in range(3000))
    text = f"Here you go:\n```python\n{code}\n```\nThat's all."
    ref = await surface.post(Destination("C1", "1.0"), Message(text=text, tone=Tone.SUCCESS))
    msg = slack.message("C1", ref.message_id)
    assert len(msg.blocks) <= 50
    assert all(b["text"]["text"].count("```") == 2 for b in msg.blocks if b["type"] == "section"
               and b["text"]["text"].startswith("```"))
    assert "attached as a file" in msg.all_text()
    assert len(slack.files) == 1 and slack.files[0].thread_ts == "1.0"
    assert slack.files[0].content.decode() == text


async def test_msg_too_long_is_retried_with_file(slack: FakeSlack) -> None:
    slack.fail("chat.update", "msg_too_long")
    surface = surface_for(slack)
    ref = await surface.post(Destination("C1", "1.0"), Message(text="short"))
    await surface.edit(ref, Message(title="A · Model", text="long " * 500, tone=Tone.SUCCESS))
    msg = slack.message("C1", ref.message_id)
    assert "attached as a file" in msg.all_text()
    assert [f.filename for f in slack.files] == ["answer.md"]
    assert ("long " * 500).strip() in slack.files[0].content.decode()


async def test_attachments_uploaded_once(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    chart = Attachment("chart.png", b"\x89PNG fake", title="Leaderboard")
    ref = await surface.post(Destination("C1"), Message(text="board", attachments=[chart]))
    await surface.edit(ref, Message(text="board v2", attachments=[chart]))
    assert [(f.filename, f.content, f.channel) for f in slack.files] == [("chart.png", b"\x89PNG fake", "C1")]


async def test_ephemeral_and_home(slack: FakeSlack) -> None:
    surface = surface_for(slack)
    await surface.ephemeral("C1", "U1", Message(text="only you <!here>"), thread="1.0")
    assert slack.ephemerals[0]["user"] == "U1" and slack.ephemerals[0]["thread_ts"] == "1.0"
    assert "<!here>" not in str(slack.ephemerals[0])
    await surface.publish_home("U1", Message(title="Leaderboard", text="```\n1. gpt\n```"))
    assert slack.views[0]["user_id"] == "U1" and slack.views[0]["view"]["type"] == "home"


async def test_only_post_message_is_sent_unfurl_flags(slack: FakeSlack) -> None:
    """Links in answers never unfurl; chat.update and chat.postEphemeral do not take the flags."""
    surface = surface_for(slack)
    ref = await surface.post(Destination("C1"), Message(text="see https://example.com"))
    await surface.edit(ref, Message(text="see https://example.com/2"))
    await surface.ephemeral("C1", "U1", Message(text="only you"))
    posted = slack.calls_to("chat.postMessage")[0].body
    assert posted["unfurl_links"] is False and posted["unfurl_media"] is False
    for call in slack.calls_to("chat.update") + slack.calls_to("chat.postEphemeral"):
        assert "unfurl_links" not in call.body and "unfurl_media" not in call.body
    assert slack.message("C1", ref.message_id).text == "see https://example.com/2"


async def test_the_largest_message_the_core_can_make_is_one_slack_accepts(slack: FakeSlack) -> None:
    """Everything at or past its limit, and text that grows when escaped: Slack takes every call
    (the fake refuses what Slack would), nothing is lost, every button has a label."""
    surface = surface_for(slack)
    text = "intro & <b>\n```python\n" + "x = '&<>@everyone'\n" * 3000 + "```\n" + "word " * 20000
    message = Message(title="&" * 300, text=text, fields=[Field("&" * 300, "<" * 3000) for _ in range(30)],
                      footer="&" * 5000, tone=Tone.SUCCESS,
                      actions=[Action(ActionKind.RUN, 1, "L" * 200), Action(ActionKind.RETRY, 2, "")])
    ref = await surface.post(Destination("C1", "1.0"), message)
    await surface.edit(ref, message)
    await surface.ephemeral("C1", "U1", message)
    await surface.publish_home("U1", message)
    blocks = slack.message("C1", ref.message_id).blocks
    fields = [f for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert len(fields) == 20 and all(f["text"].startswith("*&amp;") and len(f["text"]) <= 2000 for f in fields)
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["L" * 74 + "…", "Retry"]
    assert [f.content.decode() for f in slack.files] == [text]
