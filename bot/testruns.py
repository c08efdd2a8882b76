"""Automatic runs of finished answers: against their task's tests, or once on their own (smoke runs).

Once an answer is final, :meth:`TestRuns.after_answer` defers a :class:`~bot.jobs.TestRunJob` for
it (when its task has tests, or its channel smoke runs). The job waits behind the sandbox's
concurrency cap like any Run (same limits), so it never delays an answer; then the answer's
footer is edited to show the result. A task with tests
runs them; a task without runs the code once when its channel has smoke runs on
(``/codegen autorun on``).

:meth:`TestRuns.run_answer` (the job) is idempotent, so running it again for an answer is harmless:
an answer whose result is stored and shown is left alone; one stored but not shown (a crash in
between) only gets its footer edited; only an answer with no result is run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot import render
from bot.events import AutorunChanged, notify_safely
from bot.jobs import TestRunJob
from bot.sandbox.errors import SandboxBusy, SandboxError
from bot.sandbox.extract import normalize_language
from bot.services import Services
from bot.surface import MessageRef
from bot.testing import harness
from bot.testing import outcome as outcomes
from bot.testing.outcome import Outcome, Status
from bot.testing.suite import TestFile, task_tests
from storage import leaderboard as lb_store
from storage import tasks as task_store
from storage import testresults as results
from storage.models import Answer, AnswerStatus, Task, TestResult, utcnow

log = logging.getLogger(__name__)
SWITCHED_OFF = "running code is switched off on this bot"
RESUME_WINDOW = timedelta(days=1)


def tests_for(task: Task, language: str | None) -> list[TestFile]:
    """The task's tests that can run against code in ``language``."""
    lang = normalize_language(language or "")
    return [t for t in task_tests(task.tests) if t.language == lang]


def stored_outcome(row: TestResult | None) -> Outcome | None:
    """A stored result as an :class:`Outcome` (None stays None)."""
    return Outcome.from_row(row) if row is not None else None


class TestRuns:
    """Defers, runs, stores and shows automatic runs of finished answers."""

    __test__ = False  # not a pytest class

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    @property
    def sandbox(self) -> Any:
        return self.services.sandbox

    # -- scheduling ------------------------------------------------------------------------------

    async def after_answer(self, answer: Answer, task: Task) -> None:
        """Queue ``answer``'s run when there is one to do (its task's tests, or a smoke run)."""
        if answer.status != AnswerStatus.DONE or answer.id is None:
            return
        wanted = bool(task.tests) or await self.store.run(lb_store.autorun_enabled, task.platform, task.channel)
        if wanted:
            await self.services.queue.defer([TestRunJob(answer.id)])

    async def resume(self, window: timedelta = RESUME_WINDOW) -> int:
        """Queue every answer still waiting for its run (a crash or a shutdown cut it short), on
        the platforms this process serves. Returns how many."""
        waiting: list[int] = []
        for platform in self.services.surfaces.platforms:
            waiting += await self.store.run(results.waiting, platform, utcnow() - window)
        await self.services.queue.defer([TestRunJob(answer_id) for answer_id in waiting])
        return len(waiting)

    # -- one answer ------------------------------------------------------------------------------

    async def run_answer(self, answer_id: int) -> Outcome | None:
        """Run one finished answer against its task's tests (or smoke-run it) and show the result.

        Idempotent. Returns the stored outcome, or None when there is nothing to do: no tests and no
        smoke runs, an unfinished answer, or a result already stored and shown.
        """
        if not await self.store.run(results.needs_run, answer_id):
            return None
        found = await self.store.run(task_store.get_answer, answer_id)
        if found is None:
            return None
        answer, task = found
        if answer.status != AnswerStatus.DONE:
            return None
        row = await self.store.run(results.get_result, answer_id)
        if row is not None:  # stored, but a crash came before the footer showed it
            await self._show(answer, task, row)
            return Outcome.from_row(row)
        kind = "tests" if task.tests else None
        if kind is None and await self.store.run(lb_store.autorun_enabled, task.platform, task.channel):
            kind = "smoke"
        if kind is None:
            return None
        if self.sandbox is None:  # nothing stored: a later start with a sandbox runs it
            await self._edit(answer, task, outcomes.not_run(Status.UNAVAILABLE, SWITCHED_OFF, kind))
            return None
        found_outcome = await self._execute(answer, task, kind)
        if found_outcome is None:
            return None
        row = await self.store.run(results.record_once, answer_id, _columns(found_outcome))
        await self._show(answer, task, row)
        return Outcome.from_row(row)

    async def _execute(self, answer: Answer, task: Task, kind: str) -> Outcome | None:
        tests = task_tests(task.tests)
        total = sum(t.checks for t in tests)
        if not answer.code or not answer.language:
            return outcomes.not_run(Status.NO_CODE, kind=kind, total=total)
        user = f"autorun:{answer.id}"  # its own slot: automatic runs never block a person's Run
        if kind == "smoke":
            try:
                return outcomes.from_smoke(await self.sandbox.run(user, answer.code, answer.language))
            except SandboxBusy:
                return None  # this answer is being run already
            except SandboxError as exc:
                return outcomes.not_run(Status.UNAVAILABLE, str(exc), kind)
        matching = tests_for(task, answer.language)
        if not matching:
            languages = " and ".join(sorted({t.language for t in tests}))
            return outcomes.not_run(Status.WRONG_LANGUAGE, f"the code is {answer.language}; the tests are {languages}",
                                    total=total)
        program = harness.build(answer.code, matching[0].language, matching)
        try:
            result = await self.sandbox.run(user, program.code, program.language)
        except SandboxBusy:
            return None
        except SandboxError as exc:
            return outcomes.not_run(Status.UNAVAILABLE, str(exc), total=total)
        return outcomes.from_run(result, program.nonce)

    async def _show(self, answer: Answer, task: Task, row: TestResult) -> None:
        if await self._edit(answer, task, Outcome.from_row(row)):
            await self.store.run(results.mark_shown, row.answer_id)

    async def _edit(self, answer: Answer, task: Task, found: Outcome) -> bool:
        if not answer.message_id:
            return False
        ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
        editor = self.services.surfaces.editor(task.platform)
        message = render.answer_final(answer, task.blind and not task.revealed, tests=found)
        if not await editor.final(ref, message):
            log.warning("could not show the test result of answer %s", answer.id)
            return False
        return True

    # -- the channel setting ---------------------------------------------------------------------

    async def autorun_changed(self, event: AutorunChanged) -> None:
        """Say what turning a channel's smoke runs on or off (done by bot.controls) means."""
        await notify_safely(event, render.info(
            "▶ Smoke runs are on: every new answer's code in this channel runs once in the sandbox when it "
            "finishes, and its footer says whether it ran cleanly (tasks with tests run their tests instead)."
            if event.enabled else "Smoke runs are off: answers here run only when someone presses ▶ Run "
            "(tasks with tests still run their tests)."))


def _columns(found: Outcome) -> dict[str, Any]:
    return {
        "kind": found.kind, "status": str(found.status), "passed": found.passed, "failed": found.failed,
        "errors": found.errors, "total": found.total, "duration_ms": found.duration_ms, "report": found.report(),
    }

