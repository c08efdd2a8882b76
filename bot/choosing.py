"""Models per request: ``--models gpt-4o,llama-3.2-3b <task>`` (or Discord's ``models:`` option).

The ids are the roster's, matched without regard to case, ``-``, ``.`` and ``_`` (``gpt4o`` is
``gpt-4o``). A channel whose admins chose a roster (``/codegen models use …``) only asks among
those: an id outside it is refused, like an unknown one, with the ids that can be used here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FLAG = re.compile(r"^\s*--models?(?:\s*=\s*|\s+)([^\s,]+(?:\s*,\s*[^\s,]+)*)\s*", re.IGNORECASE)
_SQUASH = re.compile(r"[-._]")


class ChoiceError(ValueError):
    """The request names models it cannot have; ``str(exc)`` says which and what can be used."""


def take_flag(text: str) -> tuple[tuple[str, ...] | None, str]:
    """``"--models a, b write x"`` → (("a", "b"), "write x"); no leading flag → (None, text)."""
    match = FLAG.match(text)
    if match is None:
        return None, text
    ids = tuple(w.strip() for w in match.group(1).split(",") if w.strip())
    return ids, text[match.end():]


def split_ids(value: str | None) -> tuple[str, ...] | None:
    """``"a, b"`` → ("a", "b"); blank → None (every model)."""
    ids = tuple(w.strip() for w in (value or "").split(",") if w.strip())
    return ids or None


def resolve(wanted: Sequence[str], roster: Sequence[str], channel: Sequence[str] | None) -> list[str]:
    """The roster ids ``wanted`` names, in roster order. Raises :class:`ChoiceError` for an id
    the roster does not have, or that the channel's roster leaves out."""
    allowed = [i for i in roster if channel is None or i in channel]
    found: list[str] = []
    unknown: list[str] = []
    outside: list[str] = []
    for word in wanted:
        hit = _match(word, roster)
        if hit is None:
            unknown.append(word)
        elif hit not in allowed:
            outside.append(hit)
        elif hit not in found:
            found.append(hit)
    usable = ", ".join(allowed)
    if unknown:
        raise ChoiceError(f"Unknown model id{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                          f"Models you can ask here: {usable}.")
    if outside:
        raise ChoiceError(f"Not in this channel's roster: {', '.join(outside)} (an admin changes it with "
                          f"`/codegen models use …`). Models you can ask here: {usable}.")
    return [i for i in roster if i in found]


def _match(word: str, roster: Sequence[str]) -> str | None:
    lowered = word.lower()
    if lowered in roster:
        return lowered
    squashed = [i for i in roster if _SQUASH.sub("", i) == _SQUASH.sub("", lowered)]
    return squashed[0] if len(squashed) == 1 else None
