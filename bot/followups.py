"""Follow-ups: a request in a task's thread continues that task's conversation as a new turn.

A request is a follow-up when the console names the task (``follows``), when it replies to an
answer's message (Discord: it then goes to that answer's model only), or when it was made in a
task's thread. ``B: <text>`` (an answer's label, or a model id when the task is not blind, then a
colon) sends it to that model only. The new turn is a task of its own chained to the first
(``root_id``, ``turn``): the same thread, models, labels, positions and blind mode, so it streams,
is run, retried, rated and recovered like any task, and each model continues its own
conversation (:mod:`bot.conversation`). Anything else stays a new task, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import render
from bot.answering import encode_notes
from bot.events import TaskRequested
from bot.messages import Field
from bot.retention import GONE, contents_gone
from bot.roster import Availability, Contestant
from bot.services import Services
from storage import tasks as db
from storage import turns as turns_db
from storage.db import new_row
from storage.models import UNFINISHED_TASK, Answer, AnswerStatus, Task
from storage.ratings import find_answer

LABELLED = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*:\s*(.*)", re.S)


class FollowUpError(ValueError):
    """A follow-up that cannot be: its message says why (shown privately)."""


@dataclass(frozen=True)
class FollowUp:
    """A request that continues ``root``'s conversation.

    ``answers`` are the first turn's (their models, labels and positions carry over); ``only`` is
    the one contestant it goes to (None: every model of the task); ``text`` has its label removed;
    ``history_chars`` is the size of the longest conversation so far (for the budget's estimate).
    """

    root: Task
    answers: list[Answer]
    only: str | None
    text: str
    history_chars: int


async def find(services: Services, event: TaskRequested) -> FollowUp | None:
    """The follow-up ``event`` is, or None when it is a new task. Raises FollowUpError."""
    store = services.store
    root: Task | None = None
    only: str | None = None
    if event.follows is not None:
        task = await store.run(db.get_task, event.follows)
        if task is None or task.platform != event.platform:
            raise FollowUpError(f"There is no task #{event.follows} to follow up.")
        root = await _root(services, task)
    if root is None and event.replying_to:
        found = await store.run(find_answer, event.platform, event.thread or event.channel, event.replying_to)
        task = await store.run(db.get_task, found.task_id) if found is not None else None
        if found is not None and task is not None:
            root, only = await _root(services, task), found.contestant_id
    if root is None and (event.thread or event.anchor):
        root = await store.run(turns_db.thread_root, event.platform, event.channel, event.thread)
    if root is None or root.id is None:
        return None
    if contents_gone(root):
        raise FollowUpError(GONE)
    turns = await store.run(turns_db.earlier_turns, root.id)
    if any(turn.status in UNFINISHED_TASK for turn, _ in turns):
        raise FollowUpError(f"Task #{root.id}'s answers are still being written; follow up when they are done.")
    answers = turns[0][1] if turns else []
    text, label = event.text, event.only
    if label is None and only is None:
        labelled = LABELLED.match(text)
        if labelled and _named(answers, labelled.group(1), root.blind) is not None:
            label, text = labelled.group(1), labelled.group(2)
    if label is not None:
        named = _named(answers, label, root.blind)
        if named is None:
            raise FollowUpError(f"Task #{root.id} has no answer {label.strip()!r}; its answers are "
                                f"{', '.join(a.label for a in answers) or 'none'}.")
        only = named.contestant_id
    history = sum(len(t.text) + max((len(a.text) for a in turn_answers), default=0) for t, turn_answers in turns)
    return FollowUp(root, answers, only, text.strip(), history)


async def _root(services: Services, task: Task) -> Task:
    if task.root_id is None:
        return task
    return await services.store.run(db.get_task, task.root_id) or task


def _named(answers: list[Answer], name: str, blind: bool) -> Answer | None:
    """The answer a label (any case) names, or a model id when the task shows names."""
    wanted = name.strip()
    for answer in answers:
        if answer.label.lower() == wanted.lower() or (not blind and answer.contestant_id == wanted):
            return answer
    return None


def contestants(follow: FollowUp,
                availability: list[Availability]) -> tuple[list[Contestant], list[Field]]:
    """The task's models this follow-up asks, and header notes naming those it cannot, and why."""
    by_id = {item.contestant.id: item for item in availability}
    chosen: list[Contestant] = []
    unavailable: list[Availability] = []
    gone: list[str] = []
    for answer in follow.answers:
        if follow.only is not None and answer.contestant_id != follow.only:
            continue
        item = by_id.get(answer.contestant_id)
        if item is None:
            gone.append(answer.contestant_name or answer.contestant_id)
        elif item.available:
            chosen.append(item.contestant)
        else:
            unavailable.append(item)
    notes = render.skipped_fields(unavailable)
    if gone:
        notes.append(Field("Skipped (no longer in the roster)", ", ".join(gone)))
    return chosen, notes


def new_turn(follow: FollowUp, event: TaskRequested, text: str, chosen: list[Contestant],
             notes: list[Field]) -> tuple[Task, list[Answer]]:
    """The follow-up's task (turn numbered when stored) and one pending answer per chosen model."""
    root = follow.root
    task = Task(
        platform=root.platform, channel=root.channel, thread=root.thread or event.thread, root_id=root.id,
        requester_id=event.user.id, requester_name=event.user.name, text=text, kind=root.kind,
        language=root.language, blind=root.blind, revealed=root.revealed, channel_prompt=root.channel_prompt,
        reply_to=event.reply_to, notes=encode_notes(notes),
    )
    ids = {c.id for c in chosen}
    answers = [
        new_row(Answer, task_id=0, contestant_id=a.contestant_id, contestant_name=a.contestant_name,
                position=a.position, label=a.label, status=AnswerStatus.PENDING)
        for a in follow.answers if a.contestant_id in ids
    ]
    return task, answers
