"""On start, bring stored ratings in line with the reactions answers carry now.

Reactions given or removed while the bot was down never reached it. For each answer message
of the last N days the reactions are read back over REST; the difference from the stored
ratings is replayed through the core as ordinary :class:`~bot.events.ReactionChanged` events
(so the core's rating rules apply unchanged). Per rater and scale: a stored rating whose emoji
is still there stays; otherwise one present rating emoji is added, or the rating retracted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.events import ReactionChanged, User
from bot.ratings import parse_reaction
from storage import ratings as rating_store

if TYPE_CHECKING:
    from adapters.discord.client import ArenaClient

log = logging.getLogger(__name__)


async def observed_reactions(client: discord.Client, channel: str, message_id: str) -> dict[str, list[str]] | None:
    """{rater id: [rating emoji, …]} on one message (bots excluded); None if it is gone."""
    try:
        message = await client.get_partial_messageable(int(channel)).fetch_message(int(message_id))
    except (discord.NotFound, discord.Forbidden):
        return None
    seen: dict[str, list[str]] = {}
    for reaction in message.reactions:
        emoji = str(reaction.emoji)
        if parse_reaction(emoji) is None:
            continue
        async for user in reaction.users(limit=None):
            if not user.bot:
                seen.setdefault(str(user.id), []).append(emoji)
    return seen


def changes(answer_ratings: list[tuple[str, str, int, str]], seen: dict[str, list[str]]
            ) -> list[tuple[str, str, bool]]:
    """(rater, emoji, added) events that bring stored ratings (rater, scale, value, emoji) in line."""
    stored = {(rater, scale): (value, emoji) for rater, scale, value, emoji in answer_ratings}
    out: list[tuple[str, str, bool]] = []
    present: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for rater, emojis in seen.items():
        for emoji in emojis:
            parsed = parse_reaction(emoji)
            if parsed:
                present.setdefault((rater, parsed[0]), []).append((parsed[1], emoji))
    for key, options in present.items():
        current = stored.get(key)
        if current is None or current[0] not in {value for value, _ in options}:
            out.append((key[0], options[0][1], True))
    for key, (_, emoji) in stored.items():
        if key not in present:
            out.append((key[0], emoji, False))
    return out


async def reconcile(client: ArenaClient, *, days: float) -> int:
    """Replay missed reactions on answers of the last ``days`` days; returns events replayed."""
    since = datetime.now(UTC) - timedelta(days=days)
    store = client.arena.store
    answers = await asyncio.to_thread(rating_store.answer_messages, store, "discord", since)
    replayed = 0
    for answer_id, channel, message_id in answers:
        try:
            seen = await observed_reactions(client, channel, message_id)
        except discord.HTTPException as exc:
            log.warning("could not read reactions of answer %s: HTTP %s", answer_id, exc.status)
            continue
        if seen is None:
            continue
        rows = await asyncio.to_thread(rating_store.ratings_of, store, answer_id)
        stored = [(r.rater_id, r.scale, r.value, r.emoji) for r in rows]
        for rater, emoji, added in changes(stored, seen):
            await client.submit(ReactionChanged(platform="discord", user=User(rater), channel=channel,
                                                message_id=message_id, emoji=emoji, added=added))
            replayed += 1
    log.info("reconciled reactions on %d answers (%d changes)", len(answers), replayed)
    return replayed
