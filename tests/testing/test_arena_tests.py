"""Tests on a task, through the arena: the fake provider's answers run in the real bwrap sandbox
against the task's tests, and each answer's footer shows what happened."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory import MemorySurface
from bot.arena import Arena
from bot.blind import reveal
from bot.events import AutorunChanged, RunRequested, User
from bot.messages import Message
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from storage import leaderboard as lb_store
from storage import testresults
from storage.db import Store
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI
from tests.testing.conftest import ASKER, Ask, answers_final, final

IS_EVEN = "Here you go:\n\n```python\ndef is_even(n):\n    return n % 2 == 0\n```\n"
TWO_ASSERTS = "write is_even(n)\n\n```python test\nassert is_even(4)\nassert is_even(3)\n```"


async def test_a_passing_and_a_failing_assertion_give_1_of_2(ask: Ask, sqlite_store: Store) -> None:
    outcome, surface = await ask(TWO_ASSERTS, {"m1": IS_EVEN})

    [answer] = outcome.answers
    shown = final(surface, answer)
    assert "❌ tests 1/2 passed" in (shown.footer or "")
    assert "⏱" in (shown.footer or ""), "the answer's own footer is kept"
    row = testresults.get_result(sqlite_store, answer.id)
    assert row is not None and (row.status, row.passed, row.failed, row.errors, row.total) == ("failed", 1, 1, 0, 2)
    assert row.duration_ms and row.duration_ms > 0 and row.shown_at is not None
    [failure] = [c for c in row.report["cases"] if c["outcome"] == "fail"]
    assert failure["name"] == "line 2: assert is_even(3)"


async def test_the_header_shows_the_tests(ask: Ask) -> None:
    outcome, surface = await ask(TWO_ASSERTS, {"m1": IS_EVEN})

    header = surface.posts()[0].message
    assert "write is_even(n)" in header.text
    assert "Tests* (hidden from the models" in header.text and "`test_task.py` · python · 2 checks" in header.text
    assert "assert is_even(3)" in header.text
    assert outcome.task.text == "write is_even(n)"


async def test_a_unittest_block_counts_its_cases(ask: Ask) -> None:
    tests = (
        "```python\n# test\nimport unittest\n\nclass TestAdd(unittest.TestCase):\n"
        "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n"
        "    def test_negative(self):\n        self.assertEqual(add(-1, -1), -2)\n"
        "    def test_wrong(self):\n        self.assertEqual(add(2, 2), 5)\n```"
    )
    outcome, surface = await ask(f"write add(a, b)\n\n{tests}", {"m1": "```python\ndef add(a, b):\n    return a + b\n```"})

    shown = final(surface, outcome.answers[0])
    assert "tests 2/3 passed" in (shown.footer or "")


async def test_each_way_of_not_passing_has_its_own_result(ask: Ask) -> None:
    answers = {
        "prose": "Just check whether n % 2 is 0.",
        "syntax": "```python\ndef is_even(n)\n    return n % 2 == 0\n```",
        "loop": "```python\ndef is_even(n):\n    return n % 2 == 0\n\nwhile True:\n    pass\n```",
        "wiper": "```python\nimport glob, os\n\nfor name in glob.glob('test_*.py'):\n    os.remove(name)\n\n"
                 "def is_even(n):\n    return True\n```",
    }
    outcome, surface = await ask(TWO_ASSERTS, answers)

    footers = {a.contestant_id: final(surface, a).footer or "" for a in outcome.answers}
    assert "tests: did not run (no code)" in footers["prose"]
    assert "tests: did not run (syntax error in the code, line 1: expected ':'" in footers["syntax"]
    assert "⏱ tests: timed out" in footers["loop"]
    assert "🚫 tests: not counted (the code deleted test_task.py)" in footers["wiper"]


async def test_tests_do_not_reach_the_models_without_show_tests(ask: Ask, fake_openai: FakeOpenAI) -> None:
    await ask(TWO_ASSERTS, {"hidden": IS_EVEN})
    await ask('--show-tests --test "is_even(10)" ' + TWO_ASSERTS, {"shown": IS_EVEN})

    [hidden] = fake_openai.requests_for("hidden")
    prompt = "\n".join(m["content"] for m in hidden.json["messages"])
    assert "write is_even(n)" in prompt and "assert" not in prompt and "is_even(3)" not in prompt
    [shown] = fake_openai.requests_for("shown")
    user = shown.json["messages"][-1]["content"]
    assert "Make these tests pass" in user and "assert is_even(3)" in user and "assert is_even(10)" in user


async def test_a_test_flag_and_an_attached_test_file(ask: Ask, sqlite_store: Store) -> None:
    from bot.events import AttachedFile

    test_file = AttachedFile("test_parity.py", b"from parity import is_even\n\ndef test_zero():\n    assert is_even(0)\n")
    outcome, surface = await ask('--test "is_even(4) and not is_even(3)" write is_even(n)', {"m1": IS_EVEN},
                                 files=(test_file,))

    assert [t["name"] for t in outcome.task.tests or []] == ["test_task.py", "test_parity.py"]
    assert "tests 2/2 passed" in (final(surface, outcome.answers[0]).footer or "")


async def test_the_run_button_shows_the_failures_in_the_thread(
        ask: Ask, make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI,
        tests_backend: LocalBackend) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=SandboxService(tests_backend))
    outcome, surface = await ask(TWO_ASSERTS, {"m1": IS_EVEN}, arena=arena)
    [answer] = outcome.answers

    await arena.handle(RunRequested(platform="memory", user=User("U2", "bob"), answer_id=answer.id or 0), surface)
    await arena.join()

    [report] = [m for m in surface.messages.values() if (m.title or "").startswith("▶ Run")]
    assert "the task's tests" in (report.title or "")
    assert "tests 1/2 passed" in report.text
    assert "Failures:" in report.text and "line 2: assert is_even(3)" in report.text


async def test_runs_queue_behind_the_sandbox_cap_and_never_delay_the_answers(
        make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI,
        tests_backend: LocalBackend, ask: Ask) -> None:
    service = SandboxService(tests_backend, global_cap=1)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1"), contestant(fake_openai, "m2")], sandbox=service)
    fake_openai.script("m1", text=IS_EVEN)
    fake_openai.script("m2", text=IS_EVEN)
    surface = MemorySurface()
    from bot.events import TaskRequested

    async with service._slots:  # the sandbox is at its cap (someone else's run holds the only slot)
        outcome = await arena.request_task(TaskRequested(platform="memory", user=ASKER, channel="C1", text=TWO_ASSERTS),
                                           surface)
        assert outcome is not None
        outcome.answers = await answers_final(arena, outcome.task.id or 0)
        assert all(a.status == "done" for a in outcome.answers)
        for answer in outcome.answers:  # every answer is final, with its footer, while its tests wait
            footer = final(surface, answer).footer or ""
            assert "⏱" in footer and "tests" not in footer
            assert testresults.get_result(sqlite_store, answer.id) is None
    await arena.join()
    assert all("tests 1/2 passed" in (final(surface, a).footer or "") for a in outcome.answers)


async def test_running_again_does_nothing_and_an_unshown_result_is_shown_on_resume(
        ask: Ask, make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI,
        tests_backend: LocalBackend) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=SandboxService(tests_backend))
    outcome, surface = await ask(TWO_ASSERTS, {"m1": IS_EVEN}, arena=arena)
    [answer] = outcome.answers
    stored = testresults.get_result(sqlite_store, answer.id)
    calls = len(surface.calls)

    assert await arena.tests.run_answer(answer.id or 0) is None
    assert len(surface.calls) == calls, "no second run, no second edit"
    again = testresults.get_result(sqlite_store, answer.id)
    assert (again.id, again.created_at, again.shown_at) == (stored.id, stored.created_at, stored.shown_at)

    # a crash after storing the result and before the edit: the next start only edits the footer
    with sqlite_store.session() as session:
        row = session.get(type(stored), stored.id)
        row.shown_at = None
    surface.messages[next(r for r in surface.messages if r.message_id == answer.message_id)] = Message(text="stale")
    assert await arena.tests.resume() == 1
    await arena.join()
    assert "tests 1/2 passed" in (final(surface, answer).footer or "")
    assert testresults.get_result(sqlite_store, answer.id).created_at == stored.created_at, "not run again"


async def test_runs_cut_short_by_a_shutdown_are_resumed(
        make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI,
        tests_backend: LocalBackend) -> None:
    from bot.events import TaskRequested

    service = SandboxService(tests_backend, global_cap=1)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=service)
    fake_openai.script("m1", text=IS_EVEN)
    surface = MemorySurface()
    async with service._slots:
        outcome = await arena.request_task(TaskRequested(platform="memory", user=ASKER, channel="C1", text=TWO_ASSERTS),
                                           surface)
        assert outcome is not None
        outcome.answers = await answers_final(arena, outcome.task.id or 0)
        await arena.queue.shutdown(0)  # shutdown: the queued run is cancelled
    assert outcome is not None and testresults.get_result(sqlite_store, outcome.answers[0].id) is None

    restarted = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=SandboxService(tests_backend))
    assert (restarted.services.surfaces.add(surface), await restarted.tests.resume())[1] == 1
    await restarted.join()
    assert "tests 1/2 passed" in (final(surface, outcome.answers[0]).footer or "")


async def test_smoke_runs_are_off_by_default_and_per_channel(
        ask: Ask, make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI,
        tests_backend: LocalBackend) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "ok"), contestant(fake_openai, "bad")],
                       sandbox=SandboxService(tests_backend))
    answers = {"ok": "```python\nprint('fine')\n```", "bad": "```python\nraise SystemExit(3)\n```"}
    before, surface = await ask("print something", answers, arena=arena)
    assert all("ran" not in (final(surface, a).footer or "") for a in before.answers)
    assert all(testresults.get_result(sqlite_store, a.id) is None for a in before.answers)

    notes: list[Message] = []

    async def notify(message: Message) -> None:
        notes.append(message)

    await arena.handle(AutorunChanged(platform="memory", user=User(ASKER.id, admin=True), channel="C1", enabled=True, notify=notify),
                       surface)
    await arena.join()
    assert lb_store.autorun_enabled(sqlite_store, "memory", "C1") and "Smoke runs are on" in notes[0].text
    after, surface = await ask("print something", answers, arena=arena)
    footers = {a.contestant_id: final(surface, a).footer or "" for a in after.answers}
    assert "✅ ran cleanly in" in footers["ok"]
    assert "❌ run: exited with code 3" in footers["bad"]


async def test_javascript_tests_run_with_node_test(ask: Ask) -> None:
    answer = "```js\nfunction isEven(n) {\n  return n % 2 === 0;\n}\n```"
    plain = "write isEven\n\n```js test\nassert.ok(isEven(4));\nassert.strictEqual(isEven(3), true);\n```"
    node_test = ("write isEven\n\n```js test\nconst test = require('node:test');\nconst assert = require('node:assert');\n"
                 "test('four', () => assert.ok(isEven(4)));\ntest('three', () => assert.ok(!isEven(3)));\n"
                 "test('two', () => assert.ok(isEven(2)));\n```")
    first, surface = await ask(plain, {"js1": answer})
    assert "tests 1/2 passed" in (final(surface, first.answers[0]).footer or "")
    second, surface = await ask(node_test, {"js2": answer})
    assert "✅ tests 3/3 passed" in (final(surface, second.answers[0]).footer or "")


async def test_code_in_another_language_than_the_tests(ask: Ask) -> None:
    outcome, surface = await ask(TWO_ASSERTS, {"m1": "```js\nconst isEven = (n) => n % 2 === 0;\n```"})
    assert "tests: did not run (the code is javascript; the tests are python)" in (
        final(surface, outcome.answers[0]).footer or "")


async def test_the_tests_line_survives_a_blind_reveal(ask: Ask, sqlite_store: Store) -> None:
    lb_store.set_blind(sqlite_store, "memory", "C1", True)
    outcome, surface = await ask(TWO_ASSERTS, {"m1": IS_EVEN})
    [answer] = outcome.answers
    assert (final(surface, answer).title or "").startswith("Answer ")

    assert await reveal(sqlite_store, surface, outcome.task.id or 0)
    shown = final(surface, answer)
    assert "M1" in (shown.title or "") and "tests 1/2 passed" in (shown.footer or "")


async def test_bad_test_flags_are_refused_with_how_to_write_them(ask: Ask, make_arena: Callable[..., Arena],
                                                                   sqlite_store: Store, fake_openai: FakeOpenAI) -> None:
    from bot.events import TaskRequested

    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")])
    notes: list[Message] = []

    async def notify(message: Message) -> None:
        notes.append(message)

    for text in ("--test is_even(4) write is_even", '--test "assert is_even(4)"', "--show-tests write is_even"):
        assert await arena.request_task(TaskRequested(platform="memory", user=ASKER, channel="C1", text=text,
                                                      notify=notify), MemorySurface()) is None
    assert "--test needs its test in quotes" in notes[0].text
    assert "only tests: say what to build" in notes[1].text
    assert "--show-tests needs tests" in notes[2].text
    assert fake_openai.requests == []


async def test_without_a_sandbox_the_footer_says_so_and_nothing_is_stored(
        make_arena: Callable[..., Arena], sqlite_store: Store, fake_openai: FakeOpenAI) -> None:
    from bot.events import TaskRequested

    fake_openai.script("m1", text=IS_EVEN)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "m1")], sandbox=None)
    surface = MemorySurface()
    outcome = await arena.ask(TaskRequested(platform="memory", user=ASKER, channel="C1", text=TWO_ASSERTS), surface)
    await arena.join()
    assert outcome is not None
    footer = final(surface, outcome.answers[0]).footer or ""
    assert "tests: did not run (running code is switched off on this bot)" in footer
    assert testresults.get_result(sqlite_store, outcome.answers[0].id) is None
