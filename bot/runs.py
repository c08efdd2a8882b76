"""The Run button: execute an answer's code in the sandbox and reply in the task's thread.

:func:`request_run` checks the request where it arrives (answering privately when it cannot
run) and defers a :class:`~bot.jobs.RunJob`; :func:`run_job` runs it wherever the job lands.
"""

from __future__ import annotations

import logging

from bot import render
from bot.events import RunRequested, notify_safely
from bot.jobs import RunJob
from bot.retention import GONE, contents_gone
from bot.sandbox.errors import SandboxError
from bot.sandbox.render import render_result
from bot.services import Services
from bot.surface import Destination, SurfaceError
from bot.testing import harness, outcome
from bot.testing import render as tests_render
from bot.testruns import tests_for
from storage import tasks as db
from storage.models import Run

log = logging.getLogger(__name__)


async def request_run(services: Services, event: RunRequested) -> None:
    """Check that the answer can run, then queue the run."""
    found = await services.store.run(db.get_answer, event.answer_id)
    if found is None:
        await notify_safely(event, render.error("That answer no longer exists."))
        return
    answer, task = found
    if contents_gone(task):
        await notify_safely(event, render.error(GONE))
        return
    if not answer.code or not answer.language:
        await notify_safely(event, render.error("There is no runnable code in this answer."))
        return
    if services.sandbox is None:
        await notify_safely(event, render.error("Running code is switched off on this bot (no sandbox configured)."))
        return
    await services.queue.defer([RunJob(event.answer_id, event.user.id, event.user.name)])


async def run_job(services: Services, job: RunJob) -> None:
    """Run the answer's stored snippet for the job's user and post the result in the thread."""
    found = await services.store.run(db.get_answer, job.answer_id)
    if found is None or services.sandbox is None:
        return
    answer, task = found
    if not answer.code or not answer.language:
        return
    surface = services.surfaces.get(task.platform)
    editor = services.surfaces.editor(task.platform)
    destination = Destination(task.channel, task.thread)
    title = f"▶ Run of {render.answer_title(answer, task.blind and not task.revealed)}"
    tests = tests_for(task, answer.language)  # with tests, Run runs them and shows the failures
    program = harness.build(answer.code, tests[0].language, tests) if tests else None
    doing = "against the task's tests" if program else f"`{answer.language}`"
    try:
        progress = await surface.post(destination, render.info(f"{title}: running {doing}…"))
    except SurfaceError as exc:
        log.warning("could not post the run of answer %s: %s", answer.id, exc.user_message)
        return
    code, language = (program.code, program.language) if program else (answer.code, answer.language)
    try:
        result = await services.sandbox.run(job.user_id, code, language)
    except SandboxError as exc:
        await editor.final(progress, render.error(f"{title}: {exc}"))
        return
    await services.store.run(db.record_run, Run(
        answer_id=answer.id or 0, requester_id=job.user_id, language=answer.language,
        exit_code=result.exit_code, signal=result.signal, stdout=result.stdout[:100_000],
        stderr=result.stderr[:100_000], duration_ms=result.duration_ms, timed_out=result.timed_out,
        memory_exceeded=result.memory_exceeded, truncated=result.truncated,
    ))
    title = f"{title} · requested by {job.user_name or job.user_id}"
    if program:
        message = tests_render.report(outcome.from_run(result, program.nonce), title=f"{title} · the task's tests")
    else:
        message = render_result(result, title=title)
    if message.attachments:
        # Files cannot be added by an edit on every platform: post the full result anew.
        await surface.post(destination, message)
        await editor.final(progress, render.info(f"{title}: finished (full output below)."))
    else:
        await editor.final(progress, message)
