"""Automatic runs of finished answers: against their task's tests, or once on their own (smoke runs).

The arena calls :meth:`TestRuns.schedule` once an answer's final edit is out. The run happens in
the background, queued behind the sandbox's concurrency cap like any Run (same limits), so it
never delays an answer; then the answer's footer is edited to show the result. A task with tests
runs them; a task without runs the code once when its channel has smoke runs on
(``/codegen autorun on``).

:meth:`TestRuns.run_answer` is idempotent, so a job engine may call it again for the same answer:
an answer whose result is stored and shown is left alone; one stored but not shown (a crash in
between) only gets its footer edited; only an answer with no result is run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot import render
from bot.events import AutorunChanged, notify_safely
from bot.sandbox.errors import SandboxBusy, SandboxError
from bot.sandbox.extract import normalize_language
from bot.surface import MessageRef, Surface, SurfaceError
from bot.testing import harness
from bot.testing import outcome as outcomes
from bot.testing.outcome import Outcome, Status
from bot.testing.suite import TestFile, task_tests
from storage import leaderboard as lb_store
from storage import tasks as task_store
from storage import testresults as results
from storage.db import Store
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
    """Schedules, runs, stores and shows automatic runs of finished answers."""

    __test__ = False  # not a pytest class

    def __init__(self, store: Store, sandbox: Callable[[], Any]) -> None:
        """``sandbox`` returns the sandbox service in use (None: running code is switched off)."""
        self.store = store
        self._sandbox = sandbox
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def sandbox(self) -> Any:
        return self._sandbox()

    # -- scheduling ------------------------------------------------------------------------------

    def schedule(self, answer_id: int | None, surface: Surface) -> None:
        """Run ``answer_id``'s tests in the background (the caller never waits for them)."""
        if answer_id is None:
            return
        task = asyncio.create_task(self._guarded(answer_id, surface), name=f"tests-{answer_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, answer_id: int, surface: Surface) -> None:
        try:
            await self.run_answer(answer_id, surface)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next start's resume() tries again
            log.exception("the test run of answer %s failed", answer_id)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for scheduled runs (all of them, or until ``timeout``, then cancel the rest)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def resume(self, surface: Surface, window: timedelta = RESUME_WINDOW) -> int:
        """Schedule every answer on ``surface``'s platform still waiting for its run (after a crash
        or a shutdown cut runs short). Returns how many."""
        waiting = await self.store.run(results.waiting, surface.platform, utcnow() - window)
        for answer_id in waiting:
            self.schedule(answer_id, surface)
        return len(waiting)

    # -- one answer ------------------------------------------------------------------------------

    async def run_answer(self, answer_id: int, surface: Surface) -> Outcome | None:
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
            await self._show(answer, task, row, surface)
            return Outcome.from_row(row)
        kind = "tests" if task.tests else None
        if kind is None and await self.store.run(lb_store.autorun_enabled, task.platform, task.channel):
            kind = "smoke"
        if kind is None:
            return None
        if self.sandbox is None:  # nothing stored: a later start with a sandbox runs it
            await self._edit(answer, task, outcomes.not_run(Status.UNAVAILABLE, SWITCHED_OFF, kind), surface)
            return None
        found_outcome = await self._execute(answer, task, kind)
        if found_outcome is None:
            return None
        row = await self.store.run(results.record_once, answer_id, _columns(found_outcome))
        await self._show(answer, task, row, surface)
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

    async def _show(self, answer: Answer, task: Task, row: TestResult, surface: Surface) -> None:
        if await self._edit(answer, task, Outcome.from_row(row), surface):
            await self.store.run(results.mark_shown, row.answer_id)

    async def _edit(self, answer: Answer, task: Task, found: Outcome, surface: Surface) -> bool:
        if not answer.message_id:
            return False
        ref = MessageRef(answer.message_channel or task.channel, answer.message_id, task.thread)
        try:
            await surface.edit(ref, render.answer_final(answer, task.blind and not task.revealed, tests=found))
        except SurfaceError as exc:
            log.warning("could not show the test result of answer %s: %s", answer.id, exc.user_message)
            return False
        return True

    # -- the channel setting ---------------------------------------------------------------------

    async def set_autorun(self, event: AutorunChanged) -> None:
        """Turn a channel's smoke runs on or off, and say what that means."""
        await self.store.run(lb_store.set_autorun, event.platform, event.channel, event.enabled)
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

