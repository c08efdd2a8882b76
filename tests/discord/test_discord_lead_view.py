"""Discord: `/codegen tag task:12 kind:data` and `/codegen leaderboard category:data`, through the fake Discord."""

from __future__ import annotations

from typing import Any

from adapters.discord.commands import codegen_group
from bot.arena import Arena
from tests.discord.conftest import StartClient, push
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord, user_payload
from tests.discord.test_discord_flow import ALICE, ephemeral_followups, mention, tasks

BOB = user_payload(222, "bob")
STRING, INTEGER = 3, 4


def command(sub: str, **options: tuple[int, Any]) -> dict[str, Any]:
    """The `data` of a /codegen <sub> interaction; each option is (Discord option type, value)."""
    return {"id": "5000", "name": "codegen", "type": 1, "guild_id": None,
            "options": [{"name": sub, "type": 1, "options": [
                {"name": name, "type": kind, "value": value} for name, (kind, value) in options.items()]}]}


def test_the_commands_offer_every_category_as_a_choice() -> None:
    group = codegen_group()
    tag = group.get_command("tag")
    board = group.get_command("leaderboard")
    assert tag is not None and board is not None
    options = {o["name"]: o for o in tag.to_dict(None)["options"]}  # type: ignore[arg-type, union-attr]
    assert options["task"]["required"] and options["task"]["min_value"] == 1
    assert {c["value"] for c in options["kind"]["choices"]} == {"web", "frontend", "data", "scripting", "algorithms",
                                                                "devops", "other"}
    assert "sql" in {c["value"] for c in options["language"]["choices"]}
    category = next(o for o in board.to_dict(None)["options"] if o["name"] == "category")  # type: ignore[arg-type, union-attr]
    assert len(category["choices"]) <= 25 and "python" in {c["value"] for c in category["choices"]}


async def test_tag_and_category_leaderboard(arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    await mention(client, fake_discord, "write a FastAPI CRUD app with JWT auth")
    [task] = tasks(arena)
    assert task.kind == "web"

    refused = fake_discord.interaction_payload(BOB, command("tag", task=(INTEGER, task.id), kind=(STRING, "data")))
    await push(client, fake_discord, "INTERACTION_CREATE", refused)
    [reply] = ephemeral_followups(fake_discord, refused["token"])
    assert "Only the person who asked" in reply["content"] and tasks(arena)[0].kind == "web"

    tagged = fake_discord.interaction_payload(
        ALICE, command("tag", task=(INTEGER, task.id), kind=(STRING, "data"), language=(STRING, "sql")))
    await push(client, fake_discord, "INTERACTION_CREATE", tagged)
    [reply] = ephemeral_followups(fake_discord, tagged["token"])
    assert "is tagged Data & ML · SQL" in reply["content"]
    assert (tasks(arena)[0].kind, tasks(arena)[0].language) == ("data", "sql")

    neither = fake_discord.interaction_payload(ALICE, command("tag", task=(INTEGER, task.id)))
    await push(client, fake_discord, "INTERACTION_CREATE", neither)
    [reply] = ephemeral_followups(fake_discord, neither["token"])
    assert "Usage:" in reply["content"]

    board = fake_discord.interaction_payload(ALICE, command("leaderboard", category=(STRING, "data"),
                                                            window=(STRING, "7d")))
    await push(client, fake_discord, "INTERACTION_CREATE", board)
    posted = [m for m in fake_discord.channel_messages(CHANNEL_ID) if "leaderboard" in m["content"].lower()]
    assert posted and "Data & ML · last 7d" in posted[-1]["content"]
