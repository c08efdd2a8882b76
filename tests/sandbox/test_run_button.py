"""The core's Run path end to end: a model's answer (from the fake provider) run in the real
sandbox, the result posted in the thread through the in-memory surface."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory import MemorySurface
from bot.arena import Arena
from bot.events import RunRequested, TaskRequested, User
from bot.messages import Message
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from storage.db import Store
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI

ANSWER = (
    "Here is the program:\n\n```python\nimport math\n"
    "print('@everyone the answer is', math.factorial(5))\n```\n\nIt prints 120."
)
HANG = "```python\nwhile True:\n    pass\n```"


async def _answer_ids(arena: Arena, surface: MemorySurface, fake: FakeOpenAI) -> list[int]:
    outcome = await arena.ask(
        TaskRequested(platform="memory", user=User("U1", "ann"), channel="C1", text="factorial of 5"),
        surface,
    )
    assert outcome is not None
    return [a.id for a in outcome.answers if a.id is not None]


async def test_run_button_posts_the_sandboxed_result(
    sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena], backend: LocalBackend,
) -> None:
    fake_openai.script("m1", text=ANSWER)
    service = SandboxService(backend)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=service)
    surface = MemorySurface(platform="memory")
    [answer_id] = await _answer_ids(arena, surface, fake_openai)
    private: list[Message] = []

    async def notify(message: Message) -> None:
        private.append(message)

    await arena.handle(RunRequested(platform="memory", user=User("U2", "bob"), answer_id=answer_id,
                                    notify=notify), surface)
    await arena.join()
    [result] = [m for m in surface.messages.values() if (m.title or "").startswith("▶ Run")]
    assert result.text.startswith("✅ exited 0")
    assert "the answer is 120" in result.text
    assert "@everyone" not in result.text, "a snippet's output never pings"
    assert private == []


async def test_run_button_reports_a_timeout(
    sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena], backend: LocalBackend,
) -> None:
    fake_openai.script("m2", text=HANG)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m2")], sandbox=SandboxService(backend))
    surface = MemorySurface(platform="memory")
    [answer_id] = await _answer_ids(arena, surface, fake_openai)
    await arena.handle(RunRequested(platform="memory", user=User("U2", "bob"), answer_id=answer_id), surface)
    await arena.join()
    shown = "\n".join(m.plain() for m in surface.messages.values())
    assert "⏱ timed out" in shown
