"""A task's tests, taken out of the request, and the task text the models get.

Tests come from three places:

- fenced blocks tagged as tests (```` ```python test ````, ```` ```js test ````) or whose first line
  is ``# test`` (``// test`` in JavaScript);
- ``--test "assert is_even(4)"`` flags at the start of the request (or the event's ``tests``,
  Discord's ``test:`` option), a bare expression becoming an assertion;
- attached files named like tests: ``test_*.py``, ``*_test.py``, ``*.test.js`` (``.mjs``, ``.cjs``).

They are taken out of the text the models see unless the asker wrote ``--show-tests``; then the
text ends with them under "Make these tests pass". Blocks and flags of one language are joined
into one file (``test_task.py``, ``task.test.js``); attached files keep their names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.events import AttachedFile
from bot.sandbox.extract import normalize_language
from bot.testing.driver_py import static_count

LANGUAGES = ("python", "javascript")
MAX_TEST_CHARS = 50_000
SHOWN_INTRO = "Make these tests pass (they will be run against your code):"
_FENCE = {"python": "python", "javascript": "js"}
_DEFAULT_NAME = {"python": "test_task.py", "javascript": "task.test.js"}
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^\s`{]*)[ \t]*([^\n`]*)$")
_MARKER = re.compile(r"^\s*(#|//)\s*tests?\s*(:.*)?$", re.I)
_FLAG = re.compile(r"--([A-Za-z][\w-]*)")
_QUOTES = {'"': '"', "'": "'", "“": "”", "„": "“", "‘": "’"}
_JS_HINT = re.compile(r"\bassert\.\w+\s*\(|===|!==|=>|\b(true|false|null|undefined)\b|;\s*$")
_PY_FILE = re.compile(r"^(test_[\w.-]*|[\w.-]*_test)\.py$")
_JS_FILE = re.compile(r"^[\w.-]+\.test\.(js|mjs|cjs)$")
FLAG_HELP = '/codegen --test "assert is_even(4) and not is_even(3)" write is_even(n)'


class TestsError(ValueError):
    """The request's tests cannot be used; ``str(exc)`` tells the asker what to change."""

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class TestFile:
    """One test file: its name in the sandbox, its language (python/javascript) and source."""

    __test__ = False

    name: str
    language: str
    source: str

    def to_json(self) -> dict[str, str]:
        """The form stored in ``Task.tests``."""
        return {"name": self.name, "language": self.language, "source": self.source}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestFile:
        return cls(str(data["name"]), str(data["language"]), str(data["source"]))

    @property
    def checks(self) -> int:
        """How many checks the file holds, counted as the drivers count them (0 if unknown)."""
        return count_checks(self)


@dataclass(frozen=True)
class TaskTests:
    """What a request becomes: the models' text, the tests, and notes for the header."""

    text: str
    tests: tuple[TestFile, ...] = ()
    show: bool = False
    skipped: tuple[str, ...] = ()  # e.g. "diagram.test.ts: tests in ts cannot run here"
    files: tuple[AttachedFile, ...] = ()  # attachments that are not tests (context for the models)

    def stored(self) -> list[dict[str, str]] | None:
        """The tests as stored on the task (None when there are none)."""
        return [t.to_json() for t in self.tests] or None


def split_tests(
    text: str, *, tests: Sequence[str] = (), show: bool = False, files: Iterable[AttachedFile] = ()
) -> TaskTests:
    """Take the tests out of a request. Raises :class:`TestsError` with a message for the asker."""
    flags, show_flag, text = _leading_flags(text)
    show = show or show_flag
    text, blocks, skipped = _test_blocks(text)
    sources: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for language, source in blocks:
        sources[language].append(source)
    for expr in [*flags, *tests]:
        if expr.strip():
            language, source = _flag_test(expr.strip())
            sources[language].append(source)
    found: list[TestFile] = [
        TestFile(_DEFAULT_NAME[lang], lang, "\n\n".join(parts)) for lang, parts in sources.items() if parts
    ]
    others: list[AttachedFile] = []
    for attached in files:
        kind = language_of_test_file(attached.name)
        if kind is None:
            others.append(attached)
            continue
        try:
            source = attached.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            skipped.append(f"{attached.name}: not UTF-8 text")
            continue
        found.append(TestFile(_unique(_safe_name(attached.name), found), kind, source))
    size = sum(len(t.source) for t in found)
    if size > MAX_TEST_CHARS:
        raise TestsError(f"The tests are {size:,} characters; the limit is {MAX_TEST_CHARS:,}.")
    if show and not found:
        raise TestsError("--show-tests needs tests: add a ```python test block, a test file, or "
                         f'--test "…" (e.g. {FLAG_HELP}).')
    text = text.strip()
    if found and not text:
        raise TestsError(f"The request is only tests: say what to build too, e.g. {FLAG_HELP}")
    if show and found:
        text = shown_prompt(text, found)
    return TaskTests(text, tuple(found), show, tuple(skipped), tuple(others))


def shown_prompt(text: str, tests: Sequence[TestFile]) -> str:
    """The task text followed by its tests, as the models see it with ``--show-tests``."""
    blocks = [f"`{t.name}`:\n```{_FENCE.get(t.language, t.language)}\n{t.source}\n```" for t in tests]
    return f"{text}\n\n{SHOWN_INTRO}\n\n" + "\n\n".join(blocks)


def task_tests(stored: list[dict[str, Any]] | None) -> list[TestFile]:
    """The tests stored on a task."""
    return [TestFile.from_json(t) for t in stored or []]


def language_of_test_file(name: str) -> str | None:
    """'python' or 'javascript' for a file named like a test, else None."""
    base = _safe_name(name)
    if _PY_FILE.match(base):
        return "python"
    if _JS_FILE.match(base):
        return "javascript"
    return None


def count_checks(test: TestFile) -> int:
    """Checks in a test file: Python asserts, test functions and unittest methods; JS test() calls
    or assertion statements. Best effort (the driver's own count is what gets reported)."""
    if test.language == "python":
        try:
            return static_count(ast.parse(test.source))
        except SyntaxError:
            return 0
    # as driver.js counts them (it runs in the sandbox, so it cannot import this)
    calls = len(re.findall(r"(?<![\w.])(?:test|it)\s*\(", test.source))
    return calls or len(re.findall(r"^\s*assert\b", test.source, re.M))


# --- flags -------------------------------------------------------------------------------------------


def _leading_flags(text: str) -> tuple[list[str], bool, str]:
    """``--test "…"`` and ``--show-tests`` at the start of ``text``; other flags are kept in place."""
    tests: list[str] = []
    show = False
    kept: list[str] = []
    i = 0
    while True:
        j = _skip_space(text, i)
        match = _FLAG.match(text, j)
        if match is None:
            break
        flag, k = match.group(1).lower(), match.end()
        if flag in ("show-tests", "show_tests"):
            show, i = True, k
        elif flag == "test":
            value, i = _quoted(text, k)
            tests.append(value)
        else:  # someone else's flag (e.g. --models a,b): leave it, with its value, for them
            end = k
            nxt = _skip_space(text, k)
            if nxt < len(text) and not text.startswith("--", nxt):
                end = _token_end(text, nxt)
            kept.append(text[j:end])
            i = end
    rest = text[i:].strip()
    return tests, show, " ".join([*kept, rest]) if kept else rest


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _token_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def _quoted(text: str, i: int) -> tuple[str, int]:
    """The quoted value after ``--test`` (``=`` or spaces first) and the index after it."""
    if i < len(text) and text[i] == "=":
        i += 1
    else:
        i = _skip_space(text, i)
    if i >= len(text) or text[i] not in _QUOTES:
        raise TestsError(f"--test needs its test in quotes, e.g. {FLAG_HELP}")
    closers = {_QUOTES[text[i]], '"'} if text[i] != "'" else {"'"}
    out: list[str] = []
    k = i + 1
    while k < len(text):
        char = text[k]
        if char == "\\" and k + 1 < len(text) and text[k + 1] in closers | {"\\"}:
            out.append(text[k + 1])
            k += 2
            continue
        if char in closers:
            return "".join(out), k + 1
        out.append(char)
        k += 1
    raise TestsError(f"--test: the closing quote is missing, e.g. {FLAG_HELP}")


def _flag_test(expr: str) -> tuple[str, str]:
    """(language, source) of one ``--test`` value; a bare expression becomes an assertion."""
    if _JS_HINT.search(expr):
        return "javascript", expr if "assert" in expr else f"assert.ok({expr});"
    try:
        ast.parse(expr, mode="eval")
    except SyntaxError:
        return "python", expr
    return "python", f"assert {expr}"


# --- fenced blocks -----------------------------------------------------------------------------------


def _test_blocks(text: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The text without its test blocks, the blocks as (language, source), and notes."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    blocks: list[tuple[str, str]] = []
    skipped: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            kept.append(lines[i])
            i += 1
            continue
        fence, tag, info = match.group(2), match.group(3).lower(), match.group(4).lower().split()
        end = i + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        body = lines[i + 1 : end]
        first = next((line for line in body if line.strip()), "")
        marked = tag in ("test", "tests") or "test" in info or "tests" in info or bool(_MARKER.match(first))
        if not marked:
            kept.extend(lines[i : end + 1])
            i = end + 1
            continue
        language = _block_language(tag, first, "\n".join(body))
        if language in LANGUAGES:
            blocks.append((language, "\n".join(body).strip("\n")))
        else:
            skipped.append(f"a ```{tag} test block: tests in {tag or 'that language'} cannot run here "
                           f"(only {' and '.join(LANGUAGES)})")
        i = end + 1
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept))
    return cleaned, blocks, skipped


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def _block_language(tag: str, first: str, body: str) -> str | None:
    if tag and tag not in ("test", "tests"):
        return normalize_language(tag)
    if first.lstrip().startswith("//"):
        return "javascript"
    if first.lstrip().startswith("#"):
        return "python"
    try:
        ast.parse(body)
    except SyntaxError:
        return "javascript"
    return "python"


# --- names -------------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return re.sub(r"[^\w.-]", "_", base) or "test_file"


def _unique(name: str, taken: Sequence[TestFile]) -> str:
    names = {t.name for t in taken}
    if name not in names:
        return name
    stem, dot, ext = name.partition(".")
    n = 2
    while f"{stem}_{n}{dot}{ext}" in names:
        n += 1
    return f"{stem}_{n}{dot}{ext}"
