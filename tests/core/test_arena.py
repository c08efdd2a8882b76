"""The comparison core through an in-memory surface and the fake provider."""

from __future__ import annotations

import asyncio
import random

from adapters.memory import MemorySurface
from bot.events import TaskRequested, User
from bot.messages import ActionKind, Message
from storage import tasks as db
from storage.models import AnswerStatus, TaskStatus
from tests.conftest import contestant

USER = User("U1", "ada")


def task_event(text: str, notes: list[Message] | None = None, **extra: object) -> TaskRequested:
    async def notify(message: Message) -> None:
        if notes is not None:
            notes.append(message)

    return TaskRequested(platform="memory", user=USER, channel="C1", text=text, notify=notify, **extra)


async def test_task_fans_out_to_every_contestant_in_a_thread(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="```python\nprint('alpha')\n```")
    fake_openai.script("beta", text="```python\nprint('beta')\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])
    surface = MemorySurface()

    outcome = await arena.ask(task_event("print a greeting"), surface)

    assert outcome is not None
    header = surface.posts()[0]
    assert header.ref.thread is None and "print a greeting" in header.message.text
    replies = surface.posts(thread=header.ref.message_id)
    assert len(replies) == 2
    finals = {surface.messages[r.ref].title: surface.messages[r.ref] for r in replies}
    assert {t.split(" · ")[1] for t in finals} == {"ALPHA", "BETA"}
    for message in finals.values():
        assert "print(" in message.text
        assert [a.kind for a in message.actions] == [ActionKind.RUN]
        assert "⏱" in (message.footer or "")
    stored = db.task_answers(sqlite_store, outcome.task.id)
    assert {a.status for a in stored} == {AnswerStatus.DONE}
    assert {a.code for a in stored} == {"print('alpha')", "print('beta')"}
    assert all(a.message_id for a in stored)
    assert db.get_task(sqlite_store, outcome.task.id).status == TaskStatus.DONE


async def test_fan_out_is_concurrent(sqlite_store, fake_openai, make_arena):
    names = [f"m{i}" for i in range(4)]
    for name in names:
        fake_openai.script(name, text="ok " * 5, first_token_delay=0.6)
    arena = make_arena(sqlite_store, [contestant(fake_openai, n) for n in names])
    loop = asyncio.get_running_loop()
    started = loop.time()
    await arena.ask(task_event("anything"), MemorySurface())
    # Four 0.6 s answers one after another would take 2.4 s.
    assert loop.time() - started < 1.8


async def test_one_failing_model_does_not_affect_the_others(sqlite_store, fake_openai, make_arena):
    fake_openai.script("good", text="fine answer")
    fake_openai.script("bad", status=401, error_message="Invalid API key provided")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "good"), contestant(fake_openai, "bad")])
    surface = MemorySurface()

    outcome = await arena.ask(task_event("x"), surface)

    by_model = {a.contestant_id: a for a in outcome.answers}
    assert by_model["good"].status == AnswerStatus.DONE
    assert by_model["bad"].status == AnswerStatus.ERROR
    assert "Invalid API key provided" in by_model["bad"].error
    bad_message = next(m for m in surface.messages.values() if m.title and "BAD" in m.title)
    assert "Invalid API key provided" in bad_message.text
    assert [a.kind for a in bad_message.actions] == [ActionKind.RETRY]


async def test_streaming_edits_are_throttled(sqlite_store, fake_openai, make_arena):
    fake_openai.script("slow", chunks=[f"w{i} " for i in range(30)], chunk_delay=0.05)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "slow")], edit_interval=0.5)
    surface = MemorySurface()

    await arena.ask(task_event("x"), surface)

    reply = surface.posts()[1]
    edits = surface.edits_of(reply.ref)
    # 30 chunks over ~1.5 s with a 0.5 s interval: a handful of progress edits plus the final one.
    assert 2 <= len(edits) <= 6
    assert "w29" in edits[-1].message.text and "▌" not in edits[-1].message.text


async def test_answer_order_is_randomised_and_recorded(sqlite_store, fake_openai, make_arena):
    names = ["a1", "a2", "a3", "a4", "a5"]
    arena = make_arena(sqlite_store, [contestant(fake_openai, n) for n in names])
    orders = set()
    for _ in range(6):
        outcome = await arena.ask(task_event("x"), MemorySurface())
        orders.add(tuple(a.contestant_id for a in sorted(outcome.answers, key=lambda a: a.position)))
        assert [a.label for a in sorted(outcome.answers, key=lambda a: a.position)] == list("ABCDE")
    assert len(orders) > 1


async def test_help_empty_and_too_long_tasks_get_a_private_reply(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], max_task_chars=50)
    surface = MemorySurface()
    notes: list[Message] = []

    assert await arena.ask(task_event("", notes), surface) is None
    assert await arena.ask(task_event("help", notes), surface) is None
    assert await arena.ask(task_event("x" * 51, notes), surface) is None

    assert surface.calls == []
    assert "Usage" in notes[0].text and "Usage" in notes[1].text
    assert "51 characters" in notes[2].text and "limit is 50" in notes[2].text


async def test_unknown_model_ids_are_named(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    notes: list[Message] = []
    await arena.ask(task_event("x", notes, models=("alpha", "nope")), MemorySurface())
    assert "nope" in notes[0].text and "alpha" in notes[0].text


async def test_missing_key_is_skipped_visibly(sqlite_store, fake_openai, make_arena):
    keyed = contestant(fake_openai, "keyed", api_key_env="ARENA_TEST_MISSING_KEY")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "free"), keyed])
    surface = MemorySurface()

    outcome = await arena.ask(task_event("x"), surface)

    assert [a.contestant_id for a in outcome.answers] == ["free"]
    header = surface.posts()[0].message
    assert "Skipped (set ARENA_TEST_MISSING_KEY): KEYED" in header.plain()


async def test_duplicate_delivery_starts_one_task(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    event = TaskRequested(platform="memory", user=USER, channel="C1", text="x", event_id="Ev1")
    await asyncio.gather(arena.handle(event, surface), arena.handle(event, surface))
    await arena.join()
    assert len([c for c in surface.posts() if c.ref.thread is None]) == 1


async def _kill_mid_stream(arena, surface, store):
    """Start a task and cancel everything once its partial text is on record (a process death)."""
    running = asyncio.create_task(arena.ask(task_event("x"), surface))

    def partial_text_saved() -> bool:
        unfinished = db.unfinished_tasks(store)
        return bool(unfinished) and bool(db.task_answers(store, unfinished[0].id)[0].text)

    for _ in range(250):
        if partial_text_saved():
            break
        await asyncio.sleep(0.02)
    running.cancel()
    await arena.queue.shutdown(0)  # the process "dies" mid-stream: every job is cut off
    await asyncio.gather(running, return_exceptions=True)
    [task] = db.unfinished_tasks(store)
    [answer] = db.task_answers(store, task.id)
    assert answer.status == AnswerStatus.STREAMING and answer.message_id
    assert answer.text.startswith("Here")  # the partial text is on record
    return task, answer


async def test_after_a_crash_the_next_start_finishes_the_answer_in_its_message(sqlite_store, fake_openai, make_arena):
    fake_openai.script("flaky", endless=True, chunk_delay=0.02)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "flaky")], save_interval=0.05)
    surface = MemorySurface()
    task, answer = await _kill_mid_stream(arena, surface, sqlite_store)
    posts_before = len(surface.posts())

    fake_openai.script("flaky", text="```python\nprint('second try')\n```")
    restarted = make_arena(sqlite_store, [contestant(fake_openai, "flaky")])
    restarted.services.surfaces.add(surface)
    assert await restarted.resume() == 1
    await restarted.join()

    [finished] = db.task_answers(sqlite_store, task.id)
    assert finished.status == AnswerStatus.DONE and "second try" in finished.text
    assert finished.message_id == answer.message_id  # the same message, not a new one
    assert len(surface.posts()) == posts_before
    shown = surface.messages[answer_ref(finished)]
    assert "second try" in shown.text and [a.kind for a in shown.actions] == [ActionKind.RUN]
    assert db.get_task(sqlite_store, task.id).status == TaskStatus.DONE


async def test_a_closed_platform_marks_what_a_crash_left_interrupted(sqlite_store, fake_openai, make_arena):
    fake_openai.script("stuck", endless=True, chunk_delay=0.02)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "stuck")], save_interval=0.05)
    surface = MemorySurface()
    task, _answer = await _kill_mid_stream(arena, surface, sqlite_store)

    restarted = make_arena(sqlite_store, [contestant(fake_openai, "stuck")])
    restarted.services.surfaces.add(surface)
    assert await restarted.resume(close=["memory"]) == 1

    [answer] = db.task_answers(sqlite_store, task.id)
    assert answer.status == AnswerStatus.INTERRUPTED
    assert db.get_task(sqlite_store, task.id).status == TaskStatus.INTERRUPTED


def answer_ref(answer):
    from bot.surface import MessageRef

    return MessageRef(answer.message_channel, answer.message_id, answer.message_channel)


async def test_retry_reruns_only_the_failed_answer(sqlite_store, fake_openai, make_arena):
    fake_openai.script("flaky", status=500, fail_times=10)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "flaky"), contestant(fake_openai, "steady")],
                       rng=random.Random(1))
    surface = MemorySurface()
    outcome = await arena.ask(task_event("x"), surface)
    failed = next(a for a in outcome.answers if a.contestant_id == "flaky")
    assert failed.status == AnswerStatus.ERROR
    fake_openai.script("flaky", text="recovered answer")
    requests_before = len(fake_openai.requests)

    from bot.events import RetryRequested

    await arena.handle(RetryRequested(platform="memory", user=USER, answer_id=failed.id), surface)
    await arena.join()

    assert len(fake_openai.requests) == requests_before + 1
    refreshed = {a.contestant_id: a for a in db.task_answers(sqlite_store, outcome.task.id)}
    assert refreshed["flaky"].status == AnswerStatus.DONE and refreshed["flaky"].text == "recovered answer"
    assert db.get_task(sqlite_store, outcome.task.id).status == TaskStatus.DONE


async def test_blind_mode_hides_model_names_until_revealed(sqlite_store, fake_openai, make_arena):
    from bot.events import BlindModeChanged

    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")],
                       admins=frozenset({USER.id}))
    surface = MemorySurface()
    notes: list[Message] = []

    async def note(message: Message) -> None:
        notes.append(message)

    await arena.handle(BlindModeChanged(platform="memory", user=USER, channel="C1", enabled=True, notify=note),
                       surface)
    outcome = await arena.ask(task_event("x"), surface)

    assert "Blind mode is on" in notes[0].text
    header = surface.posts()[0].message
    assert [a.kind for a in header.actions] == [ActionKind.REVEAL]
    titles = sorted(m.title for ref, m in surface.messages.items() if ref.thread)
    assert titles == ["Answer A", "Answer B"]
    assert "ALPHA" not in header.plain() and "BETA" not in header.plain()
    assert all(a.label in "AB" for a in outcome.answers)


async def test_a_task_asked_through_a_second_surface_mid_stream_does_not_strand_the_first(
        sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="first answer", first_token_delay=0.3)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    first, second = MemorySurface(), MemorySurface()
    asked = asyncio.ensure_future(arena.ask(task_event("one"), first))
    while len(first.posts()) < 2:  # the first task's header and placeholder are up
        await asyncio.sleep(0.01)

    outcomes = await asyncio.wait_for(asyncio.gather(asked, arena.ask(task_event("two"), second)), 10)

    assert all(a.status == AnswerStatus.DONE for o in outcomes for a in o.answers)
    finals = [m for m in first.messages.values() if m.title and "ALPHA" in m.title]
    assert len(finals) == 2 and all("first answer" in m.text for m in finals)  # the second task joined it
    assert not second.calls


async def test_an_event_from_another_platforms_surface_is_refused(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    try:
        await asyncio.wait_for(arena.ask(task_event("x"), MemorySurface(platform="other")), 10)
    except ValueError as exc:
        assert "memory event came with a other surface" in str(exc)
    else:
        raise AssertionError("a task whose jobs could find no surface was accepted")


class BrokenSurface(MemorySurface):
    async def post(self, where, message):  # type: ignore[no-untyped-def]
        raise RuntimeError("the surface is broken")


async def test_ask_returns_when_the_tasks_jobs_give_up(sqlite_store, fake_openai, make_arena, caplog):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    arena.queue.backoff = 0.01  # type: ignore[attr-defined]

    outcome = await asyncio.wait_for(arena.ask(task_event("x"), BrokenSurface()), 10)

    assert outcome is not None and outcome.task.status == TaskStatus.PENDING
    assert "its jobs ended without finishing it" in caplog.text
