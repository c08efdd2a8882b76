"""The arena: handles core events, fans tasks out to contestants, streams answers to a surface."""

from __future__ import annotations

import asyncio
import logging
import random
import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot import logcontext, metrics, render
from bot.categories import classify
from bot.config import Settings
from bot.events import (
    AutorunChanged,
    BlindModeChanged,
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
from bot.live import LiveMessage
from bot.local_model import LocalModelServer, LocalModelUnavailable
from bot.messages import Message
from bot.ordering import KeyedOrder
from bot.providers.client import ChatClient, ChatRequest, Completion
from bot.ratings import ordering_key
from bot.roster import Availability, Contestant, Roster, check_availability
from bot.surface import Destination, MessageRef, Surface, SurfaceError, rating_hint
from bot.tagging import fill_language, tag_task
from bot.testing.suite import TestsError, split_tests
from bot.testruns import TestRuns
from storage import tasks as db
from storage.db import Store
from storage.errors import StorageUnavailable
from storage.models import Answer, AnswerStatus, Task, TaskStatus, utcnow

log = logging.getLogger(__name__)
HELP_WORDS = {"", "help", "-h", "--help", "?", "usage"}


@dataclass
class TaskOutcome:
    """What a finished comparison produced (used by the CLI's `ask` and by tests)."""

    task: Task
    answers: list[Answer]
    skipped: list[Availability] = field(default_factory=list)


class Arena:
    """The core. Adapters call :meth:`handle`; everything else here is the arena's own business."""

    def __init__(
        self,
        store: Store,
        roster: Roster,
        client: ChatClient,
        settings: Settings,
        *,
        sandbox: Any = None,
        local_model: LocalModelServer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.roster = roster
        self.client = client
        self.settings = settings
        self.sandbox = sandbox
        self.local_model = local_model or LocalModelServer()
        self.rng = rng or random.SystemRandom()
        self.tests = TestRuns(store, lambda: self.sandbox)  # automatic runs of answers (bot/testruns.py)
        self._in_order = KeyedOrder()
        self._handlers: dict[type[Event], Callable[[Any, Surface], Awaitable[Any]]] = {
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
        }

    # ----------------------------------------------------------------------------- events

    async def handle(self, event: Event, surface: Surface) -> None:
        """Handle one event. Never raises: failures are logged and reported to the user."""
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

    async def _claim(self, key: str) -> bool:
        return await self.store.run(db.claim_event, key)

    # ----------------------------------------------------------------------------- roster

    def availability(self) -> list[Availability]:
        """Every contestant with whether it can answer now and why not."""
        return check_availability(self.roster, self.settings)

    def select(self, wanted: Sequence[str] | None) -> tuple[list[Contestant], list[Availability]]:
        """Contestants to ask and those skipped (with reasons). Raises ValueError on unknown ids."""
        if wanted:
            unknown = [w for w in wanted if self.roster.get(w) is None]
            if unknown:
                raise ValueError(
                    f"unknown model id(s): {', '.join(unknown)}. Known: {', '.join(self.roster.ids)}"
                )
        chosen, skipped = [], []
        for item in self.availability():
            if wanted and item.contestant.id not in wanted:
                continue
            (chosen.append(item.contestant) if item.available else skipped.append(item))
        return chosen, skipped

    # ----------------------------------------------------------------------------- tasks

    async def request_task(self, event: TaskRequested, surface: Surface) -> TaskOutcome | None:
        """Validate a task, fan it out to every selected contestant and stream the answers."""
        try:
            found_tests = split_tests(event.text, tests=event.tests, show=event.show_tests, files=event.files)
        except TestsError as exc:
            await notify_safely(event, render.error(str(exc)))
            return None
        if found_tests.skipped:
            await notify_safely(event, render.info("⚠️ Not used as tests: " + "; ".join(found_tests.skipped) + "."))
        text = found_tests.text.strip()
        if text.lower() in HELP_WORDS:
            await notify_safely(event, render.usage())
            return None
        if len(text) > self.settings.max_task_chars:
            await notify_safely(event, render.error(
                f"That task is {len(text):,} characters; the limit is {self.settings.max_task_chars:,}. "
                "Shorten it or attach the details as a link."))
            return None
        try:
            contestants, skipped = self.select(event.models)
        except ValueError as exc:
            await notify_safely(event, render.error(str(exc)))
            return None
        if not contestants:
            reasons = "; ".join(f"{s.contestant.name}: {s.reason}" for s in skipped) or "the roster is empty"
            await notify_safely(event, render.error(f"No model is available to answer ({reasons})."))
            return None

        new_task, new_answers = self._new_task(event, text, contestants)
        new_task.tests, new_task.show_tests = found_tests.stored(), found_tests.show
        task, answers = await self.store.run(db.create_task, new_task, new_answers)
        logcontext.bind(task=task.id)
        metrics.task_started(task.platform)
        blind = task.blind
        by_id = {c.id: c for c in contestants}
        try:
            destination = await self._open_task_thread(task, answers, skipped, blind, event, surface)
            refs = [await surface.post(destination, render.answer_placeholder(a, blind)) for a in answers]
        except SurfaceError as exc:
            await self.store.run(db.abandon_task, task.id, exc.user_message)
            await notify_safely(event, render.error(exc.user_message))
            return TaskOutcome(task, answers, skipped)
        for answer, ref in zip(answers, refs, strict=True):
            answer.message_channel, answer.message_id = ref.channel, ref.message_id
        await self.store.run(
            db.start_answers, task.id, {a.id: (a.message_channel, a.message_id) for a in answers},
            thread=task.thread, channel=task.channel, parent_message_id=task.parent_message_id,
        )
        await asyncio.gather(*(
            self._stream_answer(answer, by_id[answer.contestant_id], task, blind, surface, ref)
            for answer, ref in zip(answers, refs, strict=True)
        ))
        final = await self.store.run(db.finish_task_if_done, task.id)
        task.language = task.language or await self.store.run(fill_language, task.id, final)
        return TaskOutcome(task, final, skipped)

    def _new_task(
        self, event: TaskRequested, text: str, contestants: list[Contestant]
    ) -> tuple[Task, list[Answer]]:
        order = list(contestants)
        self.rng.shuffle(order)  # answer position is always randomised and recorded
        category = classify(text)
        task = Task(
            platform=event.platform, channel=event.channel, thread=event.thread,
            requester_id=event.user.id, requester_name=event.user.name, text=text,
            kind=category.kind, language=category.language,
        )
        answers = [
            Answer(
                task_id=0, contestant_id=c.id, contestant_name=c.name, position=i,
                label=_label(i), status=AnswerStatus.PENDING,
            )
            for i, c in enumerate(order)
        ]
        return task, answers

    async def _open_task_thread(
        self, task: Task, answers: list[Answer], skipped: list[Availability], blind: bool,
        event: TaskRequested, surface: Surface,
    ) -> Destination:
        header = render.task_header(task, answers, skipped, blind, rating_hint(surface))
        name = _thread_name(task.text)
        if event.thread:
            destination = Destination(event.channel, event.thread)
            parent = await surface.post(destination, header)
        elif event.anchor:
            destination = await surface.open_thread(event.anchor, name)
            parent = await surface.post(destination, header)
        else:
            parent = await surface.post(Destination(event.channel), header)
            destination = await surface.open_thread(parent, name)
        task.thread, task.channel, task.parent_message_id = destination.thread, destination.channel, parent.message_id
        return destination

    async def _stream_answer(
        self, answer: Answer, contestant: Contestant, task: Task, blind: bool,
        surface: Surface, ref: MessageRef,
    ) -> None:
        """Ask one contestant, edit its reply as text arrives (throttled), then finalise."""
        logcontext.bind(task=task.id, answer=answer.id)
        started = time.monotonic()
        parts: list[str] = []

        def snapshot() -> Message:
            return render.answer_progress(answer, blind, "".join(parts), time.monotonic() - started)

        last_save = started

        async def save_partial() -> None:
            # The partial text is a crash record, not a live view: saving it every few seconds
            # keeps a busy bot's database writes per answer small.
            nonlocal last_save
            if time.monotonic() - last_save >= self.settings.save_interval:
                last_save = time.monotonic()
                await self.store.run(db.update_answer, answer.id, text="".join(parts))

        live = LiveMessage(surface, ref, snapshot, self.settings.edit_interval, on_tick=save_partial)
        live.start()
        try:
            completion = await self._complete(contestant, task.text, parts.append, live.touch)
        except asyncio.CancelledError:
            metrics.answer_finished(contestant.id, "cancelled")
            raise
        finally:
            await live.stop()
        await self._finish_answer(answer, completion, blind, surface, ref)

    async def _complete(
        self, contestant: Contestant, task_text: str,
        on_piece: Callable[[str], None], on_change: Callable[[], None],
    ) -> Completion:
        try:
            base_url = await self.local_model.base_url() if contestant.is_local else contestant.base_url
        except LocalModelUnavailable as exc:
            return Completion(text="", finish_reason=None, prompt_tokens=None, completion_tokens=None,
                              cost_usd=None, ttft_ms=None, latency_ms=0.0, error=str(exc),
                              truncated=False, retries=0)
        request = ChatRequest(
            base_url=base_url,
            model=contestant.model,
            messages=[
                {"role": "system", "content": contestant.system_prompt},
                {"role": "user", "content": task_text},
            ],
            api_key=self.settings.secret(contestant.api_key_env) if contestant.api_key_env else None,
            temperature=contestant.temperature,
            max_tokens=contestant.max_tokens,
            price_in=contestant.price_in,
            price_out=contestant.price_out,
        )

        def on_text(delta: str) -> None:
            on_piece(delta)
            on_change()

        return await self.client.complete(request, on_text)

    async def _finish_answer(
        self, answer: Answer, completion: Completion, blind: bool, surface: Surface, ref: MessageRef
    ) -> None:
        snippet = extract_code(completion.text) if completion.text else None
        ok = completion.error is None or (completion.truncated and bool(completion.text))
        values: dict[str, Any] = {
            "status": AnswerStatus.DONE if ok else AnswerStatus.ERROR,
            "text": completion.text,
            "error": completion.error,
            "code": snippet[0] if snippet else None,
            "language": snippet[1] if snippet else None,
            "latency_ms": completion.latency_ms,
            "ttft_ms": completion.ttft_ms,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "cost_usd": completion.cost_usd,
            "finish_reason": completion.finish_reason,
            "finished_at": utcnow(),
        }
        for key, value in values.items():
            setattr(answer, key, value)
        outcome = "truncated" if completion.truncated else "done" if ok else "error"
        metrics.answer_finished(answer.contestant_id, outcome, completion.latency_ms, completion.ttft_ms)
        await self.store.run(db.update_answer, answer.id, **values)
        try:
            await surface.edit(ref, render.answer_final(answer, blind))
        except SurfaceError as exc:
            log.warning("final edit of answer %s failed: %s", answer.id, exc.user_message)
        self.tests.schedule(answer.id, surface)  # its tests run in the background, never delaying it

    async def cancel_task(self, task_id: int, surface: Surface) -> TaskOutcome | None:
        """End a task its asker stopped, once the caller has stopped its streams (the console
        cancels ``request_task``): each unfinished answer is marked cancelled, in storage and on
        ``surface``. Returns the task and its answers, or None when there is no such task."""
        found = await self.store.run(db.cancel_task, task_id)
        if found is None:
            return None
        task, answers = found
        for answer in answers:
            if answer.status != AnswerStatus.CANCELLED or not answer.message_id:
                continue
            ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
            try:
                await surface.edit(ref, render.answer_final(answer, task.blind and not task.revealed))
            except SurfaceError as exc:
                log.warning("could not mark answer %s cancelled: %s", answer.id, exc.user_message)
        return TaskOutcome(task, answers)

    # ----------------------------------------------------------------------------- recovery

    async def recover(self, surfaces: dict[str, Surface], stale_after_s: float = 0.0) -> int:
        """Mark tasks a crash left unfinished as interrupted (with a Retry button). Returns count."""
        now = utcnow()
        tasks = await self.store.run(db.unfinished_tasks, now - timedelta(seconds=stale_after_s))
        for task in tasks:
            for answer in await self.store.run(db.task_answers, task.id):
                if answer.status not in db.UNFINISHED_ANSWER:
                    continue
                answer.status = AnswerStatus.INTERRUPTED
                answer.error = "interrupted: the bot restarted before this answer finished. Press Retry."
                metrics.answer_finished(answer.contestant_id, "interrupted")
                await self.store.run(db.update_answer, answer.id,
                    status=answer.status, error=answer.error, finished_at=now,
                )
                surface = surfaces.get(task.platform)
                if surface and answer.message_id:
                    ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
                    try:
                        await surface.edit(ref, render.answer_final(answer, task.blind and not task.revealed))
                    except SurfaceError as exc:
                        log.warning("could not mark answer %s interrupted: %s", answer.id, exc.user_message)
            await self.store.run(db.update_task, task.id, status=TaskStatus.INTERRUPTED, finished_at=now)
        return len(tasks)

    # ----------------------------------------------------------------------------- retry

    async def _on_retry(self, event: RetryRequested, surface: Surface) -> None:
        found = await self.store.run(db.get_answer, event.answer_id)
        if found is None:
            await notify_safely(event, render.error("That answer no longer exists."))
            return
        answer, task = found
        if answer.status not in (AnswerStatus.ERROR, AnswerStatus.INTERRUPTED):
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
        ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
        answer.error, answer.text = None, ""
        await self.store.run(db.update_answer, answer.id, status=AnswerStatus.PENDING, error=None, text=""
        )
        await self.store.run(db.update_task, task.id, status=TaskStatus.RUNNING)
        await self._stream_answer(answer, contestant, task, task.blind and not task.revealed, surface, ref)
        await self.store.run(db.finish_task_if_done, task.id)

    # ----------------------------------------------------------------------------- delegated

    async def _on_reaction(self, event: ReactionChanged, surface: Surface) -> None:
        from bot.ratings import apply_reaction

        await apply_reaction(self.store, event)

    async def _on_run(self, event: RunRequested, surface: Surface) -> None:
        from bot.runs import run_answer

        await run_answer(self, event, surface)

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

    async def _on_tag(self, event: TagRequested, surface: Surface) -> None:
        await tag_task(self.store, self.settings, event, surface)

    async def _on_subscription(self, event: SubscriptionChanged, surface: Surface) -> None:
        from storage.leaderboard import set_subscription

        await self.store.run(set_subscription, event.platform, event.channel, event.subscribed)
        await notify_safely(event, render.info(
            "✅ This channel will get the weekly leaderboard (Mondays 09:00 "
            f"{self.settings.leaderboard_tz})." if event.subscribed
            else "This channel will no longer get the weekly leaderboard."))

    async def _on_blind_mode(self, event: BlindModeChanged, surface: Surface) -> None:
        from storage.leaderboard import set_blind

        await self.store.run(set_blind, event.platform, event.channel, event.enabled)
        await notify_safely(event, render.info(
            "🙈 Blind mode is on: new tasks here label answers A, B, C… in random order; the models are "
            f"revealed after {self.settings.blind_reveal_after_h:g} h or when the asker presses Reveal."
            if event.enabled else "Blind mode is off: new tasks here show model names."))

    async def _on_autorun(self, event: AutorunChanged, surface: Surface) -> None:
        await self.tests.set_autorun(event)

    async def _on_reveal(self, event: RevealRequested, surface: Surface) -> None:
        from bot.blind import reveal_task

        await reveal_task(self, event, surface)


def extract_code(text: str) -> tuple[str, str] | None:
    """(code, language) of an answer's runnable snippet, or None when it has none."""
    from bot.sandbox.extract import NoRunnableCode, extract_snippet

    try:
        snippet = extract_snippet(text)
    except NoRunnableCode:
        return None
    return snippet.code, snippet.language


def _label(index: int) -> str:
    letters = string.ascii_uppercase
    return letters[index] if index < len(letters) else f"{letters[index // 26 - 1]}{letters[index % 26]}"


def _thread_name(text: str, limit: int = 90) -> str:
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"

