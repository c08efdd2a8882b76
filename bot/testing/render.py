"""How tests and their results read in chat: the header's tests, an answer's footer line, the report.

Everything that came out of a run (test names, failure details, output) is neutralised: a snippet
must never ping anyone or break out of a code block.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Attachment, Message, Tone
from bot.sandbox.render import neutralise
from bot.testing.outcome import Outcome, Status
from bot.testing.suite import TestFile

HEADER_CHARS = 1200
FOOTER_DETAIL = 90
REPORT_FAILURES = 20
_FENCE = {"python": "python", "javascript": "js"}


def _short(text: str, limit: int = FOOTER_DETAIL) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _ms(ms: float | None) -> str:
    if ms is None:
        return "?"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def header_section(tests: Sequence[TestFile], shown: bool) -> str:
    """The header's tests: each file, its language and checks, and its source (shortened)."""
    if not tests:
        return ""
    labels = []
    for test in tests:
        checks = test.checks
        labels.append(f"`{test.name}` · {test.language}" + (f" · {checks} check{'s' * (checks != 1)}" if checks else ""))
    if shown:  # the task text above already ends with them
        return "🧪 *Tests* (shown to the models, above; every answer is run against them): " + ", ".join(labels)
    parts = ["🧪 *Tests* (hidden from the models; every answer is run against them):"]
    budget = HEADER_CHARS
    for test, label in zip(tests, labels, strict=True):
        source = test.source.strip("\n")
        if len(source) > budget:
            source = source[: max(0, budget)].rsplit("\n", 1)[0] + "\n…"
        budget -= len(source)
        parts.append(f"{label}\n```{_FENCE.get(test.language, '')}\n{neutralise(source)}\n```")
    return "\n".join(parts)


def footer_line(outcome: Outcome) -> str:
    """One line for the answer's footer: 'tests 4/5 passed', 'tests: timed out', …"""
    detail = neutralise(_short(outcome.detail)) if outcome.detail else ""
    if outcome.kind == "smoke":
        return _smoke_line(outcome, detail)
    p, t = outcome.passed, outcome.total
    skipped = f", {outcome.skipped} skipped" if outcome.skipped else ""
    so_far = f" ({p}/{t} passed before the limit)" if outcome.passed + outcome.failed + outcome.errors else ""
    lines = {
        Status.PASSED: f"✅ tests {p}/{t} passed{skipped}",
        Status.FAILED: f"❌ tests {p}/{t} passed{skipped} · ▶ Run shows the failures",
        Status.TIMED_OUT: f"⏱ tests: timed out{so_far}",
        Status.MEMORY: f"❌ tests: memory limit exceeded{so_far}",
        Status.CRASHED: f"❌ tests: the run crashed ({detail})",
        Status.NO_CODE: "tests: did not run (no code)",
        Status.SYNTAX_ERROR: f"❌ tests: did not run (syntax error in the code, {detail})",
        Status.LOAD_ERROR: f"❌ tests: did not run (the code failed when loaded: {detail})",
        Status.TAMPERED: f"🚫 tests: not counted ({detail})",
        Status.WRONG_LANGUAGE: f"tests: did not run ({detail})",
        Status.TESTS_BROKEN: f"⚠️ tests: could not run (the task's tests do not parse: {detail})",
        Status.NO_CHECKS: "⚠️ tests: nothing to count (no assert, test function or TestCase ran)",
        Status.UNAVAILABLE: f"tests: did not run ({detail})",
    }
    return lines.get(outcome.status, f"tests: {outcome.status}")


def _smoke_line(outcome: Outcome, detail: str) -> str:
    lines = {
        Status.RAN_OK: f"✅ ran cleanly in {_ms(outcome.duration_ms)}",
        Status.RUN_FAILED: f"❌ run: {detail}",
        Status.TIMED_OUT: "⏱ run: timed out",
        Status.MEMORY: "❌ run: memory limit exceeded",
        Status.NO_CODE: "run: did not run (no code)",
        Status.UNAVAILABLE: f"run: did not run ({detail})",
    }
    return lines.get(outcome.status, f"run: {outcome.status}")


def report(outcome: Outcome, *, title: str) -> Message:
    """The thread message for a run against the tests: the count, each failure, the code's output."""
    lines = [footer_line(outcome).replace(" · ▶ Run shows the failures", "") + f" · {_ms(outcome.duration_ms)}"]
    if outcome.detail and outcome.status in (Status.PASSED, Status.FAILED, Status.TIMED_OUT, Status.MEMORY):
        lines.append(f"_note: {neutralise(_short(outcome.detail, 300))}_")
    failures = [c for c in outcome.cases if c.outcome in ("fail", "error")]
    if failures:
        lines.append("*Failures:*")
        for case in failures[:REPORT_FAILURES]:
            mark = "❌" if case.outcome == "fail" else "💥"
            lines.append(f"{mark} `{neutralise(_short(case.name, 120)).replace('`', 'ˋ')}`: "
                         f"{neutralise(_short(case.detail, 400))}")
        if len(failures) > REPORT_FAILURES:
            lines.append(f"_…and {len(failures) - REPORT_FAILURES} more (all in report.txt)_")
    if outcome.not_run and outcome.status in (Status.TIMED_OUT, Status.MEMORY, Status.CRASHED):
        lines.append(f"_{outcome.not_run} check{'s' * (outcome.not_run != 1)} never ran._")
    if outcome.output.strip():
        shown = outcome.output.strip("\n")[-600:]
        lines.append(f"The code's output (last lines):\n```text\n{neutralise(shown)}\n```")
    attachments = []
    if len(failures) > REPORT_FAILURES:
        full = "\n".join(f"[{c.outcome}] {c.name}: {c.detail}" for c in failures)
        attachments.append(Attachment("report.txt", full.encode("utf-8", "replace"), "every failure"))
    return Message(text="\n".join(lines), title=title, attachments=attachments,
                   tone=Tone.SUCCESS if outcome.all_passed else Tone.ERROR)
