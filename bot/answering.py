"""Answering a task, as jobs: open its thread, post placeholders, stream each answer to the end.

:func:`start_task` (the :class:`~bot.jobs.StartTask` job) posts the task's header and one
placeholder per answer, recording each message as soon as it exists, then defers one
:class:`~bot.jobs.AnswerJob` per unfinished answer. :func:`answer` (the AnswerJob) asks the model,
follows its text in the message through the surface's editor, and finishes the answer: the final
edit lands first (retried until it does), then storage records the final state, so a crash at
any point leaves an answer that a rerun of the job (another worker, or the next start) finishes
in the same message. Both are idempotent: what is already done is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot import conversation, limits, logcontext, metrics, render
from bot.inprocess import CANCELLED_BY_ASKER
from bot.jobs import AnswerJob, StartTask
from bot.local_model import LocalModelUnavailable
from bot.messages import Field, Message
from bot.providers.client import ChatRequest, Completion
from bot.roster import Contestant
from bot.services import NoSurface, Services
from bot.surface import Destination, MessageRef, Surface, SurfaceError, rating_hint
from bot.tagging import fill_language
from storage import tasks as db
from storage.models import Answer, AnswerStatus, Task, TaskStatus, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
FINISHED_TASK = (TaskStatus.DONE, TaskStatus.INTERRUPTED)


def header_notes(task: Task) -> list[Field]:
    """The extra header fields stored with a task (skipped models, …)."""
    if not task.notes:
        return []
    return [Field(str(name), str(value)) for name, value in json.loads(task.notes)]


def encode_notes(fields: list[Field]) -> str | None:
    """Header fields as stored on the task."""
    return json.dumps([[f.name, f.value] for f in fields]) if fields else None


def is_blind(task: Task) -> bool:
    return task.blind and not task.revealed


def answer_ref(answer: Answer, task: Task) -> MessageRef | None:
    """Where an answer's message is, once it was posted."""
    if not answer.message_id:
        return None
    return MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)


# ------------------------------------------------------------------------------ StartTask


async def start_task(services: Services, job: StartTask) -> None:
    """Post what is not posted yet, then defer the unfinished answers (see the module docstring).
    A task that must wait for a slot (bot.limits) gets its header saying so, and nothing more."""
    found = await services.store.run(db.task_with_answers, job.task_id)
    if found is None:
        return
    task, answers = found
    logcontext.bind(task=task.id)
    if task.status in FINISHED_TASK:
        services.finished.done(job.task_id)
        return
    surface = services.surfaces.get(task.platform)
    ahead = await limits.waiting(services, task) if limits.not_started(task) else None
    try:
        destination = await _ensure_thread(services, surface, task, answers, ahead)
    except SurfaceError as exc:
        await services.store.run(db.abandon_task, job.task_id, exc.user_message)
        await reply_privately(surface, task, render.error(exc.user_message))
        await limits.task_ended(services, job.task_id, task.platform)
        return
    if ahead is not None:
        return  # it runs again when the queue moves (limits.advance)
    for answer in answers:
        if answer.status not in db.UNFINISHED_ANSWER:
            continue
        if answer.message_id is None:
            placeholder = render.answer_placeholder(answer, is_blind(task))
            try:
                ref = await _posting(functools.partial(surface.post, destination, placeholder))
            except SurfaceError as exc:
                await services.store.run(db.update_answer, answer.id or 0, status=AnswerStatus.ERROR,
                                         error=exc.user_message, finished_at=utcnow())
                continue
            await services.store.run(db.update_answer, answer.id or 0, message_channel=ref.channel,
                                     message_id=ref.message_id)
        await services.queue.defer([AnswerJob(answer.id or 0)])
    await _done_if_finished(services, task)


async def _done_if_finished(services: Services, task: Task) -> None:
    """Mark the task done when no answer is left to write (e.g. every placeholder was refused)."""
    answers = await services.store.run(db.finish_task_if_done, task.id or 0)
    if not any(a.status in db.UNFINISHED_ANSWER for a in answers):
        await limits.task_ended(services, task.id or 0, task.platform)


async def _task_finished(services: Services, task: Task) -> None:
    """Every answer of the task is final: name its language from the code when the task did not
    (bot.tagging), wake whoever in this process waits for it, and move the queue."""
    answers = await services.store.run(db.task_answers, task.id or 0)
    await services.store.run(fill_language, task.id or 0, answers)
    await limits.task_ended(services, task.id or 0, task.platform)


def _header(services: Services, surface: Surface, task: Task, answers: list[Answer], ahead: int | None) -> Message:
    extra = header_notes(task) + ([limits.queue_field(services, ahead)] if ahead is not None else [])
    if task.turn > 1:
        return render.followup_header(task, answers, is_blind(task), rating_hint(surface), extra=extra)
    return render.task_header(task, answers, [], is_blind(task), rating_hint(surface), extra=extra)


async def _ensure_thread(services: Services, surface: Surface, task: Task, answers: list[Answer],
                         ahead: int | None = None) -> Destination:
    """The answers' thread, posting the header (and opening the thread) unless that was done.
    ``ahead`` (the task waits for a slot) is shown in the header, and edited there as it changes."""
    if task.parent_message_id is not None:
        if ahead != task.queue_ahead:
            ref = MessageRef(task.parent_channel or task.channel, task.parent_message_id)
            await services.surfaces.editor(task.platform).final(ref, _header(services, surface, task, answers, ahead))
            await services.store.run(db.update_task, task.id or 0, queue_ahead=ahead)
        return Destination(task.channel, task.thread)
    header = _header(services, surface, task, answers, ahead)
    name = _thread_name(task.text)
    if task.thread:
        destination = Destination(task.channel, task.thread)
        parent = await _posting(lambda: surface.post(destination, header))
    elif task.anchor:
        destination = await _posting(lambda: surface.open_thread(MessageRef(task.channel, task.anchor or ""), name))
        parent = await _posting(lambda: surface.post(destination, header))
    else:
        parent = await _posting(lambda: surface.post(Destination(task.channel), header))
        destination = await _posting(lambda: surface.open_thread(parent, name))
    task.thread, task.channel, task.parent_message_id = destination.thread, destination.channel, parent.message_id
    await services.store.run(db.update_task, task.id or 0, thread=task.thread, channel=task.channel,
                             parent_message_id=task.parent_message_id, parent_channel=parent.channel,
                             queue_ahead=ahead, status=TaskStatus.RUNNING if ahead is None else TaskStatus.PENDING)
    return destination


async def _posting(call: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """A post the task cannot do without: retried while the platform's refusal is transient."""
    for attempt in range(attempts):
        try:
            return await call()
        except SurfaceError as exc:
            if not exc.transient or attempt == attempts - 1:
                raise
            await asyncio.sleep(exc.retry_after or 2.0 ** attempt)
    raise AssertionError("unreachable")


async def reply_privately(surface: Surface, task: Task, message: Message) -> None:
    """Tell the asker privately; a failure is logged (there is no one else to tell)."""
    if not task.reply_to:
        log.info("task %s has no private reply target; not telling: %s", task.id, message.plain())
        return
    try:
        await surface.reply_privately(task.reply_to, message)
    except Exception:
        log.exception("could not reply privately about task %s", task.id)


# ------------------------------------------------------------------------------ AnswerJob


async def answer(services: Services, job: AnswerJob) -> tuple[Answer, Task] | None:
    """Stream one answer into its message and finish it (see the module docstring). Returns the
    answer as finished, with its task (None when there was nothing to do)."""
    claimed = await services.store.run(db.claim_answer, job.answer_id)
    if claimed is None:
        return None
    ans, task = claimed
    logcontext.bind(task=task.id, answer=ans.id)
    ref = answer_ref(ans, task)
    if task.platform not in services.surfaces:  # another process serves it; give the job back
        await services.store.run(db.update_answer, ans.id or 0, status=AnswerStatus.PENDING)
        raise NoSurface(f"answer {ans.id}: no {task.platform} surface in this process")
    if ref is None:  # its placeholder was never posted: StartTask posts it and defers us again
        await services.store.run(db.update_answer, ans.id or 0, status=AnswerStatus.PENDING)
        await services.queue.defer([StartTask(task.id or 0)])
        return None
    contestant = services.roster.get(ans.contestant_id)
    if ans.attempts > services.settings.max_answer_attempts:
        error = "interrupted: the bot restarted several times while writing this answer. Press Retry."
        await _finish(services, ans, task, ref, status=AnswerStatus.INTERRUPTED, error=error)
    elif contestant is None:
        await _finish(services, ans, task, ref, error=f"{ans.contestant_name} is no longer in the roster.")
    else:
        prompt = await conversation.prompt_for(services, task, contestant)
        ans.context_dropped = prompt.dropped
        completion = await _stream(services, ans, task, contestant, ref, prompt.messages)
        await _finish(services, ans, task, ref, completion=completion)
    return ans, task


async def _stream(services: Services, ans: Answer, task: Task, contestant: Contestant, ref: MessageRef,
                  messages: list[dict[str, str]]) -> Completion:
    editor = services.surfaces.editor(task.platform)
    started = time.monotonic()
    parts: list[str] = []
    blind = is_blind(task)
    live = editor.live(ref, lambda: render.answer_progress(ans, blind, "".join(parts), time.monotonic() - started))

    def on_text(delta: str) -> None:
        parts.append(delta)
        live.touch()

    saver = asyncio.create_task(_save_partial(services, ans, parts))
    try:
        return await complete(services, contestant, messages, on_text)
    except asyncio.CancelledError as stopped:
        live.close()
        with contextlib.suppress(Exception):  # keep what was written (the asker saw it; a resume shows it)
            await asyncio.wait_for(services.store.run(db.update_answer, ans.id or 0, text="".join(parts)), 2)
        if CANCELLED_BY_ASKER not in stopped.args:  # the process is stopping: say it resumes
            with contextlib.suppress(Exception):
                await asyncio.wait_for(editor.final(ref, render.answer_paused(ans, blind, "".join(parts))), 3)
        raise
    finally:
        live.close()
        saver.cancel()


async def _save_partial(services: Services, ans: Answer, parts: list[str]) -> None:
    """Save the partial text every few seconds: a crash record, not a live view."""
    saved = 0
    while True:
        await asyncio.sleep(services.settings.save_interval)
        if len(parts) != saved:
            saved = len(parts)
            await services.store.run(db.update_answer, ans.id or 0, text="".join(parts))


async def complete(
    services: Services, contestant: Contestant, messages: list[dict[str, str]], on_text: Callable[[str], None],
) -> Completion:
    """Ask ``contestant`` for the next message after ``messages`` (see :mod:`bot.conversation`),
    streaming pieces to ``on_text``."""
    try:
        base_url = await services.local_model.base_url() if contestant.is_local else contestant.base_url
    except LocalModelUnavailable as exc:
        return failed_completion(str(exc))
    settings = services.settings
    request = ChatRequest(
        base_url=base_url,
        model=contestant.model,
        messages=messages,
        api_key=settings.secret(contestant.api_key_env) if contestant.api_key_env else None,
        temperature=contestant.temperature,
        max_tokens=contestant.max_tokens,
        price_in=contestant.price_in,
        price_out=contestant.price_out,
    )
    return await services.client.complete(request, on_text)


def failed_completion(error: str) -> Completion:
    """A Completion for an answer that could not even be asked."""
    return Completion(text="", finish_reason=None, prompt_tokens=None, completion_tokens=None,
                      cost_usd=None, ttft_ms=None, latency_ms=0.0, error=error, truncated=False, retries=0)


def final_values(completion: Completion) -> dict[str, Any]:
    """The answer columns a completion sets."""
    snippet = extract_code(completion.text) if completion.text else None
    ok = completion.error is None or (completion.truncated and bool(completion.text))
    return {
        "status": AnswerStatus.DONE if ok else AnswerStatus.ERROR,
        "text": completion.text,
        "error": completion.error,
        "truncated": completion.truncated,
        "code": snippet[0] if snippet else None,
        "language": snippet[1] if snippet else None,
        "latency_ms": completion.latency_ms,
        "ttft_ms": completion.ttft_ms,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "cost_usd": completion.cost_usd,
        "finish_reason": completion.finish_reason,
    }


async def _finish(
    services: Services, ans: Answer, task: Task, ref: MessageRef | None, *,
    completion: Completion | None = None, status: AnswerStatus = AnswerStatus.ERROR, error: str | None = None,
) -> None:
    """Show the final state (retried until it lands), then store it."""
    values: dict[str, Any] = final_values(completion) if completion is not None else {"status": status, "error": error}
    if completion is not None:
        values["context_dropped"] = ans.context_dropped
    values["finished_at"] = utcnow()
    for key, value in values.items():
        setattr(ans, key, value)
    if completion is not None:
        outcome = "truncated" if completion.truncated else "done" if values["status"] == AnswerStatus.DONE else "error"
        metrics.answer_finished(ans.contestant_id, outcome, completion.latency_ms, completion.ttft_ms)
    else:
        metrics.answer_finished(ans.contestant_id, str(status))
    if ref is not None:
        landed = await services.surfaces.editor(task.platform).final(ref, render.answer_final(ans, is_blind(task)))
        if not landed:
            log.warning("answer %s: its final state could not be shown", ans.id)
    if await services.store.run(db.finish_answer, ans.id or 0, task.id or 0, values):
        await _task_finished(services, task)


# ------------------------------------------------------------------------------ start-up


async def resume(services: Services, close: frozenset[str] = frozenset()) -> int:
    """Take over what the previous process left unfinished: every unfinished task is started
    again (posting what is missing, re-asking what was cut off, in the same messages), except on
    the platforms in ``close`` (the console: its old messages are gone), where it is marked
    interrupted. Only the platforms this process serves. Returns how many tasks were found."""
    tasks = await services.store.run(db.unfinished_tasks)
    tasks = [t for t in tasks if t.platform in services.surfaces]  # others are another process's
    for task in tasks:
        if task.platform in close:
            await _interrupt(services, task)
        else:
            await services.queue.defer([StartTask(task.id or 0)])
    return len(tasks)


async def _interrupt(services: Services, task: Task) -> None:
    now = utcnow()
    error = "interrupted: the bot restarted before this answer finished. Press Retry."
    for ans in await services.store.run(db.task_answers, task.id or 0):
        if ans.status in db.UNFINISHED_ANSWER:
            metrics.answer_finished(ans.contestant_id, "interrupted")
            await services.store.run(db.update_answer, ans.id or 0, status=AnswerStatus.INTERRUPTED,
                                     error=error, finished_at=now)
    await services.store.run(db.update_task, task.id or 0, status=TaskStatus.INTERRUPTED, finished_at=now)


def extract_code(text: str) -> tuple[str, str] | None:
    """(code, language) of an answer's runnable snippet, or None when it has none."""
    from bot.sandbox.extract import NoRunnableCode, extract_snippet

    try:
        snippet = extract_snippet(text)
    except NoRunnableCode:
        return None
    return snippet.code, snippet.language


def _thread_name(text: str, limit: int = 90) -> str:
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"
