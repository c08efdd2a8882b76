"""A Discord user's whole flow against the fake Discord: mention, thread, streamed answers, buttons."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import select

from bot.arena import Arena
from storage.models import Answer, AnswerStatus, Task
from tests.discord.conftest import StartClient, push, stop_client
from tests.discord.fake_discord import APP_ID, BOT_ID, CHANNEL_ID, FakeDiscord, user_payload
from tests.fakes.openai_server import FakeOpenAI

ALICE = user_payload(111, "alice")
ALPHA_TEXT = "Sure @everyone <@111> here:\n\n```python\ndef add(a, b):\n    return a + b\n```\n"


def answers(arena: Arena) -> list[Answer]:
    with arena.store.session() as session:
        return list(session.exec(select(Answer).order_by(Answer.position)))


def tasks(arena: Arena) -> list[Task]:
    with arena.store.session() as session:
        return list(session.exec(select(Task)))


def message_bodies(fake: FakeDiscord) -> list[dict[str, Any]]:
    return fake.bodies()


def components(msg: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in msg.get("components", []) for c in row.get("components", [])]


async def mention(client: Any, fake: FakeDiscord, text: str, channel: int = CHANNEL_ID) -> dict[str, Any]:
    msg = fake.message_payload(channel, ALICE, f"<@{BOT_ID}> {text}",
                               mentions=[fake.users[BOT_ID]])
    await push(client, fake, "MESSAGE_CREATE", msg)
    return msg


async def test_mention_opens_thread_and_streams_one_reply_per_model(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", text=ALPHA_TEXT, chunk_delay=0.02)
    fake_openai.script("beta", text="```python\n" + "print('hi')\n" * 30 + "```\n", chunk_delay=0.01)
    client = await start_client(arena)

    trigger = await mention(client, fake_discord, "write an add function in python")

    # the thread is opened on the triggering message, named from the task
    created = fake_discord.calls("POST", f"/channels/{CHANNEL_ID}/messages/{trigger['id']}/threads")
    assert len(created) == 1
    assert created[0].json["name"] == "write an add function in python"
    thread_id = trigger["id"]  # a message's thread has the message's id

    # the models' prompts carry the task without the mention
    assert {r.json["messages"][-1]["content"] for r in fake_openai.requests} == {"write an add function in python"}

    stored = answers(arena)
    assert [a.status for a in stored] == [AnswerStatus.DONE, AnswerStatus.DONE]
    in_thread = fake_discord.channel_messages(thread_id)
    by_id = {m["id"]: m for m in in_thread}
    assert len(in_thread) == 3  # the task header and one reply per model
    for answer in stored:
        assert answer.message_channel == thread_id
        msg = by_id[answer.message_id]
        edits = fake_discord.calls("PATCH", f"/channels/{thread_id}/messages/{answer.message_id}")
        assert len(edits) >= 2, "the answer should stream through several edits"
        assert answer.text.strip()[:20] in msg["content"]
        assert f"codegen:run:{answer.id}" in components(msg)
        assert msg["embeds"] and msg["embeds"][0]["footer"]["text"]
    alpha = next(a for a in stored if a.contestant_id == "alpha")
    assert "@everyone" in by_id[alpha.message_id]["content"]  # shown, but never pings:

    bodies = message_bodies(fake_discord)
    assert bodies and all(b["allowed_mentions"]["parse"] == [] for b in bodies)
    assert all(not b["allowed_mentions"].get("users") and not b["allowed_mentions"].get("replied_user")
               for b in bodies)


async def test_slash_command_defers_posts_parent_and_threads(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    payload = fake_discord.interaction_payload(ALICE, slash("ask", task="reverse a linked list"))

    await push(client, fake_discord, "INTERACTION_CREATE", payload)

    callback = fake_discord.calls("POST", f"/interactions/{payload['id']}/")
    assert callback[0].json["type"] == 5 and callback[0].json["data"]["flags"] & 64  # ephemeral defer
    assert fake_discord.requests.index(callback[0]) < min(
        fake_discord.requests.index(r) for r in fake_discord.calls("POST", "/channels/"))
    parent = fake_discord.channel_messages(CHANNEL_ID)[0]
    assert "reverse a linked list" in parent["content"]
    thread = fake_discord.calls("POST", f"/channels/{CHANNEL_ID}/messages/{parent['id']}/threads")
    assert thread and thread[0].json["name"] == "reverse a linked list"
    assert len(fake_discord.channel_messages(parent["id"])) == 2  # one reply per model
    # nothing private to say: the 'thinking…' placeholder is removed
    assert fake_discord.calls("DELETE", f"/webhooks/{APP_ID}/{payload['token']}/messages/@original")
    assert all(b["allowed_mentions"]["parse"] == [] for b in fake_discord.bodies())


def slash(sub: str, **options: Any) -> dict[str, Any]:
    """The `data` of a /codegen <sub> application command interaction."""
    return {"id": "5000", "name": "codegen", "type": 1, "guild_id": None,
            "options": [{"name": sub, "type": 1,
                         "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]}]}


def ephemeral_followups(fake: FakeDiscord, token: str) -> list[dict[str, Any]]:
    return [r.json for r in fake.calls("POST", f"/webhooks/{APP_ID}/{token}") if r.json.get("flags", 0) & 64]


async def test_slash_errors_are_ephemeral_and_specific(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    too_long = fake_discord.interaction_payload(ALICE, slash("ask", task="x" * 250))
    empty = fake_discord.interaction_payload(ALICE, slash("ask", task="   "))
    await push(client, fake_discord, "INTERACTION_CREATE", too_long)
    await push(client, fake_discord, "INTERACTION_CREATE", empty)

    [long_reply] = ephemeral_followups(fake_discord, too_long["token"])
    assert "250" in long_reply["content"] and "200" in long_reply["content"]
    [empty_reply] = ephemeral_followups(fake_discord, empty["token"])
    assert "/codegen" in empty_reply["content"] or "usage" in empty_reply["content"].lower()
    assert fake_discord.channel_messages(CHANNEL_ID) == []  # nothing public was posted
    assert tasks(arena) == []


async def test_slash_without_thread_permission_says_so(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    payload = fake_discord.interaction_payload(ALICE, slash("ask", task="sort a list"))
    payload["app_permissions"] = str((1 << 10) | (1 << 11))  # view + send, no thread permissions
    await push(client, fake_discord, "INTERACTION_CREATE", payload)
    [reply] = ephemeral_followups(fake_discord, payload["token"])
    assert "Create Public Threads" in reply["content"]
    assert tasks(arena) == []


async def test_mention_where_thread_creation_is_refused_replies_with_the_reason(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    fake_discord.fail[("POST", r"/threads$")] = (403, 50013, "Missing Permissions")
    trigger = fake_discord.message_payload(CHANNEL_ID, ALICE, f"<@{BOT_ID}> sort a list",
                                           mentions=[fake_discord.users[BOT_ID]])
    await push(client, fake_discord, "MESSAGE_CREATE", trigger)

    replies = fake_discord.channel_messages(CHANNEL_ID)
    reply = [m for m in replies if m["author"]["id"] == str(BOT_ID)]
    assert len(reply) == 1 and "Create Public Threads" in reply[0]["content"]
    [req] = [r for r in fake_discord.calls("POST", f"/channels/{CHANNEL_ID}/messages")
             if r.json and r.json.get("message_reference")]
    assert str(req.json["message_reference"]["message_id"]) == trigger["id"]
    assert req.json["allowed_mentions"]["parse"] == [] and not req.json["allowed_mentions"]["replied_user"]


async def test_retry_button_works_after_a_restart(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("beta", status=500, error_message="upstream exploded")
    client = await start_client(arena)
    await mention(client, fake_discord, "fizzbuzz in python")
    failed = next(a for a in answers(arena) if a.contestant_id == "beta")
    assert failed.status == AnswerStatus.ERROR
    message = fake_discord.messages[int(failed.message_id or 0)]
    assert f"codegen:retry:{failed.id}" in components(message)

    await stop_client(client)  # the bot restarts: a new client, nothing carried over in memory
    fake_openai.script("beta", text="```python\nfor i in range(1, 101): print(i)\n```")
    client = await start_client(arena)
    press = fake_discord.interaction_payload(
        ALICE, {"custom_id": f"codegen:retry:{failed.id}", "component_type": 2}, kind=3,
        channel_id=int(failed.message_channel or 0), message=message)
    fake_discord.channels.setdefault(int(failed.message_channel or 0), {})
    await push(client, fake_discord, "INTERACTION_CREATE", press)

    callback = fake_discord.calls("POST", f"/interactions/{press['id']}/")
    assert callback and callback[0].json["data"]["flags"] & 64
    retried = next(a for a in answers(arena) if a.id == failed.id)
    assert retried.status == AnswerStatus.DONE
    assert "range(1, 101)" in fake_discord.messages[int(failed.message_id or 0)]["content"]


async def test_run_button_without_sandbox_explains_ephemerally(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    await mention(client, fake_discord, "add two numbers")
    answer = answers(arena)[0]
    message = fake_discord.messages[int(answer.message_id or 0)]
    press = fake_discord.interaction_payload(
        ALICE, {"custom_id": f"codegen:run:{answer.id}", "component_type": 2}, kind=3,
        channel_id=int(answer.message_channel or 0), message=message)
    await push(client, fake_discord, "INTERACTION_CREATE", press)
    [reply] = ephemeral_followups(fake_discord, press["token"])
    assert "sandbox" in reply["content"]


async def test_subscribe_leaderboard_and_the_weekly_post(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    from datetime import UTC, datetime

    from bot.weekly import WeeklyPoster
    from storage.leaderboard import subscribed_channels

    client = await start_client(arena)
    sub = fake_discord.interaction_payload(ALICE, slash("subscribe"))
    await push(client, fake_discord, "INTERACTION_CREATE", sub)
    [reply] = ephemeral_followups(fake_discord, sub["token"])
    assert "weekly leaderboard" in reply["content"]
    assert subscribed_channels(arena.store, ["discord"]) == [("discord", str(CHANNEL_ID))]

    board = fake_discord.interaction_payload(ALICE, slash("leaderboard"))
    await push(client, fake_discord, "INTERACTION_CREATE", board)
    posted = fake_discord.channel_messages(CHANNEL_ID)
    assert "leaderboard" in posted[0]["content"].lower()

    await mention(client, fake_discord, "parse a CSV file")  # a rated comparison, so the post has a chart
    alpha, beta = sorted(answers(arena), key=lambda a: a.contestant_id)
    for answer, emoji in ((alpha, "\N{THUMBS UP SIGN}"), (beta, "\N{THUMBS DOWN SIGN}")):
        await push(client, fake_discord, "MESSAGE_REACTION_ADD", fake_discord.reaction_payload(
            222, int(answer.message_id or 0), emoji, channel_id=int(answer.message_channel or 0)))
    poster = WeeklyPoster(arena.store, {"discord": client.surface}, "UTC", bootstrap=20)
    [result] = await poster.tick(datetime.now(UTC))
    assert result.action == "posted"
    weekly = fake_discord.messages[int(result.message_id or 0)]
    assert weekly["channel_id"] == str(CHANNEL_ID) and "Weekly leaderboard" in weekly["content"]
    assert [a["filename"] for a in weekly["attachments"]] == ["leaderboard.png", "value.png"]


async def test_a_weekly_post_whose_id_was_never_recorded_is_found_and_adopted(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import update

    from bot.weekly import WeeklyPoster
    from storage.leaderboard import posts, set_subscription
    from storage.models import LeaderboardPost

    client = await start_client(arena)
    set_subscription(arena.store, "discord", str(CHANNEL_ID), True)
    [first] = await WeeklyPoster(arena.store, {"discord": client.surface}, "UTC", bootstrap=20).tick()
    assert first.action == "posted"
    with arena.store.session() as s:  # as if the process died between posting and recording the id
        s.exec(update(LeaderboardPost).values(message_id=None))  # type: ignore[call-overload]
    fake_discord.message_payload(CHANNEL_ID, ALICE, "someone chats after the post")  # not the newest now
    rerun = WeeklyPoster(arena.store, {"discord": client.surface}, "UTC", bootstrap=20, claim_timeout=timedelta(0))
    [result] = await rerun.tick(datetime.now(UTC))
    assert result.action == "adopted" and result.message_id == first.message_id
    weekly = [m for m in fake_discord.channel_messages(CHANNEL_ID) if "Weekly leaderboard" in m["content"]]
    assert len(weekly) == 1 and [p.message_id for p in posts(arena.store)] == [first.message_id]


async def test_button_in_an_archived_thread_explains_instead_of_failing(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    thread_id = fake_discord.new_id()
    fake_discord.add_thread(thread_id, name="old task", archived=True)
    message = fake_discord.message_payload(thread_id, fake_discord.users[BOT_ID], "an old answer")
    message["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "🔁 Retry", "custom_id": "codegen:retry:1"}]}]
    press = fake_discord.interaction_payload(
        ALICE, {"custom_id": "codegen:retry:1", "component_type": 2}, kind=3, channel_id=thread_id,
        message=message)
    await push(client, fake_discord, "INTERACTION_CREATE", press)
    [reply] = ephemeral_followups(fake_discord, press["token"])
    assert "archived" in reply["content"]


async def test_identify_asks_for_no_privileged_intent(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    await start_client(arena)
    intents = fake_discord.identify["intents"]
    assert not intents & (1 << 15)  # MESSAGE_CONTENT (privileged): mentions carry content anyway
    assert not intents & ((1 << 1) | (1 << 8))  # GUILD_MEMBERS, GUILD_PRESENCES (privileged)
    assert intents & (1 << 9) and intents & (1 << 10)  # GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS


async def test_mention_inside_a_thread_answers_in_that_thread(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    thread_id = fake_discord.new_id()
    fake_discord.add_thread(thread_id, name="ongoing discussion")
    await mention(client, fake_discord, "now in go please", channel=thread_id)
    assert not [r for r in fake_discord.requests if r.path.endswith("/threads")]  # no new thread
    bot_msgs = [m for m in fake_discord.channel_messages(thread_id) if m["author"]["id"] == str(BOT_ID)]
    assert len(bot_msgs) == 3  # header + one reply per model, all in the existing thread
    assert {a.message_channel for a in answers(arena)} == {str(thread_id)}


async def test_a_rate_limited_edit_is_retried_by_discord_py(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord, fake_openai: FakeOpenAI) -> None:
    for model in ("alpha", "beta"):  # streams long enough for the retry to land before the final edit
        fake_openai.script(model, text="Here:\n```python\nprint('rate limits')\n```\nthat is all", chunk_delay=0.05)
    fake_discord.rate_limit_once[("PATCH", r"/channels/\d+/messages/\d+$")] = 0.02
    client = await start_client(arena)
    await mention(client, fake_discord, "print something")
    alpha = next(a for a in answers(arena) if a.contestant_id == "alpha")
    assert alpha.status == AnswerStatus.DONE
    assert "rate limits" in fake_discord.messages[int(alpha.message_id or 0)]["content"]
    assert not fake_discord.rate_limit_once  # the 429 was served…
    patches = fake_discord.calls("PATCH", "/channels/")
    limited = patches[0]
    again = next(p for p in patches[1:] if p.path == limited.path)
    assert again.json == limited.json  # …and discord.py sent the same edit again after Retry-After


async def test_empty_mention_gets_usage_as_a_non_pinging_reply(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    trigger = await mention(client, fake_discord, "   ")
    [reply] = [m for m in fake_discord.channel_messages(CHANNEL_ID) if m["author"]["id"] == str(BOT_ID)]
    assert "/codegen" in reply["content"] or "usage" in reply["content"].lower()
    assert reply["allowed_mentions"]["parse"] == [] and not reply["allowed_mentions"].get("replied_user")
    assert not fake_discord.calls("POST", f"/channels/{CHANNEL_ID}/messages/{trigger['id']}/threads")
    assert tasks(arena) == []


async def test_debug_logging_never_shows_the_bot_or_interaction_token(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = await start_client(arena)
    payload = fake_discord.interaction_payload(ALICE, slash("ask", task="x" * 250))
    await push(client, fake_discord, "INTERACTION_CREATE", payload)
    assert ephemeral_followups(fake_discord, payload["token"])  # the interaction was answered
    assert payload["token"] not in caplog.text
    assert "fake-token" not in caplog.text


async def test_blind_mode_hides_names_until_the_asker_reveals(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    on = fake_discord.interaction_payload(ALICE, slash("blind", mode="on"))
    await push(client, fake_discord, "INTERACTION_CREATE", on)
    [reply] = ephemeral_followups(fake_discord, on["token"])
    assert "Blind mode is on" in reply["content"]

    trigger = await mention(client, fake_discord, "write a stack class")
    thread = trigger["id"]
    header, *replies = fake_discord.channel_messages(thread)
    assert all("ALPHA" not in m["content"] and "BETA" not in m["content"] for m in replies)
    [reveal_id] = [c for c in components(header) if c.startswith("codegen:reveal:")]

    bob = user_payload(222, "bob")
    early = fake_discord.interaction_payload(bob, {"custom_id": reveal_id, "component_type": 2}, kind=3,
                                             channel_id=int(thread), message=header)
    await push(client, fake_discord, "INTERACTION_CREATE", early)
    [refused] = ephemeral_followups(fake_discord, early["token"])
    assert "Only the person who asked" in refused["content"]

    press = fake_discord.interaction_payload(ALICE, {"custom_id": reveal_id, "component_type": 2}, kind=3,
                                             channel_id=int(thread), message=header)
    await push(client, fake_discord, "INTERACTION_CREATE", press)
    revealed = " ".join(m["content"] for m in fake_discord.channel_messages(thread))
    assert "ALPHA" in revealed and "BETA" in revealed
