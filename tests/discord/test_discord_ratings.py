"""Reactions on answers become ratings; reactions missed while down are reconciled on start."""

from __future__ import annotations

from bot.arena import Arena
from storage import ratings as rating_store
from tests.discord.conftest import StartClient, push, stop_client
from tests.discord.fake_discord import BOT_ID, FakeDiscord
from tests.discord.test_discord_flow import answers, mention

THUMBS_UP = "\N{THUMBS UP SIGN}"
THUMBS_DOWN = "\N{THUMBS DOWN SIGN}"
FOUR = "4\ufe0f\u20e3"


def ratings(arena: Arena, answer_id: int) -> set[tuple[str, str, int]]:
    return {(r.rater_id, r.scale, r.value) for r in rating_store.ratings_of(arena.store, answer_id)}


async def react(client: object, fake: FakeDiscord, user: int, answer_msg: str, channel: str, emoji: str,
                added: bool = True) -> None:
    fake.set_reaction(int(answer_msg), emoji, user, present=added)
    event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
    await push(client, fake, event,  # type: ignore[arg-type]
               fake.reaction_payload(user, int(answer_msg), emoji, channel_id=int(channel)))


async def test_reactions_rate_and_removal_retracts(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    await mention(client, fake_discord, "write quicksort")
    first = answers(arena)[0]
    msg, chan = first.message_id or "", first.message_channel or ""

    await react(client, fake_discord, 222, msg, chan, THUMBS_UP)
    await react(client, fake_discord, 333, msg, chan, FOUR)
    await react(client, fake_discord, 444, msg, chan, "\N{PARTY POPPER}")  # not a rating
    await react(client, fake_discord, BOT_ID, msg, chan, THUMBS_DOWN)  # the bot's own: never counts
    assert ratings(arena, first.id or 0) == {("222", "thumbs", 1), ("333", "stars", 4)}

    await react(client, fake_discord, 222, msg, chan, THUMBS_UP, added=False)
    assert ratings(arena, first.id or 0) == {("333", "stars", 4)}


async def test_reactions_given_while_down_are_reconciled_on_start(
        arena: Arena, start_client: StartClient, fake_discord: FakeDiscord) -> None:
    client = await start_client(arena)
    await mention(client, fake_discord, "write a binary search")
    first, second = answers(arena)[:2]
    m1, c1 = first.message_id or "", first.message_channel or ""
    await react(client, fake_discord, 222, m1, c1, THUMBS_UP)  # seen live
    await react(client, fake_discord, 555, m1, c1, FOUR)  # seen live, removed while down
    await stop_client(client)

    # while the bot is down: 555 removes 4️⃣, 666 adds 👎 on the second answer, the bot's own 👍 stays
    fake_discord.set_reaction(int(m1), FOUR, 555, present=False)
    fake_discord.set_reaction(int(second.message_id or 0), THUMBS_DOWN, 666)
    fake_discord.set_reaction(int(second.message_id or 0), THUMBS_UP, BOT_ID)

    await start_client(arena)

    assert ratings(arena, first.id or 0) == {("222", "thumbs", 1)}
    assert ratings(arena, second.id or 0) == {("666", "thumbs", 0)}
    assert fake_discord.calls("GET", f"/channels/{c1}/messages/{m1}")  # read back over REST
