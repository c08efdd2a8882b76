"""Discord: `/codegen forget` (issue 12) on the fake gateway and REST API: shown first, done with
`confirm:True`, only the caller's rows, repeatable."""

from __future__ import annotations

from sqlmodel import select

from bot.arena import Arena
from storage.models import Answer, Task
from tests.discord.conftest import StartClient
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_discord_controls import BOB, command, reply
from tests.discord.test_discord_flow import ALICE, mention
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
