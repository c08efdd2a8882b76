"""Tests on a task from Discord: `/codegen ask task:… test:…` and `/codegen autorun mode:on`."""

from __future__ import annotations

import json

from bot.arena import Arena
from bot.sandbox.limits import Limits
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from storage import leaderboard as lb_store
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord, user_payload
from tests.discord.test_discord_flow import ephemeral_followups, slash
from tests.fakes.openai_server import FakeOpenAI

ALICE = user_payload(111, "alice")


async def test_the_test_option_is_run_against_every_answer(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    arena.sandbox = SandboxService(LocalBackend(Limits(wall_s=4.0, cpu_s=4)))
    fake_openai.script("alpha", text="```python\ndef is_even(n):\n    return n % 2 == 0\n```")
    fake_openai.script("beta", text="Check n % 2.")
    client = await start_client(arena)
    payload = fake_discord.interaction_payload(
        ALICE, slash("ask", task="write is_even(n)", test="is_even(4) and not is_even(3)"))

    await push(client, fake_discord, "INTERACTION_CREATE", payload)
    await arena.join()

    parent = fake_discord.channel_messages(CHANNEL_ID)[0]
    assert "write is_even(n)" in parent["content"] and "assert is_even(4) and not is_even(3)" in parent["content"]
    replies = fake_discord.channel_messages(parent["id"])
    footers = {json.dumps(m.get("embeds")) for m in replies}
    assert any("tests 1/1 passed" in f for f in footers)
    assert any("tests: did not run (no code)" in f for f in footers)
    assert all("is_even(3)" not in json.dumps(r.json) for r in fake_openai.requests)


async def test_autorun_mode_on(arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    on = fake_discord.interaction_payload(ALICE, slash("autorun", mode="on"))
    await push(client, fake_discord, "INTERACTION_CREATE", on)
    [reply] = ephemeral_followups(fake_discord, on["token"])
    assert "Smoke runs are on" in reply["content"]
    assert lb_store.autorun_enabled(arena.store, "discord", str(CHANNEL_ID))
