"""Follow-ups in Discord (issue 11): a mention in a task's thread, or a reply to an answer."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.arena import Arena
from storage.models import Answer, Task
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import BOT_ID, CHANNEL_ID, FakeDiscord, user_payload
from tests.fakes.openai_server import FakeOpenAI

ALICE = user_payload(111, "alice")


def rows(arena: Arena, model: type) -> list[Any]:
    with arena.store.session() as session:
        return list(session.exec(select(model).order_by(model.id)))


def sent(fake: FakeOpenAI, model: str) -> list[list[tuple[str, str]]]:
    return [[(m["role"], m["content"]) for m in r.json["messages"][1:]] for r in fake.requests_for(model)]


async def say(client: Any, fake: FakeDiscord, channel: int, content: str, *,
              replying_to: str | None = None) -> dict[str, Any]:
    """Alice posts ``content`` in ``channel`` (pinging the bot), optionally as a reply."""
    msg = fake.message_payload(channel, ALICE, content, mentions=[fake.users[BOT_ID]])
    if replying_to is not None:
        msg.update(type=19, message_reference={"type": 0, "message_id": replying_to, "channel_id": str(channel),
                                               "guild_id": msg["guild_id"]})
    await push(client, fake, "MESSAGE_CREATE", msg)
    return msg


async def test_a_mention_in_the_thread_and_a_reply_to_an_answer_are_follow_ups(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", text="alpha one")
    fake_openai.script("beta", text="beta one")
    client = await start_client(arena)
    trigger = await say(client, fake_discord, CHANNEL_ID, f"<@{BOT_ID}> write an add function")
    thread_id = int(trigger["id"])  # a message's thread has the message's id
    [task] = rows(arena, Task)
    first = {a.contestant_id: a for a in rows(arena, Answer)}
    fake_openai.script("alpha", text="alpha two")
    fake_openai.script("beta", text="beta two")

    await say(client, fake_discord, thread_id, f"<@{BOT_ID}> now make it async")

    assert not [r for r in fake_discord.requests if r.path.endswith("/threads")][1:]  # no second thread
    for model in ("alpha", "beta"):
        assert sent(fake_openai, model)[-1] == [("user", "write an add function"), ("assistant", f"{model} one"),
                                                ("user", "now make it async")]
    bot_msgs = [m for m in fake_discord.channel_messages(thread_id) if m["author"]["id"] == str(BOT_ID)]
    assert len(bot_msgs) == 6  # header and two answers, per turn
    assert "Follow-up #2 by alice" in bot_msgs[3]["content"] + str(bot_msgs[3].get("embeds"))
    assert all(b["allowed_mentions"]["parse"] == [] for b in fake_discord.bodies())
    second = [a for a in rows(arena, Answer) if a.task_id != task.id]
    assert {a.message_channel for a in second} == {str(thread_id)}
    assert {a.label for a in second} == {a.label for a in first.values()}

    # a reply to beta's first answer (pinging the bot, no mention typed) continues beta only
    asked = len(fake_openai.requests)
    fake_openai.script("beta", text="beta three")
    await say(client, fake_discord, thread_id, "use asyncio.gather please", replying_to=first["beta"].message_id)

    assert [r.json["model"] for r in fake_openai.requests[asked:]] == ["beta"]
    assert sent(fake_openai, "beta")[-1] == [
        ("user", "write an add function"), ("assistant", "beta one"), ("user", "now make it async"),
        ("assistant", "beta two"), ("user", "use asyncio.gather please")]
    turns = [(t.turn, t.root_id) for t in rows(arena, Task)]
    assert turns == [(1, None), (2, task.id), (3, task.id)]


async def test_a_plain_reply_to_someone_else_is_ignored(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    other = fake_discord.message_payload(CHANNEL_ID, user_payload(222, "bob"), "hello")
    msg = fake_discord.message_payload(CHANNEL_ID, ALICE, "hi bob", mentions=[user_payload(222, "bob")])
    msg.update(type=19, message_reference={"type": 0, "message_id": other["id"], "channel_id": str(CHANNEL_ID),
                                           "guild_id": msg["guild_id"]})
    await push(client, fake_discord, "MESSAGE_CREATE", msg)
    assert rows(arena, Task) == [] and fake_openai.requests == []
