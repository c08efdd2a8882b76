"""One sandbox program that runs an answer's code together with its task's tests.

The program is a driver (``driver_py.py`` or ``driver.js``, next to this file) followed by a call
with a JSON payload: the code, the test files and a fresh nonce that marks the driver's report
lines (see :mod:`bot.testing.outcome`). It runs through the sandbox like any snippet, so the
limits, the queue behind the concurrency cap and the isolation are the Run button's own.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.testing.suite import TestFile

HERE = Path(__file__).resolve().parent
_ESM = re.compile(r"^\s*(import\s+[\w{*]|import\s*['\"]|export\s+)", re.M)
_STEM = re.compile(r"^(?:test_(\w+)|(\w+)_test)\.py$")


@dataclass(frozen=True)
class Program:
    """What to hand the sandbox: ``code`` in ``language``, reporting with ``nonce``."""

    code: str
    language: str
    nonce: str


@functools.cache
def _driver(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def build(code: str, language: str, tests: Sequence[TestFile]) -> Program:
    """The sandbox program that runs ``code`` (in ``language``) against ``tests`` (same language)."""
    nonce = secrets.token_hex(12)
    files = [{"name": t.name, "source": t.source} for t in tests]
    payload: dict[str, object]
    if language == "python":
        payload = {"nonce": nonce, "solution": code, "tests": files, "modules": module_names(tests)}
        source = f"{_driver('driver_py.py')}\n\nmain({json.dumps(payload)!r})\n"
        return Program(source, "python", nonce)
    if language == "javascript":
        esm = bool(_ESM.search(code) or any(_ESM.search(t.source) for t in tests))
        payload = {"nonce": nonce, "solution": code, "tests": files, "esm": esm}
        # JSON is a JavaScript literal: the payload string goes in as one.
        source = f"{_driver('driver.js')}\nmain({json.dumps(json.dumps(payload))});\n"
        return Program(source, "javascript", nonce)
    raise ValueError(f"tests cannot run {language!r} code")


def module_names(tests: Sequence[TestFile]) -> list[str]:
    """Names the code can be imported by: ``solution``, and ``calc`` for ``test_calc.py``."""
    names = ["solution"]
    for test in tests:
        match = _STEM.match(test.name)
        stem = match and (match.group(1) or match.group(2))
        if stem and stem not in names:
            names.append(stem)
    return names
