"""Requests a wire fake received that the real platform would refuse, kept until a test checks them.

Each spec-checking fake (fake Slack, fake Discord) derives from :class:`SpecChecked`: it answers a
bad request the way the real service would and also records it here. Every fake ever created is
watched, so the autouse fixtures in ``tests/slack/conftest.py`` and ``tests/discord/conftest.py``
(:func:`fail_on_violations`) fail any test during which one of them saw a violation, whether the
test built the fake itself or through a fixture. A test that sends a bad request on purpose takes
it with :meth:`SpecChecked.take_violations`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Violation:
    """One refused request: what it was (``chat.update``, ``POST /channels/1/messages``) and why."""

    fake: str
    request: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.fake}: {self.request}: " + "; ".join(self.problems)


_watched: list[SpecChecked] = []  # strong references: a test's fake may be gone by teardown


class SpecChecked:
    """Mixin for a wire fake that checks requests against the platform's published spec."""

    fake_name = "fake"

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.closed = False
        _watched.append(self)

    def record_violation(self, request: str, problems: list[str]) -> None:
        """Keep a refused request for the test to fail on."""
        self.violations.append(Violation(self.fake_name, request, tuple(problems)))

    def take_violations(self) -> list[Violation]:
        """The violations so far, now counted as seen (for tests that send bad requests on purpose)."""
        taken, self.violations = self.violations, []
        return taken


def drain_violations() -> list[Violation]:
    """Every unseen violation of every fake; fakes already closed stop being watched."""
    found = [v for fake in _watched for v in fake.take_violations()]
    _watched[:] = [fake for fake in _watched if not fake.closed]
    return found


def fail_on_violations() -> None:
    """Fail the current test if any fake saw a request the real platform would refuse."""
    found = Counter(str(v) for v in drain_violations())
    if found:
        lines = [f"  {text}" + (f"  (x{count})" if count > 1 else "") for text, count in found.items()]
        pytest.fail("the platform would refuse requests the bot sent:\n" + "\n".join(lines), pytrace=False)
