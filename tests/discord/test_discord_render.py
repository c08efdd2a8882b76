"""Long content: split on code-fence boundaries, attached beyond a few messages; edit throttling."""

from __future__ import annotations

import asyncio

import discord

from adapters.discord.render import CONTENT_LIMIT, render, split_content
from adapters.discord.surface import DiscordSurface
from bot.edits import Editor
from bot.messages import Action, ActionKind, Attachment, Field, Message, Tone
from bot.surface import Destination, SurfaceError
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord


def block(lang: str, lines: int, width: int = 60) -> str:
    return f"```{lang}\n" + "".join(f"{'x' * width}{i}\n" for i in range(lines)) + "```\n"


def balanced(piece: str) -> bool:
    return sum(1 for line in piece.splitlines() if line.lstrip().startswith("```")) % 2 == 0


def test_split_prefers_the_boundary_between_code_blocks() -> None:
    text = "Intro.\n\n" + block("python", 20) + "\nThen the tests:\n\n" + block("python", 20)
    assert len(text) > CONTENT_LIMIT
    pieces = split_content(text)
    assert len(pieces) == 2
    assert all(len(p) <= CONTENT_LIMIT and balanced(p) for p in pieces)
    assert pieces[0].count("x" * 60) == 20 and pieces[1].count("x" * 60) == 20  # no block was cut
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_a_block_too_long_for_one_message_is_closed_and_reopened_with_its_language() -> None:
    text = block("rust", 80)
    pieces = split_content(text)
    assert len(pieces) >= 3
    assert all(len(p) <= CONTENT_LIMIT and balanced(p) for p in pieces)
    assert all(p.startswith("```rust\n") for p in pieces)
    rejoined = "".join(line for p in pieces for line in p.splitlines(keepends=True)
                       if not line.startswith("```"))
    assert rejoined.count("x" * 60) == 80


def test_very_long_final_text_is_attached_as_a_file() -> None:
    text = block("python", 200)
    final = render(Message(text=text, tone=Tone.SUCCESS))
    assert len(final.pieces) == 1 and len(final.pieces[0]) <= CONTENT_LIMIT
    assert final.files == [("answer.md", text.encode())]
    streaming = render(Message(text=text, tone=Tone.PROGRESS))
    assert not streaming.files and all(len(p) <= CONTENT_LIMIT for p in streaming.pieces)


async def test_surface_spreads_long_answers_over_messages_and_never_pings(
        fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        surface = DiscordSurface(client)
        text = "@everyone look\n\n" + block("python", 20) + "\nMore:\n\n" + block("python", 20)
        ref = await surface.post(Destination(str(CHANNEL_ID)), Message(
            text=text, footer="1.2 s · 42 tokens", actions=[Action(ActionKind.RUN, 7, "▶ Run")],
            attachments=[Attachment("out.txt", b"hello")]))
        posted = fake_discord.channel_messages(CHANNEL_ID)
        assert len(posted) == 2 and posted[0]["id"] == ref.message_id
        assert posted[0]["embeds"][0]["footer"]["text"] == "1.2 s · 42 tokens"
        assert posted[0]["components"][0]["components"][0]["custom_id"] == "codegen:run:7"
        assert [f for r in fake_discord.requests for f in r.files] == [("out.txt", b"hello")]

        await surface.edit(ref, Message(text="short now"))
        posted = fake_discord.channel_messages(CHANNEL_ID)
        assert posted[0]["content"] == "short now" and posted[0]["components"] == []
        assert posted[1]["content"] == "\u200b"  # the continuation is emptied, not left stale
        assert all(b["allowed_mentions"]["parse"] == [] for b in fake_discord.bodies())
    finally:
        await client.close()


async def test_rapid_edits_of_one_message_coalesce_to_the_latest(fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        editor = Editor(DiscordSurface(client), interval=0.3)
        ref = await editor.surface.post(Destination(str(CHANNEL_ID)), Message(text="…"))
        current = {"v": 0}
        live = editor.live(ref, lambda: Message(text=f"version {current['v']}", tone=Tone.PROGRESS))
        for i in range(10):
            current["v"] = i
            live.touch()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        edits = fake_discord.calls("PATCH", f"/channels/{CHANNEL_ID}/messages/{ref.message_id}")
        assert len(edits) == 1 and edits[0].json["content"] == "version 9"
    finally:
        await client.close()


async def test_archived_thread_gives_a_specific_error(fake_discord: FakeDiscord) -> None:
    thread_id = fake_discord.new_id()
    fake_discord.channels[thread_id] = {"id": str(thread_id), "type": 11,
                                        "thread_metadata": {"archived": True}}
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        surface = DiscordSurface(client)
        try:
            await surface.post(Destination(str(CHANNEL_ID), str(thread_id)), Message(text="hi"))
        except SurfaceError as exc:
            assert "archived" in exc.user_message
        else:
            raise AssertionError("posting in an archived thread should fail")
    finally:
        await client.close()


async def test_buttons_carry_their_labels(fake_discord: FakeDiscord) -> None:
    """Run, Retry and Reveal go out labelled (a blank button is refused by Discord)."""
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        surface = DiscordSurface(client)
        actions = [Action(ActionKind.RUN, 7, "▶ Run"), Action(ActionKind.RETRY, 8, "🔁 Retry"),
                   Action(ActionKind.REVEAL, 9, "🔓 Reveal models")]
        ref = await surface.post(Destination(str(CHANNEL_ID)), Message(text="answer", actions=actions))
        buttons = fake_discord.channel_messages(CHANNEL_ID)[0]["components"][0]["components"]
        assert [(b["label"], b["custom_id"]) for b in buttons] == [
            ("▶ Run", "codegen:run:7"), ("🔁 Retry", "codegen:retry:8"), ("🔓 Reveal models", "codegen:reveal:9")]
        await surface.edit(ref, Message(text="edited", actions=actions[:1]))
        edited = fake_discord.channel_messages(CHANNEL_ID)[0]["components"][0]["components"]
        assert [b["label"] for b in edited] == ["▶ Run"]
    finally:
        await client.close()


async def test_the_largest_message_the_core_can_make_is_one_discord_accepts(fake_discord: FakeDiscord) -> None:
    """Every part at or past its limit: Discord takes the post and the edit (the fake refuses what
    Discord would: 6,000 embed characters at most), every field still shows, the text is attached."""
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        surface = DiscordSurface(client)
        text = block("python", 3000)
        message = Message(title="T" * 300, text=text, fields=[Field("n" * 300, "v" * 2000) for _ in range(30)],
                          footer="f" * 3000, tone=Tone.SUCCESS,
                          actions=[Action(ActionKind.RUN, 1, "L" * 200), Action(ActionKind.RETRY, 2, "")])
        ref = await surface.post(Destination(str(CHANNEL_ID)), message)
        await surface.edit(ref, message)
        posted = fake_discord.channel_messages(CHANNEL_ID)[0]
        embed = posted["embeds"][0]
        shown = sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) + len(embed["footer"]["text"])
        assert len(embed["fields"]) == 25 and all(f["value"].startswith("vvv") for f in embed["fields"])
        assert shown <= 6000
        assert [b["label"] for b in posted["components"][0]["components"]] == ["L" * 80, "Retry"]
        assert [f for r in fake_discord.requests for f in r.files][0] == ("answer.md", f"**{'T' * 300}**\n{text}".encode())
    finally:
        await client.close()
