"""Test-run benchmark: 8 answers x a 10-assertion test, through the arena and the real sandbox.

    .venv/bin/python bench/tests_run.py [--answers 8] [--rounds 5]

Each round sends one task with a ```python test block of 10 assertions to N fake models (the fake
OpenAI-compatible server in tests/fakes) through the real arena (SQLite) into a recording surface,
and measures the time from the LAST answer's final edit to the LAST footer showing its test result.
It also prints, per answer, the time from its sandbox result coming back to its footer edit (the
bot's own work: storing the result and editing the message). Next to it, the same N test programs (answer code + tests, as the harness builds them) are run
straight through a SandboxService with the same concurrency cap, all at once: that makespan is
"the sandbox's own time". Target: arena time <= sandbox time + 100 ms per answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.memory import MemorySurface
from app.wiring import run_async
from bot.arena import Arena
from bot.config import Settings
from bot.events import TaskRequested, User
from bot.messages import Message, Tone
from bot.providers.client import ChatClient
from bot.roster import Contestant, Roster
from bot.sandbox.service import SandboxService
from bot.surface import MessageRef
from bot.testing import harness
from bot.testing.suite import split_tests
from storage import tasks
from storage.db import Store
from tests.fakes.openai_server import FakeOpenAI

CODE = "def is_even(n):\n    return n % 2 == 0\n\n\ndef halve(n):\n    return n // 2\n"
ASSERTS = "\n".join(
    [f"assert is_even({2 * i})" for i in range(5)] + [f"assert halve({2 * i}) == {i}" for i in range(5)]
)
TASK = f"write is_even(n) and halve(n)\n\n```python test\n{ASSERTS}\n```"
ANSWER = f"Here it is:\n\n```python\n{CODE}```\n"

class TimedSandbox(SandboxService):
    """The real sandbox service, noting when each run's result came back (by user id)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.returned_at: dict[str, float] = {}

    async def run(self, user_id: str, code: str, language: str):  # type: ignore[no-untyped-def]
        result = await super().run(user_id, code, language)
        self.returned_at[user_id] = time.perf_counter()
        return result

class TimedSurface(MemorySurface):
    """Records when each answer's final edit and its test-result edit happened."""

    def __init__(self) -> None:
        super().__init__(platform="bench")
        self.final_at: dict[str, float] = {}
        self.tests_at: dict[str, float] = {}

    async def edit(self, ref: MessageRef, message: Message) -> None:
        await super().edit(ref, message)
        now = time.perf_counter()
        if message.tone != Tone.PROGRESS and ref.message_id not in self.final_at:
            self.final_at[ref.message_id] = now
        if "tests " in (message.footer or ""):
            self.tests_at[ref.message_id] = now

async def arena_round(arena: Arena, answers: int) -> tuple[float, int, list[float]]:
    """(seconds from the last final edit to the last test footer, footers showing 10/10, and per
    answer the seconds from its sandbox result to its footer edit)."""
    surface = TimedSurface()
    event = TaskRequested(platform="bench", user=User("U1", "bench"), channel="C1", text=TASK)
    outcome = await arena.request_task(event, surface)
    assert outcome is not None and len(outcome.answers) == answers
    await arena.join()  # the answers, then their test runs (jobs of this process)
    assert len(surface.tests_at) == answers, f"{len(surface.tests_at)} of {answers} footers show a result"
    passing = sum("tests 10/10 passed" in (m.footer or "") for m in surface.messages.values())
    sandbox = arena.sandbox
    found = await arena.store.run(tasks.task_with_answers, outcome.task.id or 0)  # now with message ids
    assert found is not None
    after = [surface.tests_at[a.message_id or ""] - sandbox.returned_at[f"autorun:{a.id}"] for a in found[1]]
    return max(surface.tests_at.values()) - max(surface.final_at.values()), passing, after

async def sandbox_round(service: SandboxService, answers: int) -> float:
    """Seconds to run the same test programs straight through the sandbox, all at once."""
    tests = split_tests(TASK).tests
    programs = [harness.build(CODE, "python", tests) for _ in range(answers)]
    started = time.perf_counter()
    results = await asyncio.gather(*(service.run(f"bench{i}", p.code, p.language) for i, p in enumerate(programs)))
    elapsed = time.perf_counter() - started
    assert all(r.exit_code == 0 for r in results), [r for r in results if r.exit_code != 0][:1]
    return elapsed

async def main(answers: int, rounds: int) -> None:
    cap = os.environ.get("SANDBOX_CONCURRENCY")
    service = TimedSandbox(global_cap=int(cap) if cap and cap.isdigit() else None)
    with tempfile.TemporaryDirectory() as home:
        store = Store(f"sqlite:///{home}/bench.db")
        store.upgrade()
        async with FakeOpenAI() as fake:
            for i in range(answers):
                fake.script(f"m{i}", text=ANSWER, chunk_delay=0.002)
            roster = Roster([Contestant(id=f"m{i}", name=f"Model {i}", base_url=fake.base_url, model=f"m{i}")
                             for i in range(answers)])
            client = ChatClient()
            arena = Arena(store, roster, client, Settings(database_url=store.url, edit_interval=0.2),
                          sandbox=service)
            await sandbox_round(service, answers)  # warm up: page cache, first bwrap start
            rows = []
            after: list[float] = []
            for _ in range(rounds):
                own = await sandbox_round(service, answers)
                through, passing, result_to_footer = await arena_round(arena, answers)
                rows.append((own, through, passing))
                after += result_to_footer
                print(f"sandbox alone {own * 1000:7.0f} ms   last answer -> last test footer "
                      f"{through * 1000:7.0f} ms   overhead {(through - own) * 1000 / answers:+6.1f} ms/answer   "
                      f"footers at 10/10: {passing}/{answers}")
            await client.aclose()
            await service.drain()
        store.dispose()
    own = statistics.median(r[0] for r in rows)
    through = statistics.median(r[1] for r in rows)
    worst = max(r[1] - r[0] for r in rows)
    target = own + 0.1 * answers
    print(f"\n{answers} answers x {ASSERTS.count('assert')} assertions, sandbox cap {service.global_cap}, "
          f"{rounds} rounds (medians):")
    print(f"  sandbox's own time      {own * 1000:7.0f} ms")
    print(f"  last answer -> footer   {through * 1000:7.0f} ms   (target <= {target * 1000:.0f} ms: "
          f"{'met' if through <= target else 'MISSED'})")
    print(f"  overhead per answer     {(through - own) * 1000 / answers:+7.1f} ms  (worst round "
          f"{worst * 1000 / answers:+.1f} ms; target <= +100 ms)")
    after.sort()
    print(f"  sandbox result -> footer edit, per answer: median {statistics.median(after) * 1000:.1f} ms, "
          f"p90 {after[int(0.9 * (len(after) - 1))] * 1000:.1f} ms, max {after[-1] * 1000:.1f} ms "
          f"({len(after)} runs)")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    run_async(main(args.answers, args.rounds))
