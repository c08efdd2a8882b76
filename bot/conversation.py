"""Each model's message list for one answer, built from its conversation's turns.

This is the one place prompts are built. A task is turn 1; every follow-up (:mod:`bot.followups`)
is a later turn, stored as a task of its own chained to the first. A model answering turn n sees
the system prompt (with the channel's instruction), then, for each earlier turn it was asked,
that turn's text and *its own* answer (never another model's), then turn n's text. When that does
not fit the model's ``context_tokens`` (tokens ≈ characters / 4, as budgets estimate them), the
oldest turns are left out until it does, and the answer records how many (its footer says so).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot import attachments
from bot.controls import system_prompt
from bot.events import AttachedFile
from bot.roster import Contestant
from bot.services import Services
from storage import turns as turns_db
from storage.models import Answer, AnswerStatus, Task

MESSAGE_OVERHEAD = 4  # tokens a chat template adds around each message (role, separators)


@dataclass(frozen=True)
class Prompt:
    """The messages to send and how many earlier turns were left out to fit."""

    messages: list[dict[str, str]]
    dropped: int = 0


def estimate_tokens(text: str) -> int:
    """Tokens ≈ characters / 4, plus a message's overhead."""
    return math.ceil(len(text) / 4) + MESSAGE_OVERHEAD


def user_content(task: Task) -> str:
    """What a turn's user message says: its text, then the files attached to it (bot/attachments.py)."""
    return attachments.user_message(task.text, attachments.stored(task.files))


def fit_files(files: Sequence[AttachedFile], contestants: Sequence[Contestant], text: str,
              channel_prompt: str | None) -> tuple[list[attachments.TextFile], list[str]]:
    """The attached files (in order) that fit beside the system prompt and ``text`` in every
    contestant's ``context_tokens``, and a note for each that does not (naming the smallest model)."""
    if not files:
        return [], []
    room = {c: c.context_tokens - estimate_tokens(system_prompt(c, channel_prompt)) - estimate_tokens(text)
            for c in contestants}
    smallest = min(room, key=lambda c: room[c])
    return attachments.fit_context(files, room[smallest], smallest.name)


def exchanges(contestant_id: str, turns: Sequence[tuple[Task, list[Answer]]]) -> list[tuple[str, str | None]]:
    """(turn text, this model's own answer or None) for the earlier turns this model was part of.

    The first turn (the task) always counts, answered or not; a later turn counts when this model
    answered it (a follow-up to another model only, or one this model failed, is not its history).
    """
    history: list[tuple[str, str | None]] = []
    for task, answers in turns:
        mine = next((a for a in answers if a.contestant_id == contestant_id), None)
        reply = mine.text if mine is not None and mine.status == AnswerStatus.DONE and mine.text else None
        if reply is None and task.turn > 1:
            continue
        history.append((user_content(task), reply))
    return history


def build(system: str, history: Sequence[tuple[str, str | None]], text: str, context_tokens: int) -> Prompt:
    """The message list: system, the history's exchanges (oldest dropped first while it does not fit
    ``context_tokens``), then ``text``. A turn without an answer joins the next user message."""
    kept = list(history)
    fixed = estimate_tokens(system) + estimate_tokens(text)
    sizes = [estimate_tokens(user) + (estimate_tokens(reply) if reply is not None else 0) for user, reply in kept]
    dropped = 0
    while kept and fixed + sum(sizes) > context_tokens:
        kept.pop(0)
        sizes.pop(0)
        dropped += 1
    messages = [{"role": "system", "content": system}]
    waiting: list[str] = []
    for user, reply in kept:
        waiting.append(user)
        if reply is not None:
            messages += [{"role": "user", "content": "\n\n".join(waiting)}, {"role": "assistant", "content": reply}]
            waiting = []
    messages.append({"role": "user", "content": "\n\n".join([*waiting, text])})
    return Prompt(messages, dropped)


async def prompt_for(services: Services, task: Task, contestant: Contestant) -> Prompt:
    """What ``contestant`` is sent to answer ``task`` (a first turn or a follow-up)."""
    system = system_prompt(contestant, task.channel_prompt)
    history: list[tuple[str, str | None]] = []
    if task.root_id is not None:
        turns = await services.store.run(turns_db.earlier_turns, task.root_id, task.turn)
        history = exchanges(contestant.id, turns)
    return build(system, history, user_content(task), contestant.context_tokens)
