"""Discord (issue 12) on the fake gateway and REST API: `/codegen forget` (shown first, done with
`confirm:True`, only the caller's rows, repeatable), the hourly limit's private refusal, and a
task waiting for a slot with its header saying so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.arena import Arena
from storage.models import Answer, Task
from tests.conftest import contestant
from tests.discord.conftest import StartClient
from tests.discord.fake_discord import BOT_ID, CHANNEL_ID, FakeDiscord
from tests.discord.test_discord_controls import BOB, command, reply
from tests.discord.test_discord_flow import ALICE, mention, slash
from tests.fakes.openai_server import FakeOpenAI


def tasks(arena: Arena) -> list[Task]:
    with arena.store.session() as session:
        return list(session.exec(select(Task).order_by(Task.id)))  # type: ignore[arg-type]


async def test_forget_shows_then_deletes_the_callers_tasks_only(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    client = await start_client(arena)
    await mention(client, fake_discord, "write a stack class")
    await arena.join()
    [mine] = tasks(arena)
    assert mine.requester_id == "111" and mine.text == "write a stack class"

    shown = await reply(client, fake_discord, ALICE, command("forget", []))
    assert "deletes 1 task, 0 ratings, 0 runs and 0 settings changes of yours on discord" in shown
    assert "forget confirm" in shown
    assert tasks(arena)[0].text == "write a stack class"
    assert "deletes 0 tasks" in await reply(client, fake_discord, BOB, command("forget", []))

    done = await reply(client, fake_discord, ALICE, command("forget", [{"name": "confirm", "type": 5, "value": True}]))
    assert "Done: deleted 1 task, 0 ratings, 0 runs and 0 settings changes of yours" in done
    [gone] = tasks(arena)
    assert (gone.requester_id, gone.requester_name, gone.text) == ("forgotten", "", "")
    with arena.store.session() as session:
        assert all(a.text == "" and a.code is None for a in session.exec(select(Answer)))
    again = await reply(client, fake_discord, ALICE, command("forget", [{"name": "confirm", "type": 5, "value": True}]))
    assert "deleted 0 tasks" in again


async def test_over_the_hourly_limit_the_reply_is_ephemeral_and_nothing_is_posted(
        sqlite_store: Any, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena], start_client: StartClient,
        fake_discord: FakeDiscord) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], edit_interval=0.01, user_tasks_per_hour=1)
    client = await start_client(arena)
    await reply(client, fake_discord, ALICE, slash("ask", task="write a stack class"))
    await arena.join()
    posted = len(fake_discord.calls("POST"))
    refusal = await reply(client, fake_discord, ALICE, slash("ask", task="write a queue class"))
    assert "You have asked 1 task in the last hour; the limit is 1 an hour" in refusal
    assert "Nothing was posted." in refusal
    await arena.join()
    new_posts = fake_discord.calls("POST")[posted:]
    assert all(r.json.get("flags", 0) & 64 for r in new_posts if "/webhooks/" in r.path)  # only the private reply
    assert not [r for r in new_posts if "/channels/" in r.path]  # nothing in a channel or thread
    assert [r.json["messages"][1]["content"] for r in fake_openai.requests] == ["write a stack class"]


async def test_a_task_past_the_workspace_limit_waits_with_its_header_saying_so(
        sqlite_store: Any, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena], start_client: StartClient,
        fake_discord: FakeDiscord) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], edit_interval=0.01,
                       workspace_concurrent_tasks=1)
    client = await start_client(arena)
    fake_openai.script("alpha", text="slow answer", first_token_delay=1.5)
    for text in ("write task one", "write task two"):
        msg = fake_discord.message_payload(CHANNEL_ID, ALICE, f"<@{BOT_ID}> {text}", mentions=[fake_discord.users[BOT_ID]])
        await fake_discord.dispatch("MESSAGE_CREATE", msg)
    await client.wait_idle(settle=0.5)
    await arena.join()
    first, second = tasks(arena)
    assert [r.json["messages"][1]["content"] for r in fake_openai.requests] == [first.text, second.text]
    header = second.parent_message_id or "0"
    shown = [json.dumps(c.json, ensure_ascii=False) for c in fake_discord.requests if c.method in ("POST", "PATCH")]
    assert [s for s in shown if f"task #{second.id}" in s and "queued, next to start" in s]  # posted waiting …
    final = json.dumps(fake_discord.messages[int(header)], ensure_ascii=False)
    assert f"task #{second.id}" in final and "queued" not in final  # … and edited when it started
    assert [a.status for a in answers_of(arena)] == ["done", "done"]


def answers_of(arena: Arena) -> list[Answer]:
    with arena.store.session() as session:
        return list(session.exec(select(Answer).order_by(Answer.id)))  # type: ignore[arg-type]
