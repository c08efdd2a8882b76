"""Discord: `/codegen dashboard` answers with an ephemeral, signed link that opens `codegen-bot web`'s dashboard."""

from __future__ import annotations

import re

import aiohttp

from adapters.dashboard.app import build_dashboard
from app.web import WebServer, build_web_app
from bot.arena import Arena
from bot.dashboard_access import DashboardAccess
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_discord_flow import ALICE, ephemeral_followups, mention, slash


async def test_the_dashboard_command_gives_a_private_link_that_opens_the_dashboard(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    # what `codegen-bot web` serves, over the same store and settings (and so the same signing key)
    app = build_web_app(mounts={"": build_dashboard(arena.store, DashboardAccess.from_settings(arena.settings))})
    async with WebServer(app, "127.0.0.1", 0) as server:
        arena.settings.dashboard_url = f"http://127.0.0.1:{server.port}"
        client = await start_client(arena)
        await mention(client, fake_discord, "write a queue class")
        payload = fake_discord.interaction_payload(ALICE, slash("dashboard"))
        await push(client, fake_discord, "INTERACTION_CREATE", payload)
        [reply] = ephemeral_followups(fake_discord, payload["token"])
        text = str(reply)
        found = re.search(r"(http://[^\s'\"]+/\?link=[\w.-]+)", text)
        assert found is not None, reply
        assert "works for 24 h" in text
        async with aiohttp.ClientSession() as stranger, stranger.get(arena.settings.dashboard_url + "/") as response:
            assert response.status == 401
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(found.group(1)) as response:
                assert response.status == 200
            async with browser.get(arena.settings.dashboard_url + "/tasks?q=queue") as response:
                page = await response.text()
                assert response.status == 200 and "write a queue class" in page and "1 task" in page
