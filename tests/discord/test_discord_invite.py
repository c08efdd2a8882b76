"""The invite URL, the API base override and the command sync step."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import pytest

from adapters.discord.invite import application_id_from_token, invite_url
from adapters.discord.serve import DiscordConfigError, configure_api_base, start_discord, sync_commands
from app.cli import main
from bot.arena import Arena
from tests.discord.fake_discord import APP_ID, FakeDiscord

# Discord's documented permission bits
VIEW, SEND, THREAD_SEND, PUBLIC_THREADS = 1 << 10, 1 << 11, 1 << 38, 1 << 35
HISTORY, REACT, ATTACH, EMBED, APP_COMMANDS = 1 << 16, 1 << 6, 1 << 15, 1 << 14, 1 << 31


def test_invite_url_asks_for_exactly_the_permissions_the_bot_uses() -> None:
    url = urlparse(invite_url(123456789012345678))
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("discord.com", "/oauth2/authorize")
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    assert int(query["permissions"][0]) == (VIEW | SEND | THREAD_SEND | PUBLIC_THREADS | HISTORY | REACT
                                            | ATTACH | EMBED | APP_COMMANDS)


def test_application_id_comes_from_the_token_or_the_cli(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert application_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secretpart") == 123456789012345678
    assert application_id_from_token("not a token!") is None
    monkeypatch.setenv("DISCORD_TOKEN", "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secretpart")
    assert main(["discord-invite"]) == 0
    out = capsys.readouterr()
    assert out.out.strip().startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678")
    assert "secretpart" not in out.out + out.err


def test_invite_without_any_id_says_what_to_set(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_APPLICATION_ID", raising=False)
    assert main(["discord-invite"]) == 2
    assert "--client-id" in capsys.readouterr().err


def test_a_bad_api_base_is_refused_clearly() -> None:
    with pytest.raises(DiscordConfigError, match="DISCORD_API_BASE must be an http"):
        configure_api_base("discord.com/api")


async def test_sync_registers_the_codegen_group_against_the_configured_api(
        fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token")
    monkeypatch.setenv("DISCORD_API_BASE", fake_discord.api_base)
    assert await sync_commands() == ["codegen"]
    [put] = fake_discord.calls("PUT", f"/applications/{APP_ID}/commands")
    [group] = put.json
    assert group["name"] == "codegen"
    assert [o["name"] for o in group["options"]] == ["ask", "leaderboard", "tag", "subscribe", "unsubscribe", "blind",
                                                   "autorun", "dashboard", "settings", "models", "prompt", "budget",
                                                   "usage", "forget"]
    ask = group["options"][0]["options"][0]
    assert (ask["name"], ask["required"]) == ("task", True)


async def test_serve_connects_to_the_gateway_named_by_the_configured_api(
        fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch, arena: Arena) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token")
    monkeypatch.setenv("DISCORD_API_BASE", fake_discord.api_base)
    running = await start_discord(arena, arena.settings)
    try:
        await asyncio.wait_for(fake_discord.identified.wait(), timeout=10)
    finally:
        await running.close()
    assert [r.path for r in fake_discord.requests][:3] == ["/users/@me", "/oauth2/applications/@me",
                                                          "/gateway/bot"]
    assert fake_discord.identify_count == 1


def test_invite_prints_no_internal_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discord-invite", "--client-id", "123"]) == 0
    shown = capsys.readouterr()
    assert "design" not in (shown.out + shown.err).lower() and "not used yet" not in shown.out + shown.err
    assert "It asks for: view channel, send messages" in shown.err
