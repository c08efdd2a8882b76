"""Discord: channel controls (issue 12) through /codegen subcommands on the fake gateway and REST API."""

from __future__ import annotations

from typing import Any

from bot.arena import Arena
from storage.controls import settings_history
from storage.leaderboard import channel_settings
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord, user_payload
from tests.discord.test_discord_flow import ALICE, ephemeral_followups, mention, slash
from tests.fakes.openai_server import FakeOpenAI

BOB = user_payload(222, "bob")
MEMBER = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use application commands


def command(name: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    """/codegen <name> with typed options (3 string, 5 boolean, 10 number)."""
    return {"id": "5000", "name": "codegen", "type": 1, "guild_id": None,
            "options": [{"name": name, "type": 1, "options": options}]}


async def reply(client: Any, fake: FakeDiscord, user: dict[str, Any], data: dict[str, Any],
                member_perms: int | None = None) -> str:
    payload = fake.interaction_payload(user, data, member_perms=member_perms)
    await push(client, fake, "INTERACTION_CREATE", payload)
    return "\n".join(r.get("content") or "" for r in ephemeral_followups(fake, payload["token"]))


async def test_without_manage_server_a_member_is_refused_and_nothing_changes(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    for data in (slash("models", action="use", ids="alpha"), slash("prompt", action="set", text="use pytest"),
                 command("budget", [{"name": "daily", "type": 10, "value": 5}]), slash("blind", mode="on"),
                 slash("subscribe")):
        text = await reply(client, fake_discord, BOB, data, member_perms=MEMBER)
        assert "Only admins can change this channel" in text and "Nothing was changed" in text
    assert channel_settings(arena.store, "discord", str(CHANNEL_ID)) is None or settings_history(
        arena.store, "discord", str(CHANNEL_ID)) == []
    assert "the whole roster" in await reply(client, fake_discord, BOB, slash("models"), member_perms=MEMBER)


async def test_a_member_with_manage_server_shapes_the_channel(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    unknown = await reply(client, fake_discord, ALICE, slash("models", action="use", ids="gamma"))
    assert "Unknown model id(s): gamma. Known: alpha, beta" in unknown
    assert "New tasks in this channel ask beta" in await reply(
        client, fake_discord, ALICE, slash("models", action="use", ids="beta"))
    await reply(client, fake_discord, ALICE, slash("prompt", action="set", text="we use Python 3.12 and pytest"))
    budget = await reply(client, fake_discord, ALICE, command("budget", [
        {"name": "daily", "type": 10, "value": 5}, {"name": "monthly", "type": 10, "value": 50}]))
    assert "$0.00 of $5.00 spent today (this channel)" in budget and "of $50.00 spent this month" in budget

    await mention(client, fake_discord, "write a stack class")
    [request] = [r.json for r in fake_openai.requests]
    assert request["model"] == "beta"
    assert request["messages"][0]["content"].endswith("we use Python 3.12 and pytest")

    shown = await reply(client, fake_discord, BOB, slash("settings"), member_perms=MEMBER)
    assert "alice · models: all → beta" in shown
    assert "alice · daily budget: default → $5.00" in shown and "alice · monthly budget: default → $50.00" in shown

    usage = await reply(client, fake_discord, BOB, slash("usage", window="30d"), member_perms=MEMBER)
    assert "Usage, last 30 days" in usage and "\nBETA              1        1 " in usage
    off = await reply(client, fake_discord, ALICE, command("budget", [{"name": "off", "type": 5, "value": True}]))
    assert "no daily cap" in off
