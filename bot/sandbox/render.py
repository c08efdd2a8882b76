"""Show a run's result in chat: status line, output in a code block, full output as a file.

Everything a snippet printed is neutralised before it is shown: mentions (``@everyone``,
``@here``, ``<!channel>``, ``<@U123>``, ``<@&role>``, ``<#chan>``) get a zero-width space so no
platform parses them, and code fences get one so the output cannot close its block.
"""

from __future__ import annotations

import re

from bot.messages import Attachment, Message, Tone
from bot.sandbox.result import RunResult, status_line

ZWSP = "\u200b"
INLINE_CHARS = 1500
INLINE_LINES = 40

_MENTION = re.compile(r"@(everyone|here|channel)\b", re.I)
_ANGLE = re.compile(r"<([!@#])")
_FENCE = re.compile(r"(`{3,}|~{3,})")


def neutralise(text: str) -> str:
    """Make ``text`` unable to ping anyone or to break out of a code block."""
    text = _MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    text = _ANGLE.sub(lambda m: "<" + ZWSP + m.group(1), text)
    text = _FENCE.sub(lambda m: ZWSP.join(m.group(1)), text)
    return text.replace("\x00", "\\0")


def _cut(text: str, chars: int, lines: int) -> tuple[str, bool]:
    parts = text.split("\n")
    cut = False
    if len(parts) > lines:
        text, cut = "\n".join(parts[:lines]), True
    if len(text) > chars:
        text, cut = text[:chars], True
    return text, cut


def _hints(result: RunResult) -> list[str]:
    hints = []
    if "EOFError" in result.stderr or "EOF when reading" in result.stderr:
        hints.append("runs get no input: `input()` reads end-of-file, so hard-code test values")
    if result.truncated:
        hints.append("the program printed more than the sandbox keeps; its output was cut")
    return hints


def render_result(result: RunResult, *, title: str) -> Message:
    """A platform-neutral message for ``result`` (title e.g. "▶ Run: GPT-4o")."""
    sections: list[tuple[str, str]] = []
    if result.stdout:
        sections.append(("stdout", result.stdout))
    if result.stderr:
        sections.append(("stderr", result.stderr))
    lines = [status_line(result)]
    budget = INLINE_CHARS
    cut_any = False
    for name, text in sections:
        shown, cut = _cut(text.rstrip("\n"), max(budget, 200), INLINE_LINES)
        budget -= len(shown)
        cut_any |= cut
        label = f"{name} (cut)" if cut else name
        lines.append(f"{label}:\n```text\n{neutralise(shown)}\n```")
    if not sections:
        lines.append("_(no output)_")
    attachments: list[Attachment] = []
    if cut_any or result.truncated:
        full = "".join(
            f"--- {name} ---\n{text}{'' if text.endswith(chr(10)) else chr(10)}"
            for name, text in sections
        )
        attachments.append(Attachment("output.txt", full.encode("utf-8", "replace"), "full output"))
        lines.append("_output cut here; the full output is attached as output.txt_")
    lines += [f"_note: {hint}_" for hint in _hints(result)]
    return Message(
        text="\n".join(lines),
        title=title,
        attachments=attachments,
        tone=Tone.SUCCESS if result.ok else Tone.ERROR,
    )
