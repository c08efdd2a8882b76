"""Fixtures for tests on tasks: the real bwrap sandbox behind the arena, and a task helper."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.memory import MemorySurface
from bot.arena import Arena, TaskOutcome
from bot.events import TaskRequested, User
from bot.messages import Message
from bot.sandbox.limits import Limits
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from storage.db import Store
from storage.models import Answer
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI

# A few seconds of wall time: an endless loop ends quickly, yet two Node processes (the driver and
# node:test's child) start comfortably on a busy machine. Every other limit is the production one.
TEST_LIMITS = Limits(wall_s=4.0, cpu_s=4)
ASKER = User("U1", "ada")


@pytest.fixture(scope="session")
def tests_backend() -> LocalBackend:
    """The real bwrap backend, shared by this package's tests."""
    return LocalBackend(TEST_LIMITS)


Ask = Callable[..., Awaitable[tuple[TaskOutcome, MemorySurface]]]


@pytest.fixture
def ask(sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena],
        tests_backend: LocalBackend) -> Ask:
    """``await ask(text, {"model": answer_text, …})``: one task through an arena with the real
    sandbox, every automatic test run finished. Returns the outcome and the surface."""

    async def run(text: str, answers: dict[str, str], *, notes: list[Message] | None = None,
                  arena: Arena | None = None, **event: Any) -> tuple[TaskOutcome, MemorySurface]:
        for model, answer in answers.items():
            fake_openai.script(model, text=answer)
        arena = arena or make_arena(sqlite_store, [contestant(fake_openai, m) for m in answers],
                                    sandbox=SandboxService(tests_backend))

        async def notify(message: Message) -> None:
            if notes is not None:
                notes.append(message)

        surface = MemorySurface()
        outcome = await arena.ask(
            TaskRequested(platform="memory", user=ASKER, channel="C1", text=text, notify=notify, **event), surface)
        assert outcome is not None, notes
        await arena.join()  # the automatic test runs too
        return outcome, surface

    return run


async def answers_final(arena: Arena, task_id: int) -> list[Answer]:
    """Wait (not timing anything) until a task's answers are final, its test runs maybe not."""
    from storage import tasks as db
    from storage.models import TaskStatus

    for _ in range(1000):
        found = db.task_with_answers(arena.store, task_id)
        if found is not None and found[0].status == TaskStatus.DONE:
            return found[1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish")


def final(surface: MemorySurface, answer: Answer) -> Message:
    """The message an answer shows now."""
    return next(m for ref, m in surface.messages.items() if ref.message_id == answer.message_id)
