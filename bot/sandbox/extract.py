"""Pick the runnable program out of an answer's markdown.

Rules: fenced blocks (``` or ~~~, with or without a language tag) are collected; untagged blocks
get a detected language; install commands (``pip install …``), shell transcripts and output
samples are ignored; the language with the most code wins, and its blocks are joined in order
when they read as one program split across the answer, else the largest block is taken.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from bot.sandbox.errors import NoRunnableCode
from bot.sandbox.languages import RUNNABLE, normalize_language

_OUTPUT_TAGS = {"text", "txt", "output", "plaintext", "plain", "log", "stdout", "console",
                "shell-session", "terminal", "out", "result"}

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^\s`{]*)[^\n]*$")
_INSTALL = re.compile(
    r"^\s*[!%$]?\s*(sudo\s+)?(pip3?|python3?\s+-m\s+pip|uv\s+pip|npm|yarn|pnpm|apt(-get)?|brew|"
    r"conda|poetry|pipenv|gem|cargo|go)\s+(install|add|i|get|update|upgrade)\b"
)
_PROMPT = re.compile(r"^\s*(\$|>|#|PS>|C:\\>)\s+\S")


@dataclass(frozen=True)
class Snippet:
    """A program ready to run: its source and one of :data:`RUNNABLE`."""

    code: str
    language: str


@dataclass(frozen=True)
class _Block:
    tag: str
    code: str


@dataclass(frozen=True)
class Segment:
    """A piece of markdown: prose, or a fenced code block (``tag`` lowercased, '' when untagged)."""

    code: bool
    text: str
    tag: str = ""


def segments(markdown: str) -> list[Segment]:
    """Prose and fenced code blocks in order; an unclosed last fence runs to the end (cut-off answers)."""
    out: list[Segment] = []
    prose: list[str] = []

    def end_prose() -> None:
        text = "\n".join(prose).strip("\n")
        if text.strip():
            out.append(Segment(False, text))
        prose.clear()

    lines = markdown.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            prose.append(lines[i])
            i += 1
            continue
        end_prose()
        indent, fence, tag = len(m.group(1)), m.group(2), m.group(3)
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        i += 1
        tag = tag.lower().split(":", 1)[0]  # ```python:main.py
        out.append(Segment(True, "\n".join(body).strip("\n"), tag))
    end_prose()
    return out


def _blocks(markdown: str) -> list[_Block]:
    """Fenced blocks in order (see :func:`segments`)."""
    return [_Block(s.tag, s.text) for s in segments(markdown) if s.code]


def fence_tags(markdown: str) -> list[str]:
    """The tags of a text's fenced code blocks, in order, lowercased ('' for an untagged block)."""
    return [block.tag for block in _blocks(markdown)]


def _strip_repl(code: str) -> str:
    """Turn a ``>>>`` transcript into its input lines."""
    if not code.lstrip().startswith(">>>"):
        return code
    kept = []
    for line in code.split("\n"):
        if line.startswith(">>> ") or line == ">>>" or line.startswith("... ") or line == "...":
            kept.append(line[4:])
    return "\n".join(kept)


def _drop_install_lines(code: str) -> str:
    return "\n".join(line for line in code.split("\n") if not _INSTALL.match(line))


def _looks_python(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    # A bare expression statement (``{"a": 1}``, ``42``, ``foo``) is what output samples look
    # like; only calls count among expressions.
    meaningful = [
        node for node in tree.body
        if not isinstance(node, ast.Expr) or isinstance(node.value, (ast.Call, ast.Await))
    ]
    return bool(meaningful)


# Lines only Python writes: they mark a block as Python even when it does not parse, so a
# syntax error is run (and shown) instead of the answer being called code-free.
_PY_HINTS = re.compile(
    r"^\s*(async\s+def|def|class)\s+\w+.*:\s*$|^\s*(from\s+[\w.]+\s+)?import\s+[\w.]+(\s+as\s+\w+)?"
    r"(\s*,\s*[\w.]+)*\s*$|^\s*(elif|except|with|for\s+\w+\s+in)\b.*:\s*$|^if\s+__name__\s*==|^\s*print\(",
    re.M,
)
_JS_HINTS = re.compile(
    r"\bconsole\.log\(|\bfunction\s+\w*\s*\(|=>|\b(const|let|var)\s+\w+\s*=|\brequire\(|"
    r"\bmodule\.exports\b|\bdocument\.|;\s*$",
    re.M,
)
_BASH_HINTS = re.compile(
    r"^#!.*\b(ba|z)?sh\b|^\s*(echo|printf|for \w+ in|if \[|while \[|export|cd|ls|grep|"
    r"mkdir|cat|sed|awk|read)\b|\$\{?\w+\}?",
    re.M,
)


def detect_language(code: str) -> str | None:
    """Guess the language of an untagged block, or None when it looks like prose or output."""
    first = code.lstrip().split("\n", 1)[0]
    if first.startswith("#!"):
        if "python" in first:
            return "python"
        if "node" in first:
            return "javascript"
        if re.search(r"\b(ba|z)?sh\b", first):
            return "bash"
    if _looks_python(code):
        return "python"
    if _PY_HINTS.search(code) and not _JS_HINTS.search(code):
        return "python"  # Python that does not parse: running it shows the SyntaxError
    if _JS_HINTS.search(code):
        return "javascript"
    if _BASH_HINTS.search(code):
        return "bash"
    return None


def _is_install_or_transcript(code: str) -> bool:
    lines = [line for line in code.split("\n") if line.strip() and not line.strip().startswith("#")]
    if not lines:
        return True
    if all(_INSTALL.match(line) for line in lines):
        return True
    return _PROMPT.match(lines[0]) is not None and lines[0].lstrip().startswith("$")


def _classify(block: _Block) -> tuple[str, str] | None:
    """``(language, code)`` for a runnable block, None for anything to ignore."""
    if block.tag in _OUTPUT_TAGS:
        return None
    code = block.code
    if block.tag in ("pycon",) or code.lstrip().startswith(">>>"):
        code = _strip_repl(code)
    if not code.strip():
        return None
    if block.tag:
        language = normalize_language(block.tag)
        if language is None:
            return None
    else:
        language = detect_language(code)
        if language is None:
            return None
    if language == "bash" and _is_install_or_transcript(code):
        return None
    code = _drop_install_lines(code) if language != "bash" else code
    if not code.strip():
        return None
    return language, code


_PY_DEF = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)|^(\w+)\s*=[^=]", re.M)
_JS_DEF = re.compile(r"^(?:async\s+)?(?:function\*?|class|const|let|var)\s+(\w+)", re.M)


def _top_level_names(language: str, code: str) -> set[str]:
    pattern = _PY_DEF if language == "python" else _JS_DEF if language == "javascript" else None
    if pattern is None:
        return set()
    return {a or b for a, b in pattern.findall(code)} if language == "python" else set(
        pattern.findall(code)
    )


_TEST_FILE = re.compile(r"^\s*(import pytest|from pytest\b)|require\(['\"](jest|mocha)['\"]\)", re.M)


def _choose(language: str, codes: list[str]) -> str:
    """Join blocks that form one program; if a later block redefines names, take the largest.

    Test files for a test runner (pytest, jest) cannot run on their own and are left out."""
    runnable = [c for c in codes if not _TEST_FILE.search(c)]
    codes = runnable or codes
    if len(codes) == 1:
        return codes[0]
    seen: set[str] = set()
    for code in codes:
        names = _top_level_names(language, code)
        if names & seen:
            return max(codes, key=lambda c: len(c.strip().split("\n")))
        seen |= names
    return "\n\n".join(codes)


def extract_snippet(markdown: str) -> Snippet:
    """Return the answer's main runnable program. Raises :class:`NoRunnableCode`."""
    blocks = _blocks(markdown)
    if not blocks:
        text = markdown.strip()
        if "\n" in text and _looks_python(text):
            return Snippet(text, "python")
        raise NoRunnableCode()
    found: dict[str, list[str]] = {}
    for block in blocks:
        classified = _classify(block)
        if classified:
            found.setdefault(classified[0], []).append(classified[1])
    if not found:
        others = sorted({b.tag for b in blocks if b.tag and b.tag not in _OUTPUT_TAGS})
        others = [t for t in others if normalize_language(t) is None]
        if others:
            raise NoRunnableCode(
                f"found {', '.join(others)}; runnable languages are {', '.join(RUNNABLE)}"
            )
        raise NoRunnableCode()
    # The language with the most code wins; ties go to the one that appeared first.
    order = list(found)
    language = max(order, key=lambda lang: (sum(len(c) for c in found[lang]), -order.index(lang)))
    return Snippet(_choose(language, found[language]), language)
