"""Reactions to ratings: 👍/👎 on the thumbs scale (1/0) and 1️⃣–5️⃣ on the star scale (1–5).

A rater's latest reaction on an answer counts per scale; removing that reaction retracts it.
Unknown emoji and reactions on messages that are not answers are ignored (with a log line).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.events import Event, ReactionChanged
from storage import ratings as rating_store
from storage.db import Store

log = logging.getLogger(__name__)

THUMBS = "thumbs"
STARS = "stars"
_DIGITS = ("one", "two", "three", "four", "five")

EMOJI_SCALE: dict[str, tuple[str, int]] = {
    "+1": (THUMBS, 1),
    "thumbsup": (THUMBS, 1),
    "thumbs_up": (THUMBS, 1),
    "\N{THUMBS UP SIGN}": (THUMBS, 1),
    "-1": (THUMBS, 0),
    "thumbsdown": (THUMBS, 0),
    "thumbs_down": (THUMBS, 0),
    "\N{THUMBS DOWN SIGN}": (THUMBS, 0),
}
for _value, _name in enumerate(_DIGITS, start=1):
    EMOJI_SCALE[_name] = (STARS, _value)
    EMOJI_SCALE[f"{_value}\ufe0f\u20e3"] = (STARS, _value)  # keycap as Discord sends it
    EMOJI_SCALE[f"{_value}\u20e3"] = (STARS, _value)  # keycap without the variation selector

_CANONICAL = {(THUMBS, 1): "+1", (THUMBS, 0): "-1"} | {
    (STARS, v): name for v, name in enumerate(_DIGITS, start=1)
}
_SKIN_TONE = re.compile(r"::skin-tone-\d$|[\U0001F3FB-\U0001F3FF]")


def normalise_emoji(emoji: str) -> str:
    """Strip surrounding colons, Slack's ``::skin-tone-N`` suffix and Unicode skin-tone modifiers."""
    name = emoji.strip()
    name = _SKIN_TONE.sub("", name)
    if len(name) > 2 and name.startswith(":") and name.endswith(":"):
        name = _SKIN_TONE.sub("", name[1:-1])
    return name.replace("\ufe0f", "") if name.replace("\ufe0f", "") in EMOJI_SCALE else name


def parse_reaction(emoji: str) -> tuple[str, int] | None:
    """(scale, value) for a rating emoji, None for any other emoji."""
    return EMOJI_SCALE.get(normalise_emoji(emoji))


@dataclass(frozen=True)
class RatingChange:
    """What a reaction did: ``value`` is the rating now (None when retracted)."""

    answer_id: int
    task_id: int
    contestant_id: str
    rater_id: str
    scale: str
    value: int | None
    previous: int | None

    @property
    def changed(self) -> bool:
        """Whether the stored rating is different from before the event."""
        return self.value != self.previous


def ordering_key(event: Event) -> tuple[str, ...] | None:
    """Events with the same key are applied in delivery order: one rater's reactions on one message."""
    if isinstance(event, ReactionChanged):
        return ("reaction", event.platform, event.channel, event.message_id, event.user.id)
    return None


async def apply_reaction(store: Store, event: ReactionChanged) -> RatingChange | None:
    """Record (or retract) the rating a reaction expresses; None when it is not a rating.

    An event older than what is stored for its (answer, rater, scale) changes nothing."""
    parsed = parse_reaction(event.emoji)
    if parsed is None:
        log.debug("reaction %r is not a rating emoji; ignored", event.emoji)
        return None
    scale, value = parsed
    answer = await store.run(rating_store.find_answer, event.platform, event.channel, event.message_id)
    if answer is None:
        log.info(
            "reaction on %s message %s/%s matches no stored answer; ignored",
            event.platform, event.channel, event.message_id,
        )
        return None
    canonical = _CANONICAL[parsed]
    change = rating_store.upsert_rating if event.added else rating_store.retract_rating
    previous, new = await store.run(
        change, answer.answer_id, event.user.id, scale, value, canonical, event.occurred_us
    )
    if not event.added and new is not None:
        log.debug("removed reaction %r is not the current rating; kept", event.emoji)
    return RatingChange(
        answer_id=answer.answer_id,
        task_id=answer.task_id,
        contestant_id=answer.contestant_id,
        rater_id=event.user.id,
        scale=scale,
        value=new,
        previous=previous,
    )
