"""Discord: a mention's attachments reach the models (no token sent for them), what does not is named in
the task's header, and `/codegen ask models:` picks the contestants (an unknown id: a private list)."""

from __future__ import annotations

from bot.arena import Arena
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import BOT_ID, CHANNEL_ID, FakeDiscord
from tests.discord.test_discord_flow import ALICE, ephemeral_followups, slash, tasks
from tests.fakes.openai_server import FakeOpenAI


async def test_mention_attachments_reach_the_models_and_skips_are_named(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    fake = fake_discord
    files = [fake.attachment("main.go", b"package main\n\nfunc main() {}\n", "text/plain; charset=utf-8"),
             fake.attachment("screenshot.png", b"\x89PNG", "image/png"),
             fake.attachment("huge.csv", b"a,b\n", "text/csv", size=5 * 1024 * 1024),
             fake.attachment("deleted.txt", b"")]
    del fake.cdn[files[3]["id"]]
    msg = fake.message_payload(CHANNEL_ID, ALICE, f"<@{BOT_ID}> add a flag parser", mentions=[fake.users[BOT_ID]],
                               attachments=files)
    await push(client, fake, "MESSAGE_CREATE", msg)

    prompts = [r.json["messages"][-1]["content"] for r in fake_openai.requests]
    assert prompts == ["add a flag parser\n\nAttached files:\n\n`main.go`:\n```go\npackage main\n\nfunc main() {}\n```"] * 2
    [header] = fake.channel_messages(int(msg["id"]))[:1]  # the thread opened on the message starts with it
    shown = header["content"] + str(header["embeds"])
    assert "skipped screenshot.png: images are not sent to models" in shown
    assert "skipped huge.csv: 5,120 KB, over the 200 KB a file may have" in shown
    assert "could not fetch deleted.txt: Discord no longer has it" in shown
    assert [aid for aid, _ in fake.cdn_requests] == [files[0]["id"], files[3]["id"]], "no image nor oversized download"
    assert [auth for _, auth in fake.cdn_requests] == [None, None], "the bot token never goes with a file download"


async def test_ask_models_option_picks_the_contestants(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    payload = fake_discord.interaction_payload(ALICE, slash("ask", task="reverse a string", models="BETA"))
    await push(client, fake_discord, "INTERACTION_CREATE", payload)
    assert [r.json["model"] for r in fake_openai.requests] == ["beta"]
    assert len(tasks(arena)) == 1

    unknown = fake_discord.interaction_payload(ALICE, slash("ask", task="reverse a string", models="beta,gpt5"))
    await push(client, fake_discord, "INTERACTION_CREATE", unknown)
    [reply] = ephemeral_followups(fake_discord, unknown["token"])
    assert "Unknown model id: gpt5. Models you can ask here: alpha, beta." in reply["content"]
    assert len(tasks(arena)) == 1 and len(fake_openai.requests) == 1, "nothing was asked"
