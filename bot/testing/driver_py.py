"""The Python test driver. It runs INSIDE the sandbox (standard library only), never in the bot.

The harness (:mod:`bot.testing.harness`) sends this file's source followed by a call
``main(<payload JSON>)``. The driver writes the answer's code to ``solution.py`` and each test
file beside it, runs the code as the module ``solution`` (also importable under the test file's
stem: ``test_calc.py`` can ``from calc import add``), then runs each check in the test file's
namespace, which starts as a copy of the code's:

- every top-level ``assert`` statement, one check each (other top-level statements are setup);
- every top-level ``def test…()`` function;
- every ``unittest.TestCase`` test method (class fixtures honoured).

Results go to a private copy of stdout, one JSON event per line prefixed with the run's nonce
(``plan``, ``case``, ``note``, ``fatal``, ``done``), written as they happen so a run that is
killed still reports what it finished. The code's own output goes to a file, so it can neither
flood nor forge the results; its tail comes with ``done``. A test file that is gone or changed
after the code ran is reported (``fatal`` ``tampered``) and the run is not counted.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a test file needs them: each costs a few hundred ms to load
    import unittest

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)  # tuples, not unions: any Python 3.8+ runs this
DETAIL_CHARS = 1500
OUTPUT_TAIL = 2000
LEFT, RIGHT = "__codegen_left", "__codegen_right"


class Channel:
    """The results channel: a duplicate of the original stdout, taken before the code runs."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.fd = os.dup(1)
        self.clean = True  # no check failed and nothing stopped the checks: the exit status is 0

    def emit(self, event: str, **fields: Any) -> None:
        if event == "fatal" or fields.get("outcome") in ("fail", "error"):
            self.clean = False
        line = self.nonce + " " + json.dumps({"event": event, **fields}, default=str) + "\n"
        data = line.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data):]


def _capture_output(path: str) -> int:
    """Send fds 1 and 2 (the code's print and errors) to ``path``; returns its fd."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    return fd


def _tail(fd: int) -> str:
    try:
        size = os.fstat(fd).st_size
        return os.pread(fd, OUTPUT_TAIL, max(0, size - OUTPUT_TAIL)).decode("utf-8", "replace")
    except OSError:
        return ""


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def _where(exc: BaseException, files: set[str]) -> str:
    """' (test_task.py, line 4)' for the innermost frame in the code or the tests."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
    if not frames:
        return ""
    frame = frames[-1]
    return f" ({os.path.basename(frame.filename)}, line {frame.lineno})"


def describe(exc: BaseException, files: set[str]) -> str:
    """'ZeroDivisionError: division by zero (solution.py, line 3)'."""
    if isinstance(exc, SystemExit):
        return f"the code called exit({exc.code!r}){_where(exc, files)}"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return (text + _where(exc, files))[:DETAIL_CHARS]


def _syntax(exc: SyntaxError) -> str:
    line = (exc.text or "").strip()
    where = f"line {exc.lineno}" if exc.lineno else "somewhere"
    return f"{where}: {exc.msg}" + (f": {line[:200]}" if line else "")


def _short(text: str, limit: int = 100) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the report
        text = f"<unprintable {type(value).__name__}: {exc}>"
    return _short(text, 300)


class Runner:
    """Runs one payload's checks and reports each on the channel."""

    def __init__(self, channel: Channel, files: set[str]) -> None:
        self.channel = channel
        self.files = files

    def case(self, name: str, check: Callable[[], Any]) -> None:
        """Run one check: it passes unless ``check`` raises."""
        started = time.perf_counter()
        outcome, detail = "pass", ""
        try:
            check()
        except AssertionError as exc:
            outcome, detail = "fail", self._assertion_detail(exc)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            skip = "unittest" in sys.modules and isinstance(exc, sys.modules["unittest"].SkipTest)
            outcome, detail = ("skip", str(exc)) if skip else ("error", describe(exc, self.files))
        self.emit_case(name, outcome, detail, started)

    def emit_case(self, name: str, outcome: str, detail: str, started: float) -> None:
        ms = round((time.perf_counter() - started) * 1000, 2)
        self.channel.emit("case", name=name, outcome=outcome, detail=detail[:DETAIL_CHARS], ms=ms)

    def _assertion_detail(self, exc: AssertionError) -> str:
        message = str(exc)
        return ("AssertionError" + (f": {message}" if message else "") + _where(exc, self.files))[:DETAIL_CHARS]

    # -- the three kinds of checks ----------------------------------------------------------------

    def run_file(self, path: str, source: str, tree: ast.Module, namespace: dict[str, Any]) -> None:
        for node in tree.body:
            if isinstance(node, ast.Assert):
                self._assert(path, source, node, namespace)
            else:
                self._setup(path, source, node, namespace)
        for node in tree.body:
            if isinstance(node, FUNCTIONS) and node.name.startswith("test"):
                function = namespace.get(node.name)
                if callable(function):
                    self.case(node.name, functools.partial(_call_test_function, function))
        unittest = sys.modules.get("unittest")  # a test file with TestCase classes imported it
        for node in tree.body:
            if unittest is not None and isinstance(node, ast.ClassDef):
                cls = namespace.get(node.name)
                if isinstance(cls, type) and issubclass(cls, unittest.TestCase):
                    self._unittest(cls)

    def _assert(self, path: str, source: str, node: ast.Assert, namespace: dict[str, Any]) -> None:
        text = ast.get_source_segment(source, node) or "assert …"
        name = f"line {node.lineno}: {_short(text)}"
        compare = isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
        code = compile(_capturing(node) if compare else ast.Module([node], []), path, "exec")

        def check() -> None:
            namespace.pop(LEFT, None)
            namespace.pop(RIGHT, None)
            try:
                exec(code, namespace)
            except AssertionError as exc:
                detail = str(exc)
                if LEFT in namespace and RIGHT in namespace:
                    values = f"left: {_repr(namespace[LEFT])}, right: {_repr(namespace[RIGHT])}"
                    detail = f"{detail} ({values})" if detail else values
                raise AssertionError(f"{_short(text, 300)}: {detail}" if detail else _short(text, 300)) from None

        self.case(name, check)

    def _setup(self, path: str, source: str, node: ast.stmt, namespace: dict[str, Any]) -> None:
        code = compile(ast.Module([node], []), path, "exec")
        started = time.perf_counter()
        try:
            exec(code, namespace)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = ast.get_source_segment(source, node) or ""
            self.emit_case(f"line {node.lineno} (setup): {_short(text)}", "error",
                           describe(exc, self.files), started)

    def _unittest(self, cls: type[unittest.TestCase]) -> None:
        import unittest

        suite = unittest.defaultTestLoader.loadTestsFromTestCase(cls)
        suite.run(_result_class()(self))


def _call_test_function(function: Callable[..., Any]) -> None:
    import inspect

    required = [
        p for p in inspect.signature(function).parameters.values()
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if required:
        names = ", ".join(p.name for p in required)
        raise TypeError(f"{function.__name__}() takes arguments ({names}): pytest fixtures are not available")
    result = function()
    if inspect.iscoroutine(result):
        import asyncio

        asyncio.run(result)


def _capturing(node: ast.Assert) -> ast.Module:
    """``assert L op R`` as ``LEFT = L; RIGHT = R; assert LEFT op RIGHT`` (values for the report)."""
    assert isinstance(node.test, ast.Compare)
    left = ast.Assign([ast.Name(LEFT, ast.Store())], node.test.left)
    right = ast.Assign([ast.Name(RIGHT, ast.Store())], node.test.comparators[0])
    test = ast.Compare(ast.Name(LEFT, ast.Load()), node.test.ops, [ast.Name(RIGHT, ast.Load())])
    check = ast.Assert(test, node.msg)
    for made in (left, right, check):
        ast.copy_location(made, node)
    return ast.fix_missing_locations(ast.Module([left, right, check], []))


def _result_class() -> Callable[[Runner], unittest.TestResult]:
    """A TestResult that reports each test case (subtests included) as one check."""
    import unittest

    class _Result(unittest.TestResult):
        """Reports each unittest test case (subtests included) as one check."""

        def __init__(self, runner: Runner) -> None:
            super().__init__(None, None, None)
            self.runner = runner
            self.current: tuple[str, str] = ("pass", "")
            self.started = 0.0

        def startTest(self, test: unittest.TestCase) -> None:
            super().startTest(test)
            self.current, self.started = ("pass", ""), time.perf_counter()

        def stopTest(self, test: unittest.TestCase) -> None:
            super().stopTest(test)
            name = f"{type(test).__name__}.{getattr(test, '_testMethodName', str(test))}"
            self.runner.emit_case(name, *self.current, self.started)

        def _set(self, outcome: str, err: Any) -> None:
            if self.current[0] in ("fail", "error"):
                return  # the first failure of a test is the one reported
            detail = "".join(traceback.format_exception_only(err[0], err[1])).strip() if err else outcome
            if err:
                detail += _where(err[1], self.runner.files)
            self.current = (outcome, detail)

        def addFailure(self, test: Any, err: Any) -> None:
            super().addFailure(test, err)
            self._set("fail", err)

        def addError(self, test: Any, err: Any) -> None:
            super().addError(test, err)
            if not isinstance(test, unittest.TestCase):  # setUpClass / tearDownClass failed
                self.runner.emit_case(str(test), "error", describe(err[1], self.runner.files), time.perf_counter())
                return
            self._set("error", err)

        def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
            super().addSubTest(test, subtest, err)
            if err is not None:
                self._set("fail" if issubclass(err[0], test.failureException) else "error", err)

        def addSkip(self, test: Any, reason: str) -> None:
            super().addSkip(test, reason)
            self.current = ("skip", reason)

        def addUnexpectedSuccess(self, test: Any) -> None:
            super().addUnexpectedSuccess(test)
            self.current = ("fail", "expected to fail, but passed")

    return _Result


def static_count(tree: ast.Module) -> int:
    """Checks a test file holds, counted before anything runs (the bot's header uses it too)."""
    count = 0
    for node in tree.body:
        is_test = isinstance(node, FUNCTIONS) and node.name.startswith("test")
        if isinstance(node, ast.Assert) or is_test:
            count += 1
        elif isinstance(node, ast.ClassDef):
            count += sum(1 for item in node.body
                         if isinstance(item, FUNCTIONS) and item.name.startswith("test"))
    return count


def main(payload_json: str) -> None:
    """Run the payload ``{"nonce", "solution", "tests": [{"name", "source"}], "modules"}``."""
    payload = json.loads(payload_json)
    channel = Channel(payload["nonce"])
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        os.unlink(os.path.abspath(__file__))  # the code has no business reading the nonce
    except OSError:
        pass
    work = os.path.join(here, "work")
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    sys.path.insert(0, work)
    output = _capture_output(os.path.join(here, "output.txt"))
    try:
        _run(channel, payload, work)
    except BaseException as exc:  # the driver itself must always end with a report
        channel.emit("fatal", reason="driver", detail=describe(exc, set()))
    channel.emit("done", output=_tail(output))
    os._exit(0 if channel.clean else 1)  # threads the code left running must not keep it alive


def _run(channel: Channel, payload: dict[str, Any], work: str) -> None:
    solution_path = os.path.join(work, "solution.py")
    tests: list[tuple[str, str, ast.Module]] = []
    for test in payload["tests"]:
        path = os.path.join(work, test["name"])
        try:
            tests.append((path, test["source"], ast.parse(test["source"], filename=path)))
        except SyntaxError as exc:
            channel.emit("fatal", reason="tests_syntax", detail=f"{test['name']}, {_syntax(exc)}")
            return
    channel.emit("plan", total=sum(static_count(tree) for _, _, tree in tests))
    try:
        code = compile(payload["solution"], solution_path, "exec")
    except (SyntaxError, ValueError) as exc:
        detail = _syntax(exc) if isinstance(exc, SyntaxError) else str(exc)
        channel.emit("fatal", reason="syntax", detail=detail)
        return
    with open(solution_path, "w", encoding="utf-8") as handle:
        handle.write(payload["solution"])
    digests = {}
    for path, source, _ in tests:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
        digests[path] = _digest(path)
    files = {solution_path, *digests}
    module = types.ModuleType("solution")
    module.__file__ = solution_path
    for name in payload.get("modules") or ["solution"]:
        if name not in sys.modules and name not in getattr(sys, "stdlib_module_names", ()):
            sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        channel.emit("note", reason="load", detail=describe(exc, files))
    if _tampered(channel, digests):
        return
    runner = Runner(channel, files)
    for path, source, tree in tests:
        namespace = dict(module.__dict__)
        namespace.update(__name__="tests", __file__=path)
        runner.run_file(path, source, tree, namespace)
    _tampered(channel, digests)


def _tampered(channel: Channel, digests: dict[str, str | None]) -> bool:
    for path, digest in digests.items():
        now = _digest(path)
        if now != digest:
            what = "deleted" if now is None else "changed"
            channel.emit("fatal", reason="tampered", detail=f"the code {what} {os.path.basename(path)}")
            return True
    return False
