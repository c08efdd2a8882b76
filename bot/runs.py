"""The Run button: execute an answer's code in the sandbox and reply in the task's thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import render
from bot.events import RunRequested
from bot.sandbox.errors import SandboxError
from bot.sandbox.render import render_result
from bot.surface import Destination, Surface, SurfaceError
from bot.testing import harness, outcome
from bot.testing import render as tests_render
from bot.testruns import tests_for
from storage import tasks as db
from storage.models import Run

if TYPE_CHECKING:
    from bot.arena import Arena

log = logging.getLogger(__name__)


async def run_answer(arena: Arena, event: RunRequested, surface: Surface) -> None:
    """Run the answer's stored snippet for ``event.user`` and post the result in the thread."""
    found = await arena.store.run(db.get_answer, event.answer_id)
    if found is None:
        await event.notify(render.error("That answer no longer exists."))
        return
    answer, task = found
    if not answer.code or not answer.language:
        await event.notify(render.error("There is no runnable code in this answer."))
        return
    if arena.sandbox is None:
        await event.notify(render.error("Running code is switched off on this bot (no sandbox configured)."))
        return
    destination = Destination(task.channel, task.thread)
    title = f"▶ Run of {render.answer_title(answer, task.blind and not task.revealed)}"
    tests = tests_for(task, answer.language)  # with tests, Run runs them and shows the failures
    program = harness.build(answer.code, tests[0].language, tests) if tests else None
    doing = "against the task's tests" if program else f"`{answer.language}`"
    try:
        progress = await surface.post(destination, render.info(f"{title}: running {doing}…"))
    except SurfaceError as exc:
        await event.notify(render.error(exc.user_message))
        return
    code, language = (program.code, program.language) if program else (answer.code, answer.language)
    try:
        result = await arena.sandbox.run(event.user.id, code, language)
    except SandboxError as exc:
        await surface.edit(progress, render.error(f"{title}: {exc}"))
        return
    await arena.store.run(db.record_run, Run(
        answer_id=answer.id or 0, requester_id=event.user.id, language=answer.language,
        exit_code=result.exit_code, signal=result.signal, stdout=result.stdout[:100_000],
        stderr=result.stderr[:100_000], duration_ms=result.duration_ms, timed_out=result.timed_out,
        memory_exceeded=result.memory_exceeded, truncated=result.truncated,
    ))
    title = f"{title} · requested by {event.user.name or event.user.id}"
    if program:
        message = tests_render.report(outcome.from_run(result, program.nonce), title=f"{title} · the task's tests")
    else:
        message = render_result(result, title=title)
    if message.attachments:
        # Files cannot be added by an edit on every platform: post the full result anew.
        await surface.post(destination, message)
        await surface.edit(progress, render.info(f"{title}: finished (full output below)."))
    else:
        await surface.edit(progress, message)
