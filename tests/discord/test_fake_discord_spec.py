"""The fake Discord refuses what the real Discord refuses (its published OpenAPI spec and the
documented limits the spec lacks), answers as Discord does (HTTP 400, code 50035), and records it
so that the test that sent it fails."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord
from tests.fakes.violations import fail_on_violations

MESSAGES = f"/channels/{CHANNEL_ID}/messages"


async def send(fake: FakeDiscord, method: str, path: str, body: Any = None,
               form: aiohttp.FormData | None = None) -> tuple[int, dict[str, Any]]:
    """One raw REST request to the fake; returns (status, JSON answer)."""
    async with aiohttp.ClientSession(headers={"Authorization": "Bot fake-token"}) as session, session.request(
            method, fake.api_base + path, json=body if form is None else None, data=form) as resp:
        return resp.status, await resp.json() if resp.content_type == "application/json" else {}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 3, "custom_id": "codegen:run:1"} | fields


async def refused(fake: FakeDiscord, body: dict[str, Any], path: str = MESSAGES,
                  method: str = "POST") -> tuple[dict[str, Any], list[str]]:
    """Send ``body``; assert Discord's Invalid Form Body answer; return its errors and the problems."""
    status, answer = await send(fake, method, path, body)
    assert status == 400 and answer["code"] == 50035 and answer["message"] == "Invalid Form Body"
    taken = fake.take_violations()
    assert len(taken) == 1 and taken[0].request == f"{method} {path}"
    return answer["errors"], list(taken[0].problems)


async def test_a_valid_message_with_a_labelled_button_and_an_embed_is_accepted(fake_discord: FakeDiscord) -> None:
    status, message = await send(fake_discord, "POST", MESSAGES, {
        "content": "x" * 2000, "allowed_mentions": {"parse": []},
        "embeds": [{"color": 1, "fields": [{"name": "latency", "value": "1.2 s", "inline": True}],
                    "footer": {"text": "f"}}],
        "components": [row(button(label="▶ Run"), button(custom_id="c2", emoji={"name": "🔁"}))]})
    assert status == 200 and message["content"] == "x" * 2000
    assert fake_discord.violations == []


async def test_a_button_without_label_or_emoji_is_refused(fake_discord: FakeDiscord) -> None:
    errors, problems = await refused(fake_discord, {"content": "hi", "components": [row(button())]})
    assert errors["components"]["0"]["components"]["0"]["_errors"][0]["code"] == \
        "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED"
    assert fake_discord.channel_messages(CHANNEL_ID) == [], "nothing was posted"


async def test_content_over_a_bots_2000_characters_is_refused(fake_discord: FakeDiscord) -> None:
    errors, problems = await refused(fake_discord, {"content": "x" * 2001})
    assert errors["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert "2000 or fewer" in problems[0]


@pytest.mark.parametrize(("body", "says"), [
    ({"embeds": [{"description": "d" * 3001}, {"description": "d" * 3000}]}, "maximum size of 6000"),
    ({"embeds": [{"description": "d" * 4097}]}, "4096 or fewer"),
    ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "1024 or fewer"),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "25 or fewer"),
    ({"embeds": [{"description": "d"}] * 11}, "10 or fewer"),
    ({"content": "c", "components": [row(button(label="b", custom_id=f"c{i}")) for i in range(6)]},
     "5 or fewer in length (action rows"),
    ({"content": "c", "components": [row(*(button(label="b", custom_id=f"c{i}") for i in range(6)))]},
     "5 or fewer"),
    ({"content": "c", "components": [row(button(label="x" * 81))]}, "80 or fewer"),
    ({"content": "c", "colour": "red"}, "'colour' was unexpected"),
    ({"content": 5}, "is not of type"),
], ids=["embeds-6001", "description-4097", "field-value-1025", "26-fields", "11-embeds", "6-action-rows",
        "6-buttons-in-a-row", "label-81", "unknown-field", "content-not-a-string"])
async def test_documented_message_limits_are_enforced(fake_discord: FakeDiscord, body: dict[str, Any],
                                                      says: str) -> None:
    errors, problems = await refused(fake_discord, body)
    assert any(says in p for p in problems), problems


async def test_thread_auto_archive_duration_must_be_one_discord_offers(fake_discord: FakeDiscord) -> None:
    status, message = await send(fake_discord, "POST", MESSAGES, {"content": "parent"})
    errors, problems = await refused(fake_discord, {"name": "t", "auto_archive_duration": 1441},
                                     f"{MESSAGES}/{message['id']}/threads")
    assert "1441 is not one of [60, 1440, 4320, 10080]" in problems[0]
    assert int(message["id"]) not in fake_discord.channels, "no thread was opened"


async def test_edits_are_checked_too(fake_discord: FakeDiscord) -> None:
    status, message = await send(fake_discord, "POST", MESSAGES, {"content": "v1"})
    await refused(fake_discord, {"content": "x" * 2001}, f"{MESSAGES}/{message['id']}", "PATCH")
    assert fake_discord.messages[int(message["id"])]["content"] == "v1"


async def test_multipart_payload_json_and_its_file_parts_are_checked(fake_discord: FakeDiscord) -> None:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"content": "x" * 2001, "attachments": [{"id": 0, "filename": "a.txt"}]}),
                   content_type="application/json")
    form.add_field("file", b"data", filename="a.txt")
    status, answer = await send(fake_discord, "POST", MESSAGES, form=form)
    assert status == 400 and answer["code"] == 50035
    problems = fake_discord.take_violations()[0].problems
    assert any("2000 or fewer" in p for p in problems) and any("'file'" in p for p in problems)


async def test_unknown_routes_and_methods_are_refused(fake_discord: FakeDiscord) -> None:
    assert (await send(fake_discord, "POST", f"/channels/{CHANNEL_ID}/mesages", {"content": "c"}))[0] == 404
    assert (await send(fake_discord, "PUT", MESSAGES, {"content": "c"}))[0] == 405
    assert (await send(fake_discord, "GET", "/channels/general"))[0] == 400, "a channel id is a snowflake"
    assert [v.request.split()[0] for v in fake_discord.take_violations()] == ["POST", "PUT", "GET"]


async def test_a_violation_left_unseen_fails_the_test(fake_discord: FakeDiscord) -> None:
    """What the autouse fixture does at teardown: any refused request fails the test."""
    await send(fake_discord, "POST", MESSAGES, {"content": "hi", "components": [row(button())]})
    with pytest.raises(pytest.fail.Exception, match="A button needs a label or an emoji"):
        fail_on_violations()
    assert fake_discord.violations == []
