"""Task categories at work: correcting one (`/codegen tag 12 data`), filling a missing language from
the answers' code, and classifying stored tasks (`codegen-bot classify`).

A new task is classified from its text when it is created (the arena calls
:func:`bot.categories.classify`). When the text names no language, the language is filled in
once the answers are in, from the fence tags most answers used (:func:`fill_language`); the
header posted earlier is not edited. A person's correction always wins: the classifier never
overwrites a task someone tagged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot import categories
from bot.config import Settings
from bot.events import TagRequested, notify_safely
from bot.messages import Message, Tone
from bot.permissions import may_change_task
from bot.surface import Destination, Surface, SurfaceError
from storage import categories as category_store
from storage import tasks as task_store
from storage.db import Store
from storage.models import Answer, AnswerStatus

log = logging.getLogger(__name__)
TAG_USAGE = "Usage: `/codegen tag <task number> <category>`, e.g. `/codegen tag 12 data` or `/codegen tag 12 sql`."


def _problem(text: str) -> Message:
    return Message(text=f"⚠️ {text}", tone=Tone.ERROR)


async def tag_task(store: Store, settings: Settings, event: TagRequested, surface: Surface) -> None:
    """Set a task's kind of work and/or language as the asker or an admin says; note it in the thread."""
    if event.task_id is None or not event.tags:
        await notify_safely(event, _problem(f"{TAG_USAGE} Categories: {categories.category_names()}."))
        return
    task = await store.run(task_store.get_task, event.task_id)
    if task is None or task.id is None or task.platform != event.platform:
        await notify_safely(event, _problem(f"There is no task #{event.task_id}."))
        return
    if not may_change_task(settings, event.platform, event.user.id, task):
        await notify_safely(event, _problem(
            f"Only the person who asked task #{task.id} or an admin can change its category."))
        return
    try:
        chosen = categories.parse_tags(event.tags)
    except ValueError as exc:
        await notify_safely(event, _problem(str(exc)[0].upper() + str(exc)[1:] + "."))
        return
    before = categories.describe(task.kind, task.language)
    kind, language = chosen.kind or task.kind or categories.OTHER, chosen.language or task.language
    await store.run(category_store.set_category, task.id, kind, language, event.user.id)
    after = categories.describe(kind, language)
    who = event.user.name or ("the asker" if event.user.id == task.requester_id else "an admin")
    note = Message(text=f"🏷️ Task #{task.id} is now tagged **{after}** (was {before}), by {who}.", tone=Tone.INFO)
    try:
        await surface.post(Destination(task.channel, task.thread), note)
    except SurfaceError as exc:  # the tag is stored either way; the asker hears about it below
        log.info("could not note the tag of task %s in its thread: %s", task.id, exc.user_message)
    await notify_safely(event, Message(
        text=f"✅ Task #{task.id} is tagged {after}; leaderboards count it there from now on.", tone=Tone.SUCCESS))


def fill_language(store: Store, task_id: int, answers: Iterable[Answer]) -> str | None:
    """Fill a task's missing language from its finished answers' code (if most agree).

    Returns the language set, or None when the task had one, was tagged, or the answers disagree.
    """
    language = categories.language_of_answers(a.text for a in answers if a.status == AnswerStatus.DONE)
    if language is None:
        return None
    return language if category_store.fill_language(store, task_id, language) else None


def classify_stored(store: Store, *, everything: bool = False) -> int:
    """Classify stored tasks that have no category (all untagged ones with ``everything``).

    Language comes from the task's text, else from its answers' code. Returns how many were set.
    """
    count, after = 0, 0
    while batch := category_store.tasks_to_classify(store, everything=everything, after_id=after):
        values = []
        for item in batch:
            found = categories.classify(item.text)
            values.append((item.task_id, found.kind,
                           found.language or categories.language_of_answers(item.answer_texts)))
        category_store.set_classified(store, values)
        count += len(values)
        after = batch[-1].task_id
    return count
