"""The fake Slack refuses what the real Slack refuses (its published Web API spec, the later file
upload methods' documentation, Block Kit limits), answers as Slack does, and records it so that
the test that sent it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.violations import fail_on_violations
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def client_for(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


def button(**overrides: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": "codegen_run", "value": "1",
            "text": {"type": "plain_text", "text": "▶ Run", "emoji": True}} | overrides


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def refused(slack: FakeSlack, method: str, **kwargs: Any) -> tuple[str, list[str]]:
    """Call ``method``; return the Slack error it got and the problems the fake recorded."""
    with pytest.raises(SlackApiError) as caught:
        await getattr(client_for(slack), method.replace(".", "_"))(**kwargs)
    taken = slack.take_violations()
    assert len(taken) == 1 and taken[0].request == method
    return str(caught.value.response["error"]), list(taken[0].problems)


async def test_valid_message_with_every_block_kind_the_bot_uses_is_accepted(slack: FakeSlack) -> None:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Task", "emoji": True}}, section("hi"),
              {"type": "section", "fields": [{"type": "mrkdwn", "text": "*a*\n1"}]},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": "footer"}]},
              {"type": "actions", "elements": [button(style="primary")]}]
    response = await client_for(slack).chat_postMessage(channel="C1", text="t", blocks=blocks, unfurl_links=False,
                                                        unfurl_media=False)
    assert response["ok"]
    assert slack.violations == []


async def test_unfurl_links_on_chat_update_is_refused(slack: FakeSlack) -> None:
    posted = await client_for(slack).chat_postMessage(channel="C1", text="t")
    error, problems = await refused(slack, "chat.update", channel="C1", ts=posted["ts"], text="t2",
                                    unfurl_links=False, unfurl_media=False)
    assert error == "invalid_arguments"
    assert "chat.update takes no argument 'unfurl_links'" in problems
    assert slack.message("C1", posted["ts"]).text == "t", "a refused edit changes nothing"


async def test_unknown_argument_and_missing_required_argument_are_refused(slack: FakeSlack) -> None:
    error, problems = await refused(slack, "chat.postMessage", channel="C1", text="t", colour="red")
    assert error == "invalid_arguments" and "chat.postMessage takes no argument 'colour'" in problems
    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).api_call("chat.update", json={"channel": "C1", "text": "t"})
    assert caught.value.response["error"] == "invalid_arguments"
    assert "missing required field: ts" in slack.take_violations()[0].problems


async def test_unknown_method_is_refused(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).api_call("chat.postMesage", json={"channel": "C1", "text": "t"})
    assert caught.value.response["error"] == "unknown_method"
    assert [v.request for v in slack.take_violations()] == ["chat.postMesage"]


@pytest.mark.parametrize(("blocks", "says"), [
    ([section("x" * 3001)], "cannot exceed 3000"),
    ([section("x")] * 51, "no more than 50"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "cannot exceed 150"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "must be plain_text"),
    ([{"type": "actions", "elements": [button(text={"type": "plain_text", "text": "x" * 76})]}], "cannot exceed 75"),
    ([{"type": "actions", "elements": [button(action_id="a" * 256)]}], "cannot exceed 255"),
    ([{"type": "actions", "elements": [button(value="v" * 2001)]}], "cannot exceed 2000"),
    ([{"type": "actions", "elements": [button(), button()]}], "unique"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "cannot exceed 10"),
    ([section("")], "1 to 3000 characters"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "at most 2000"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "colour": "red"}], "colour"),
    ([{"type": "tapestry"}], "unknown block type"),
], ids=["section-3001", "51-blocks", "header-151", "header-mrkdwn", "button-text-76", "action_id-256",
        "value-2001", "duplicate-action_id", "context-11", "empty-section", "field-2001", "unknown-field", "unknown-block"])
async def test_block_kit_limits_are_enforced(slack: FakeSlack, blocks: list[dict[str, Any]], says: str) -> None:
    error, problems = await refused(slack, "chat.postMessage", channel="C1", text="t", blocks=blocks)
    assert error == "invalid_blocks"
    assert any(says in p for p in problems), problems
    assert slack.channel_messages("C1") == [], "nothing was posted"


async def test_message_text_over_40000_characters_is_refused(slack: FakeSlack) -> None:
    error, problems = await refused(slack, "chat.postMessage", channel="C1", text="x" * 40_001)
    assert error == "msg_too_long"


async def test_file_upload_methods_follow_their_documentation(slack: FakeSlack) -> None:
    error, problems = await refused(slack, "files.getUploadURLExternal", filename="a.txt", length=0)
    assert error == "invalid_arguments" and any("length" in p for p in problems)
    error, problems = await refused(slack, "files.completeUploadExternal", files=[{"title": "no id"}],
                                    channel_id="C1")
    assert error == "invalid_arguments" and "files[0] needs an id" in problems
    with pytest.raises(SlackApiError):
        await client_for(slack).api_call("files.completeUploadExternal", params={"channel_id": "C1"})
    assert "missing required field: files" in slack.take_violations()[0].problems


async def test_a_bad_response_url_message_is_refused(slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            slack.response_url(), json={"text": "t", "blocks": [section("x" * 3001)]}) as resp:
        assert resp.status == 400 and await resp.text() == "invalid_blocks"
    assert slack.responses == []
    assert [v.request for v in slack.take_violations()] == ["response_url"]


async def test_a_violation_left_unseen_fails_the_test(slack: FakeSlack) -> None:
    """What the autouse fixture does at teardown: any refused request fails the test."""
    with pytest.raises(SlackApiError):
        await client_for(slack).chat_postMessage(channel="C1", text="t", colour="red")
    with pytest.raises(pytest.fail.Exception, match=r"chat\.postMessage takes no argument 'colour'"):
        fail_on_violations()
    assert slack.violations == []
