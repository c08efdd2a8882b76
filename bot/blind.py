"""Blind mode: answers shown as "Answer A/B/…" until the names are revealed in the thread.

A blind task is revealed when it is older than ``after`` (default 24 h, ``blind_reveal_after_h``)
or earlier at the asker's request. Revealing marks the task atomically (one reveal even with
several replicas), edits each finished answer to show its model, and posts the key in the thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot import render
from bot.events import RevealRequested, notify_safely
from bot.jobs import RevealJob
from bot.messages import Message, Tone
from bot.services import Services
from bot.surface import Destination, MessageRef, Surface, SurfaceError
from bot.testruns import stored_outcome
from storage import leaderboard as lb_store
from storage import tasks as task_store
from storage import testresults
from storage import turns as turns_db
from storage.db import Store
from storage.models import UNFINISHED_TASK, Answer, AnswerStatus, Task

log = logging.getLogger(__name__)
DEFAULT_AFTER = timedelta(hours=24)


def should_reveal(task: Task, now: datetime, after: timedelta = DEFAULT_AFTER) -> bool:
    """Whether a blind, unrevealed task is old enough to have its names shown."""
    if not task.blind or task.revealed:
        return False
    created = task.created_at if task.created_at.tzinfo else task.created_at.replace(tzinfo=UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return now - created >= after


def reveal_key(task: Task, answers: list[Answer]) -> Message:
    """The thread message naming each blind answer's model."""
    lines = [f"• Answer {a.label} → {a.contestant_name or a.contestant_id}" for a in answers]
    return Message(title=f"🔓 Task #{task.id}: the models behind the answers", text="\n".join(lines), tone=Tone.INFO)


async def reveal(store: Store, surface: Surface, task_id: int) -> bool:
    """Reveal one blind task and the other turns of its conversation, whose labels are the same
    (False if it is not blind or someone revealed it already). The key is posted once."""
    task = await store.run(task_store.get_task, task_id)
    if task is None or not task.blind:
        return False
    revealed = await _reveal_turn(store, surface, task, post_key=True)
    for turn, _ in await store.run(turns_db.earlier_turns, task.root_id or task_id):
        if turn.id != task_id and turn.blind and not turn.revealed and turn.status not in UNFINISHED_TASK:  # a turn still streaming is revealed on its own, later
            await _reveal_turn(store, surface, turn, post_key=False)
    return revealed




async def _reveal_turn(store: Store, surface: Surface, task: Task, *, post_key: bool) -> bool:
    task_id = task.id or 0
    if not await store.run(lb_store.mark_revealed, task_id):
        return False
    answers = await store.run(task_store.task_answers, task_id)
    tested = await store.run(testresults.results_for_task, task_id)
    for answer in answers:
        if answer.message_id is None or answer.status in (AnswerStatus.PENDING, AnswerStatus.STREAMING):
            continue
        ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
        try:
            await surface.edit(ref, render.answer_final(answer, False, stored_outcome(tested.get(answer.id or 0))))
        except SurfaceError as exc:
            log.info("could not relabel answer %s of task %s: %s", answer.id, task_id, exc.user_message)
    if not post_key:
        return True
    try:
        await surface.post(Destination(task.channel, task.thread), reveal_key(task, answers))
    except SurfaceError as exc:
        log.warning("could not post the reveal of task %s: %s", task_id, exc.user_message)
    return True


async def request_reveal(services: Services, event: RevealRequested) -> None:
    """The arena's handler for a reveal request: the asker may reveal early, anyone once it is due."""
    after = timedelta(hours=services.settings.blind_reveal_after_h)
    task = await services.store.run(task_store.get_task, event.task_id)
    # A follow-up's reveal reveals the whole conversation: the task's asker decides, on its timer.
    first = await services.store.run(task_store.get_task, task.root_id) if task and task.root_id else task
    problem = None
    if task is None or first is None or task.platform != event.platform:
        problem = f"There is no task #{event.task_id}."
    elif not task.blind:
        problem = f"Task #{task.id} is not blind: its answers already show their models."
    elif task.revealed:
        problem = f"Task #{task.id} is already revealed."
    elif event.user.id != first.requester_id and not (first.revealed or should_reveal(first, datetime.now(UTC), after)):
        problem = (
            f"Only the person who asked can reveal task #{first.id} early; the names appear "
            f"automatically {after.total_seconds() / 3600:g} h after the task."
        )
    elif task.status in UNFINISHED_TASK:
        problem = f"Task #{task.id}'s answers are still being written; reveal them when they are done."
    if problem:
        await notify_safely(event, Message(text=problem, tone=Tone.ERROR))
        return
    assert task is not None and task.id is not None
    await services.queue.defer([RevealJob(task.id)])


async def reveal_job(services: Services, job: RevealJob) -> None:
    """Reveal the job's task on its platform's surface (nothing when someone already did)."""
    task = await services.store.run(task_store.get_task, job.task_id)
    if task is not None:
        await reveal(services.store, services.surfaces.get(task.platform), job.task_id)


class BlindRevealer:
    """Reveals blind tasks once they are ``after`` old, on the surfaces this process serves."""

    def __init__(
        self, store: Store, surfaces: dict[str, Surface], after: timedelta = DEFAULT_AFTER,
        poll_interval: float = 60.0,
    ) -> None:
        self.store = store
        self.surfaces = surfaces
        self.after = after
        self.poll_interval = poll_interval

    async def tick(self, now: datetime | None = None) -> list[int]:
        """Reveal every due task; returns the ids this call revealed."""
        now = now or datetime.now(UTC)
        due = await self.store.run(lb_store.blind_tasks_due, now - self.after)
        done = []
        for task_id in due:
            task = await self.store.run(task_store.get_task, task_id)
            surface = self.surfaces.get(task.platform) if task else None
            if surface is None:
                continue  # another process serves that platform
            if await reveal(self.store, surface, task_id):
                done.append(task_id)
        return done

    async def run_forever(self) -> None:
        """Tick every ``poll_interval`` seconds until cancelled."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("blind reveal tick failed")
            await asyncio.sleep(self.poll_interval)
