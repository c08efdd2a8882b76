"""What a test run (or a smoke run) came to: counts, a status, and the report behind them.

The drivers write JSON events on stdout, each line prefixed with the run's nonce: ``plan``
(checks expected), ``case`` (one check: pass, fail, error or skip, with a detail), ``note`` (the
code raised when loaded: the tests still ran against what it had defined), ``fatal`` (why the
checks did not run or do not count) and ``done`` (with the tail of the code's own output). A run
the sandbox stopped has no ``done``: what it finished still counts, and the rest is not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.sandbox.result import RunResult

MAX_CASES_KEPT = 50


class Status(StrEnum):
    """Every way a run can end, each with its own footer line (bot/testing/render.py)."""

    PASSED = "passed"  # every check passed
    FAILED = "failed"  # some check failed or raised
    TIMED_OUT = "timed_out"  # the sandbox's time limit stopped it
    MEMORY = "memory"  # the sandbox's memory limit stopped it
    CRASHED = "crashed"  # the program died without finishing its report
    NO_CODE = "no_code"  # the answer has no runnable code
    SYNTAX_ERROR = "syntax_error"  # the code does not parse
    LOAD_ERROR = "load_error"  # the code raised when loaded, so no test could run (JavaScript)
    TAMPERED = "tampered"  # the code deleted or changed a test file
    WRONG_LANGUAGE = "wrong_language"  # the code is in a language the tests are not
    TESTS_BROKEN = "tests_broken"  # the task's tests themselves do not parse
    NO_CHECKS = "no_checks"  # the tests hold nothing to count
    UNAVAILABLE = "unavailable"  # the sandbox could not run it (says why)
    RAN_OK = "ran_ok"  # smoke run: exited 0
    RUN_FAILED = "run_failed"  # smoke run: exited non-zero or was killed


# Runs that say nothing about the model (the tests or the sandbox failed): left out of pass rates.
NOT_COUNTED = frozenset({Status.TESTS_BROKEN, Status.NO_CHECKS, Status.UNAVAILABLE})


@dataclass(frozen=True)
class Case:
    """One check: its name, 'pass' / 'fail' / 'error' / 'skip', and what went wrong."""

    name: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """A run's result as stored with the answer (``TestResult``) and shown in its footer."""

    status: Status
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    total: int = 0  # checks expected (at least passed + failed + errors)
    duration_ms: float | None = None
    detail: str = ""  # why it did not run, or the note about loading
    cases: tuple[Case, ...] = field(default_factory=tuple)  # failures first, at most MAX_CASES_KEPT
    output: str = ""  # the tail of the code's own output
    kind: str = "tests"

    @property
    def all_passed(self) -> bool:
        """True when every check ran and passed."""
        return self.status == Status.PASSED

    @property
    def not_run(self) -> int:
        """Checks the run never reached (it was stopped)."""
        return max(0, self.total - self.passed - self.failed - self.errors - self.skipped)

    def report(self) -> dict[str, Any]:
        """The JSON stored in ``TestResult.report``."""
        return {
            "detail": self.detail, "skipped": self.skipped, "output": self.output,
            "cases": [{"name": c.name, "outcome": c.outcome, "detail": c.detail} for c in self.cases],
        }

    @classmethod
    def from_row(cls, row: Any) -> Outcome:
        """Rebuild from a stored ``TestResult`` row."""
        report = row.report or {}
        return cls(
            status=Status(row.status), passed=row.passed, failed=row.failed, errors=row.errors,
            skipped=int(report.get("skipped", 0)), total=row.total, duration_ms=row.duration_ms,
            detail=str(report.get("detail", "")), output=str(report.get("output", "")),
            cases=tuple(Case(str(c["name"]), str(c["outcome"]), str(c.get("detail", "")))
                        for c in report.get("cases", [])),
            kind=row.kind,
        )


def events(stdout: str, nonce: str) -> list[dict[str, Any]]:
    """The driver's events in ``stdout`` (lines not marked with ``nonce`` are ignored)."""
    found = []
    prefix = nonce + " "
    for line in stdout.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            event = json.loads(line[len(prefix):])
        except ValueError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found


_FATAL = {
    "syntax": Status.SYNTAX_ERROR, "tests_syntax": Status.TESTS_BROKEN, "load": Status.LOAD_ERROR,
    "tampered": Status.TAMPERED, "driver": Status.CRASHED,
}


def from_run(result: RunResult, nonce: str) -> Outcome:
    """Read a test run's result."""
    plan = 0
    cases: list[Case] = []
    counts = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    fatal: tuple[str, str] | None = None
    note = ""
    output: str | None = None
    for event in events(result.stdout, nonce):
        kind = event.get("event")
        if kind == "plan":
            plan = int(event.get("total") or 0)
        elif kind == "case":
            outcome = str(event.get("outcome"))
            if outcome in counts:
                counts[outcome] += 1
                cases.append(Case(str(event.get("name", "?")), outcome, str(event.get("detail") or "")))
        elif kind == "note":
            note = str(event.get("detail") or "")
        elif kind == "fatal" and fatal is None:
            fatal = (str(event.get("reason")), str(event.get("detail") or ""))
        elif kind == "done":
            output = str(event.get("output") or "")
    ran = counts["pass"] + counts["fail"] + counts["error"]
    found = Outcome(
        Status.FAILED, passed=counts["pass"], failed=counts["fail"], errors=counts["error"],
        skipped=counts["skip"], total=max(plan, ran), duration_ms=float(result.duration_ms),
        detail=note, cases=_kept(cases), output=output or "",
    )
    if fatal is not None:
        reason, detail = fatal
        status = _FATAL.get(reason, Status.CRASHED)
        if status in (Status.SYNTAX_ERROR, Status.TESTS_BROKEN):
            return replace(found, status=status, detail=detail, passed=0, failed=0, errors=0)
        return replace(found, status=status, detail=detail)
    if output is None:  # the driver never finished: the sandbox stopped it, or the code killed it
        if result.timed_out:
            return replace(found, status=Status.TIMED_OUT)
        if result.memory_exceeded:
            return replace(found, status=Status.MEMORY)
        how = f"killed by {result.signal}" if result.signal else f"exited with code {result.exit_code}"
        tail = _last_line(result.stderr)
        return replace(found, status=Status.CRASHED, detail=how + (f": {tail}" if tail else ""))
    if ran == 0:
        return replace(found, status=Status.NO_CHECKS)
    return replace(found, status=Status.PASSED if counts["fail"] == counts["error"] == 0 else Status.FAILED)


def from_smoke(result: RunResult) -> Outcome:
    """Read a smoke run (the code alone, no tests)."""
    if result.ok:
        return Outcome(Status.RAN_OK, duration_ms=float(result.duration_ms),
                       output=result.stdout[-2000:], kind="smoke")
    if result.timed_out:
        status, detail = Status.TIMED_OUT, ""
    elif result.memory_exceeded:
        status, detail = Status.MEMORY, ""
    else:
        status = Status.RUN_FAILED
        detail = f"killed by {result.signal}" if result.signal else f"exited with code {result.exit_code}"
        tail = _last_line(result.stderr)
        detail += f": {tail}" if tail else ""
    return Outcome(status, duration_ms=float(result.duration_ms), detail=detail,
                   output=(result.stdout + result.stderr)[-2000:], kind="smoke")


def not_run(status: Status, detail: str = "", kind: str = "tests", total: int = 0) -> Outcome:
    """An outcome for a run that never reached the sandbox (no code, wrong language, …)."""
    return Outcome(status, detail=detail, kind=kind, total=total)


def _kept(cases: list[Case]) -> tuple[Case, ...]:
    failures = [c for c in cases if c.outcome in ("fail", "error")]
    others = [c for c in cases if c.outcome not in ("fail", "error")]
    return tuple((failures + others)[:MAX_CASES_KEPT])


def _last_line(text: str) -> str:
    """The line of ``text`` that says what went wrong: the last one naming an error, else the last."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error:" in line]
    return (errors or lines or [""])[-1][:300]
