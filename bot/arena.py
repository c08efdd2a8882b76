"""The arena: the core's front door. Adapters call :meth:`Arena.handle` with core events.

An event is handled at once (validated, stored, answered privately when it is wrong) and any
work that outlives an acknowledgement is deferred as a durable job (:mod:`bot.jobs`): answering
a task, running code, revealing a blind task. Jobs run wherever the queue sends them: this
process (the embedded default) or any worker sharing the PostgreSQL queue. :meth:`execute` is
what a worker calls for each job.
"""

from __future__ import annotations

import asyncio
import logging
import random
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import answering, attachments, choosing, conversation, followups, limits, logcontext, metrics, render
from bot.categories import classify
from bot.config import Settings
from bot.controls import Controls, channel_roster
from bot.events import (
    AttachedFile,
    AutorunChanged,
    BlindModeChanged,
    ControlRequested,
    DashboardRequested,
    Event,
    LeaderboardRequested,
    ReactionChanged,
    RetryRequested,
    RevealRequested,
    RunRequested,
    SubscriptionChanged,
    TagRequested,
    TaskRequested,
    notify_safely,
)
from bot.inprocess import InProcessQueue
from bot.jobs import AnswerJob, Job, JobQueue, RevealJob, RunJob, StartTask, TestRunJob
from bot.local_model import LocalModelServer
from bot.messages import Field
from bot.ordering import KeyedOrder
from bot.providers.client import ChatClient
from bot.ratings import ordering_key
from bot.retention import GONE, contents_gone
from bot.roster import Availability, Contestant, Roster, check_availability
from bot.services import Services, Surfaces
from bot.surface import Destination, MessageRef, Surface, SurfaceError
from bot.tagging import tag_task
from bot.testing.suite import TestsError, split_tests
from bot.testruns import TestRuns
from storage import tasks as db
from storage.db import Store, new_row
from storage.errors import StorageUnavailable
from storage.leaderboard import channel_settings
from storage.limits import TooManyTasks
from storage.models import Answer, AnswerStatus, Task, TaskStatus

if TYPE_CHECKING:
    from bot.sandbox.service import SandboxService

log = logging.getLogger(__name__)
HELP_WORDS = {"", "help", "-h", "--help", "?", "usage"}
Handler = Callable[[Any, Surface], Awaitable[Any]]
Planned = tuple[Task, list[Answer], list[Availability], dict[str, float]]  # a task, its answers, who was left out


@dataclass(frozen=True)
class Context:
    """A request's attached text files (tests taken out) and the notes on those already skipped."""

    files: Sequence[AttachedFile]
    notes: Sequence[str]

    def fit(self, contestants: list[Contestant], text: str, channel_prompt: str | None
            ) -> tuple[list[attachments.TextFile], list[Field]]:
        """The files that fit every contestant's context, and the header's lines about all of them."""
        kept, too_big = conversation.fit_files(self.files, contestants, text, channel_prompt)
        return kept, attachments.header_fields(kept, [*self.notes, *too_big])


@dataclass
class TaskOutcome:
    """A task and its answers (as stored when returned) and the contestants skipped, why."""

    task: Task
    answers: list[Answer]
    skipped: list[Availability] = field(default_factory=list)


class Arena:
    """Handles core events and executes jobs, with the :class:`~bot.services.Services` it is given.

    Built either from ``services`` (the composition root does) or from the parts (tests, the
    CLI): then jobs run in this process on an :class:`~bot.inprocess.InProcessQueue`.
    """

    def __init__(
        self,
        store: Store | None = None,
        roster: Roster | None = None,
        client: ChatClient | None = None,
        settings: Settings | None = None,
        *,
        sandbox: SandboxService | None = None,
        local_model: LocalModelServer | None = None,
        rng: random.Random | None = None,
        services: Services | None = None,
    ) -> None:
        if services is None:
            assert store is not None and roster is not None and client is not None and settings is not None
            queue = InProcessQueue()
            services = Services(
                store=store, roster=roster, client=client, settings=settings, queue=queue,
                surfaces=Surfaces(edit_interval=settings.edit_interval), sandbox=sandbox,
                local_model=local_model or LocalModelServer(), rng=rng or random.SystemRandom(),
            )
            queue.bind(self.execute)
        self.services = services
        self.tests = TestRuns(services)  # automatic runs of answers against their tests
        self.controls = Controls(services)  # channel settings, roster, prompt, budget, usage (admins change)
        self._in_order = KeyedOrder()
        self._handlers: dict[type[Event], Handler] = {
            TaskRequested: self.request_task,
            ReactionChanged: self._on_reaction,
            RunRequested: self._on_run,
            RetryRequested: self._on_retry,
            LeaderboardRequested: self._on_leaderboard,
            SubscriptionChanged: self._on_subscription,
            RevealRequested: self._on_reveal,
            BlindModeChanged: self._on_blind_mode,
            AutorunChanged: self._on_autorun,
            TagRequested: self._on_tag,
            ControlRequested: self.controls.handle,
            DashboardRequested: self._on_dashboard,
        }

    # The parts, for the adapters and the CLI.
    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def roster(self) -> Roster:
        return self.services.roster

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def client(self) -> ChatClient:
        return self.services.client

    @property
    def sandbox(self) -> SandboxService | None:
        return self.services.sandbox

    @sandbox.setter
    def sandbox(self, sandbox: SandboxService | None) -> None:
        self.services.sandbox = sandbox

    @property
    def local_model(self) -> LocalModelServer:
        return self.services.local_model

    @property
    def queue(self) -> JobQueue:
        return self.services.queue

    # ----------------------------------------------------------------------------- events

    async def handle(self, event: Event, surface: Surface) -> None:
        """Handle one event. Never raises: failures are logged and reported to the user.

        ``surface`` is the one the event came from; this process's jobs use it for its platform.
        """
        self._use(surface)
        handler = self._handlers.get(type(event))
        if handler is None:
            log.warning("no handler for %s", type(event).__name__)
            return
        with logcontext.scope():
            async with self._in_order.hold(ordering_key(event)):  # per-key delivery order (ratings)
                await self._handle_in_order(handler, event, surface)

    async def _handle_in_order(self, handler: Callable[[Any, Surface], Awaitable[Any]], event: Event,
                               surface: Surface) -> None:
        try:
            if event.event_id and not await self._claim(f"{event.platform}:{event.event_id}"):
                log.info("duplicate delivery %s ignored", event.event_id)
                return
            await handler(event, surface)
        except asyncio.CancelledError:
            raise
        except StorageUnavailable as exc:  # e.g. the claim or the task could not be written: say so
            log.warning("handling %s: %s", type(event).__name__, exc)
            await notify_safely(event, render.storage_unavailable(exc.kind))
        except SurfaceError as exc:  # the platform refused (e.g. bot not in the channel): say why
            log.info("handling %s: platform refused: %s", type(event).__name__, exc.user_message)
            await notify_safely(event, render.error(exc.user_message))
        except Exception:
            log.exception("handling %s failed", type(event).__name__)
            await notify_safely(event, render.error("Something went wrong on our side; it has been logged."))

    def _use(self, surface: Surface) -> None:
        """Jobs of this process post through the surface the latest event came from, unless
        jobs of the one they use now may still be in flight (it keeps serving them, and this)."""
        registry = self.services.surfaces
        if surface.platform in registry:
            if registry.get(surface.platform) is surface:
                return
            queue = self.services.queue
            if not isinstance(queue, InProcessQueue) or len(queue.tracker) or registry.editor(surface.platform).busy:
                log.warning("a second %s surface while jobs are in flight: keeping the first", surface.platform)
                return
        registry.add(surface)

    async def _claim(self, key: str) -> bool:
        return await self.store.run(db.claim_event, key)

    async def execute(self, job: Job) -> None:
        """Run one job (what a worker calls)."""
        with logcontext.scope():
            await self._execute(job)

    async def _execute(self, job: Job) -> None:
        if isinstance(job, AnswerJob):
            finished = await answering.answer(self.services, job)
            if finished is not None:
                await self.tests.after_answer(*finished)
        elif isinstance(job, StartTask):
            await answering.start_task(self.services, job)
        elif isinstance(job, RunJob):
            from bot.runs import run_job

            await run_job(self.services, job)
        elif isinstance(job, TestRunJob):
            await self.tests.run_answer(job.answer_id)
        elif isinstance(job, RevealJob):
            from bot.blind import reveal_job

            await reveal_job(self.services, job)
        else:
            raise TypeError(f"no executor for {job!r}")

    async def join(self) -> None:
        """Wait until this process's in-process jobs and background work are done (tests, the
        console, the CLI)."""
        queue = self.services.queue
        while True:
            if isinstance(queue, InProcessQueue):
                await queue.join()
            await self.services.tracker.join()
            if not (isinstance(queue, InProcessQueue) and len(queue.tracker)) and not len(self.services.tracker):
                return

    async def resume(self, close: Sequence[str] = ()) -> int:
        """Take over what a previous process left unfinished (see :func:`bot.answering.resume`),
        test runs included. Returns how many tasks were taken over."""
        resumed = await answering.resume(self.services, frozenset(close))
        await self.tests.resume()
        return resumed

    # ----------------------------------------------------------------------------- roster

    def availability(self) -> list[Availability]:
        """Every contestant with whether it can answer now and why not."""
        return check_availability(self.roster, self.settings)

    def select(self, wanted: Sequence[str] | None,
               channel: Sequence[str] | None = None) -> tuple[list[Contestant], list[Availability]]:
        """Contestants to ask and those skipped (with reasons), among the ``channel``'s roster when it
        chose one (``/codegen models use``). Raises :class:`~bot.choosing.ChoiceError` on an id that
        is unknown or outside the channel's roster (see :mod:`bot.choosing`)."""
        if wanted:
            wanted = choosing.resolve(wanted, self.roster.ids, channel)
        chosen, skipped = [], []
        for item in self.availability():
            if (wanted and item.contestant.id not in wanted) or (channel and item.contestant.id not in channel):
                continue
            (chosen.append(item.contestant) if item.available else skipped.append(item))
        return chosen, skipped

    # ----------------------------------------------------------------------------- tasks

    async def request_task(self, event: TaskRequested, surface: Surface) -> TaskOutcome | None:
        """Validate a task (or a follow-up turn of one: bot/followups.py), store it with one pending
        answer per contestant, defer its start.

        Returns as soon as the task is queued (None when it was refused, with a private reply).
        """
        self._use(surface)
        if event.platform != surface.platform:  # its jobs would find no surface and never finish
            raise ValueError(f"a {event.platform} event came with a {surface.platform} surface")
        try:
            follow = await followups.find(self.services, event)
        except followups.FollowUpError as exc:
            await notify_safely(event, render.error(str(exc)))
            return None
        files = attachments.screen(event.files)
        try:
            found_tests = split_tests(follow.text if follow else event.text, tests=event.tests,
                                      show=event.show_tests, files=files.readable)
        except TestsError as exc:
            await notify_safely(event, render.error(str(exc)))
            return None
        if found_tests.skipped:
            await notify_safely(event, render.info("⚠️ Not used as tests: " + "; ".join(found_tests.skipped) + "."))
        wanted, text = (None, found_tests.text) if follow else choosing.take_flag(found_tests.text)
        text = text.strip()
        if text.lower() in HELP_WORDS:
            await notify_safely(event, render.usage())
            return None
        if len(text) > self.settings.max_task_chars:
            await notify_safely(event, render.error(
                f"That task is {len(text):,} characters; the limit is {self.settings.max_task_chars:,}. "
                "Shorten it or attach the details as a link."))
            return None
        context = Context(found_tests.files, files.notes)
        planned = await (self._follow_up(event, follow, text, context) if follow
                         else self._first_turn(event, text, wanted or event.models, context))
        if planned is None:
            return None
        new_task, new_answers, skipped, estimates = planned
        new_task.tests, new_task.show_tests = found_tests.stored(), found_tests.show
        for new_answer in new_answers:
            new_answer.cost_estimate_usd = estimates.get(new_answer.contestant_id)
        per_hour = limits.per_hour(self.services, event.platform)
        try:
            task, answers = await self.store.run(db.create_task, new_task, new_answers, per_hour=per_hour)
        except TooManyTasks as exc:
            await notify_safely(event, render.error(limits.hourly_refusal(exc, per_hour)))
            return None
        logcontext.bind(task=task.id)
        metrics.task_started(task.platform)
        await self.queue.defer([StartTask(task.id or 0)])
        return TaskOutcome(task, answers, skipped)

    async def ask(self, event: TaskRequested, surface: Surface) -> TaskOutcome | None:
        """Request a task and wait until its answers are final (the console and the CLI)."""
        outcome = await self.request_task(event, surface)
        if outcome is None:
            return None
        task_id = outcome.task.id or 0
        finished = asyncio.ensure_future(self.services.finished.wait(task_id))
        waits: set[asyncio.Future[None]] = {finished}
        queue = self.services.queue
        if isinstance(queue, InProcessQueue):  # jobs that gave up must not leave us waiting forever
            locks = [f"task:{task_id}", *(f"answer:{a.id}" for a in outcome.answers)]
            waits.add(asyncio.ensure_future(queue.settled(locks)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            found = await self.store.run(db.task_with_answers, task_id)
            assert found is not None
            if not finished.done() and found[0].queue_ahead is not None:  # waiting for a slot, not given up
                await finished
                found = await self.store.run(db.task_with_answers, task_id)
                assert found is not None
        finally:
            for waiting in waits:
                waiting.cancel()
        if found[0].status not in answering.FINISHED_TASK:
            log.error("task %s: its jobs ended without finishing it (see the errors above)", task_id)
        return TaskOutcome(found[0], found[1], outcome.skipped)

    async def _first_turn(self, event: TaskRequested, text: str, wanted: Sequence[str] | None,
                          context: Context) -> Planned | None:
        """A new task's row and answers (the channel's roster, or the ``wanted`` ids within it, under
        its budget, with the attached files that fit), or None when refused."""
        row = await self.store.run(channel_settings, event.platform, event.channel)
        try:
            contestants, skipped = self.select(wanted, channel_roster(row))
        except choosing.ChoiceError as exc:
            await notify_safely(event, render.error(str(exc)))
            return None
        if not contestants:
            reasons = "; ".join(f"{s.contestant.name}: {s.reason}" for s in skipped) or "the roster is empty"
            await notify_safely(event, render.error(f"No model is available to answer ({reasons})."))
            return None
        kept, notes = context.fit(contestants, text, row.prompt if row else None)
        fit, estimates = await self.controls.fit(event.platform, event.channel, row, contestants,
                                                 len(attachments.user_message(text, kept)))
        if fit.refusal:
            await notify_safely(event, render.error(fit.refusal))
            return None
        contestants, skipped = fit.contestants, skipped + fit.left_out
        new_task, new_answers = self._new_task(event, text, contestants, skipped, notes)
        new_task.channel_prompt = row.prompt if row else None
        new_task.files = [f.to_json() for f in kept] or None
        return new_task, new_answers, skipped, estimates

    async def _follow_up(self, event: TaskRequested, follow: followups.FollowUp, text: str,
                         context: Context) -> Planned | None:
        """A follow-up turn's row and answers (the task's models, under the channel's budget, with the
        attached files that fit)."""
        root = follow.root
        contestants, notes = followups.contestants(follow, self.availability())
        if not contestants:
            reasons = "; ".join(f"{n.name}: {n.value}" for n in notes) or "the task has no answers"
            await notify_safely(event, render.error(f"No model of task #{root.id} can answer now ({reasons})."))
            return None
        row = await self.store.run(channel_settings, root.platform, root.channel)
        kept, file_notes = context.fit(contestants, text, root.channel_prompt)
        prompt_chars = follow.history_chars + len(attachments.user_message(text, kept))
        fit, estimates = await self.controls.fit(root.platform, root.channel, row, contestants, prompt_chars)
        if fit.refusal:
            await notify_safely(event, render.error(fit.refusal))
            return None
        new_task, new_answers = followups.new_turn(follow, event, text, fit.contestants,
                                                   notes + render.skipped_fields(fit.left_out) + file_notes)
        new_task.files = [f.to_json() for f in kept] or None
        return new_task, new_answers, fit.left_out, estimates

    def _new_task(
        self, event: TaskRequested, text: str, contestants: list[Contestant], skipped: list[Availability],
        notes: Sequence[Field] = (),
    ) -> tuple[Task, list[Answer]]:
        order = list(contestants)
        self.services.rng.shuffle(order)  # answer position is always randomised and recorded
        category = classify(text)
        task = Task(
            platform=event.platform, channel=event.channel, thread=event.thread,
            anchor=event.anchor.message_id if event.anchor else None,
            requester_id=event.user.id, requester_name=event.user.name, text=text,
            kind=category.kind, language=category.language,
            reply_to=event.reply_to, notes=answering.encode_notes([*render.skipped_fields(skipped), *notes]),
        )
        answers = [
            new_row(
                Answer, task_id=0, contestant_id=c.id, contestant_name=c.name, position=i,
                label=_label(i), status=AnswerStatus.PENDING,
            )
            for i, c in enumerate(order)
        ]
        return task, answers


    async def cancel_task(self, task_id: int, surface: Surface) -> TaskOutcome | None:
        """Stop a task its asker gave up on (the console's Ctrl-C): its jobs in this process are
        stopped and each unfinished answer is marked cancelled, in storage and on its message.
        Returns the task and its answers, or None when there is no such task."""
        found = await self.store.run(db.task_with_answers, task_id)
        if found is None:
            return None
        queue = self.services.queue
        if isinstance(queue, InProcessQueue):
            await queue.cancel({f"task:{task_id}"} | {f"answer:{a.id}" for a in found[1]})
        cancelled = await self.store.run(db.cancel_task, task_id)
        if cancelled is None:
            return None
        task, answers = cancelled
        editor = self.services.surfaces.editor(task.platform)
        for answer in answers:
            if answer.status == AnswerStatus.CANCELLED and answer.message_id:
                metrics.answer_finished(answer.contestant_id, "cancelled")
                ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
                await editor.final(ref, render.answer_final(answer, task.blind and not task.revealed))
        await limits.task_ended(self.services, task_id, task.platform)
        return TaskOutcome(task, answers)

    # ----------------------------------------------------------------------------- retry

    async def _on_retry(self, event: RetryRequested, surface: Surface) -> None:
        found = await self.store.run(db.get_answer, event.answer_id)
        if found is None:
            await notify_safely(event, render.error("That answer no longer exists."))
            return
        answer, task = found
        if contents_gone(task):
            await notify_safely(event, render.error(GONE))
            return
        if answer.status not in (AnswerStatus.ERROR, AnswerStatus.INTERRUPTED, AnswerStatus.CANCELLED):
            await notify_safely(event, render.error("Only a failed answer can be retried."))
            return
        contestant = self.roster.get(answer.contestant_id)
        if contestant is None:
            await notify_safely(event, render.error(f"{answer.contestant_name} is no longer in the roster."))
            return
        availability = next(a for a in self.availability() if a.contestant.id == contestant.id)
        if not availability.available:
            await notify_safely(event, render.error(f"{contestant.name} is unavailable: {availability.reason}."))
            return
        if not answer.message_id:
            await notify_safely(event, render.error("That answer's message is gone; ask the task again."))
            return
        await self.store.run(db.update_answer, answer.id or 0, status=AnswerStatus.PENDING, error=None, text="",
                             attempts=0, truncated=False)
        await self.store.run(db.update_task, task.id or 0, status=TaskStatus.RUNNING, finished_at=None)
        await self.queue.defer([AnswerJob(answer.id or 0)])

    # ----------------------------------------------------------------------------- delegated

    async def _on_reaction(self, event: ReactionChanged, surface: Surface) -> None:
        from bot.ratings import apply_reaction

        await apply_reaction(self.store, event)

    async def _on_run(self, event: RunRequested, surface: Surface) -> None:
        from bot.runs import request_run

        await request_run(self.services, event)

    async def _on_leaderboard(self, event: LeaderboardRequested, surface: Surface) -> None:
        from bot.categories import parse_category
        from bot.leaderboard import build_leaderboard, parse_window, render_leaderboard

        try:
            parse_window(event.window)
            category = parse_category(event.category) if event.category else None
        except ValueError as exc:
            hint = "; a window looks like 7d, 28d, 4w or all" if "category" in str(exc) else ""
            await notify_safely(event, render.error(str(exc)[0].upper() + str(exc)[1:] + hint + "."))
            return
        board = await self.store.run(build_leaderboard, window=event.window, category=category)
        await surface.post(Destination(event.channel), render_leaderboard(board))

    async def _on_dashboard(self, event: DashboardRequested, surface: Surface) -> None:
        from bot.dashboard_access import DashboardAccess

        access = DashboardAccess.from_settings(self.settings)
        link = access.link(f"{event.platform}:{event.user.id}")
        await notify_safely(event, render.dashboard_link(link, access.link_hours))

    async def _on_tag(self, event: TagRequested, surface: Surface) -> None:
        await tag_task(self.store, self.settings, event, surface)

    async def _on_subscription(self, event: SubscriptionChanged, surface: Surface) -> None:
        if await self.controls.change(event, surface, event.channel, {"subscribed": event.subscribed},
                                      "weekly leaderboard") is None:
            return
        await notify_safely(event, render.info(
            "✅ This channel will get the weekly leaderboard (Mondays 09:00 "
            f"{self.settings.leaderboard_tz})." if event.subscribed
            else "This channel will no longer get the weekly leaderboard."))

    async def _on_blind_mode(self, event: BlindModeChanged, surface: Surface) -> None:
        if await self.controls.change(event, surface, event.channel, {"blind": event.enabled}, "blind mode") is None:
            return
        await notify_safely(event, render.info(
            "🙈 Blind mode is on: new tasks here label answers A, B, C… in random order; the models are "
            f"revealed after {self.settings.blind_reveal_after_h:g} h or when the asker presses Reveal."
            if event.enabled else "Blind mode is off: new tasks here show model names."))

    async def _on_autorun(self, event: AutorunChanged, surface: Surface) -> None:
        if await self.controls.change(event, surface, event.channel, {"autorun": event.enabled}, "smoke runs") is not None:
            await self.tests.autorun_changed(event)

    async def _on_reveal(self, event: RevealRequested, surface: Surface) -> None:
        from bot.blind import request_reveal

        await request_reveal(self.services, event)


def _label(index: int) -> str:
    letters = string.ascii_uppercase
    return letters[index] if index < len(letters) else f"{letters[index // 26 - 1]}{letters[index % 26]}"
