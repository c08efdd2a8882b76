"""Follow-ups in a task's thread (issue 11): each model continues its own conversation.

Through the in-memory surface and the fake provider, whose request log shows what each model was sent.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.memory import MemorySurface
from bot.arena import Arena, TaskOutcome
from bot.events import ReactionChanged, RetryRequested, RevealRequested, TaskRequested, User
from bot.export import export
from bot.leaderboard import build_leaderboard
from bot.messages import ActionKind, Message
from bot.ranking.ballots import RatingRows, compare
from storage import tasks as db
from storage.leaderboard import set_blind
from storage.models import AnswerStatus, TaskStatus
from storage.ratings import ranking_rows
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI

ADA = User("U1", "ada")
BOB = User("U2", "bob")


def event(text: str, notes: list[Message] | None = None, *, user: User = ADA, **extra: Any) -> TaskRequested:
    async def notify(message: Message) -> None:
        if notes is not None:
            notes.append(message)

    return TaskRequested(platform="memory", user=user, channel="C1", text=text, notify=notify, **extra)


def in_thread(first: TaskOutcome, text: str, notes: list[Message] | None = None, **extra: Any) -> TaskRequested:
    """A request made in the first task's thread (as the adapters send a mention there)."""
    return event(text, notes, thread=first.task.thread, **extra)


def conversation(fake: FakeOpenAI, model: str) -> list[list[tuple[str, str]]]:
    """Each request ``model`` got, as (role, content) pairs after the system prompt."""
    return [[(m["role"], m["content"]) for m in r.json["messages"][1:]] for r in fake.requests_for(model)]


async def two_models(fake: FakeOpenAI, make_arena: Any, store: Any, settings: dict[str, Any] | None = None,
                     **overrides: Any) -> tuple[Arena, MemorySurface]:
    fake.script("alpha", text="alpha one")
    fake.script("beta", text="beta one")
    arena = make_arena(store, [contestant(fake, "alpha", **overrides), contestant(fake, "beta", **overrides)],
                       **(settings or {}))
    return arena, MemorySurface()


async def test_a_follow_up_continues_each_models_own_conversation(store, fake_openai, make_arena):
    """On SQLite and on PostgreSQL (where the turn number is taken under the task's row lock)."""
    arena, surface = await two_models(fake_openai, make_arena, store)
    first = await arena.ask(event("write a sum function"), surface)
    assert first is not None and first.task.thread
    fake_openai.script("alpha", text="alpha two")
    fake_openai.script("beta", text="beta two")

    second = await arena.ask(in_thread(first, "now make it async", user=BOB), surface)

    assert second is not None and second.task.turn == 2 and second.task.root_id == first.task.id
    assert conversation(fake_openai, "alpha")[-1] == [
        ("user", "write a sum function"), ("assistant", "alpha one"), ("user", "now make it async")]
    assert conversation(fake_openai, "beta")[-1] == [
        ("user", "write a sum function"), ("assistant", "beta one"), ("user", "now make it async")]
    # the same labels and positions, answers in the same thread, under a header naming the turn
    labels = {a.contestant_id: (a.label, a.position) for a in first.answers}
    assert {a.contestant_id: (a.label, a.position) for a in second.answers} == labels
    header = surface.posts(thread=first.task.thread)[-3]
    assert header.message.title == "↪ Follow-up #2 by bob"
    assert "now make it async" in header.message.text
    finals = [surface.messages[c.ref] for c in surface.posts(thread=first.task.thread)[-2:]]
    assert {m.text for m in finals} == {"alpha two", "beta two"}
    assert all("⏱" in (m.footer or "") for m in finals)
    assert db.get_task(store, second.task.id).status == TaskStatus.DONE

    fake_openai.script("alpha", text="alpha three")
    fake_openai.script("beta", text="beta three")
    third = await arena.ask(in_thread(first, "add tests"), surface)
    assert third is not None and third.task.turn == 3
    assert conversation(fake_openai, "beta")[-1] == [
        ("user", "write a sum function"), ("assistant", "beta one"), ("user", "now make it async"),
        ("assistant", "beta two"), ("user", "add tests")]


async def test_a_labelled_follow_up_reaches_only_that_model(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("parse a csv file"), surface)
    beta = next(a for a in first.answers if a.contestant_id == "beta")
    asked = len(fake_openai.requests)

    second = await arena.ask(in_thread(first, f"{beta.label}: handle quoted commas"), surface)

    assert second is not None and [a.contestant_id for a in second.answers] == ["beta"]
    assert [r.json["model"] for r in fake_openai.requests[asked:]] == ["beta"]
    assert conversation(fake_openai, "beta")[-1][-1] == ("user", "handle quoted commas")
    # alpha was not part of that turn: its next follow-up does not carry it
    fake_openai.script("alpha", text="alpha again")
    await arena.ask(in_thread(first, "thanks, now add docs"), surface)
    assert conversation(fake_openai, "alpha")[-1] == [
        ("user", "parse a csv file"), ("assistant", "alpha one"), ("user", "thanks, now add docs")]


async def test_an_unknown_label_is_refused_privately(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("parse a csv file"), surface)
    notes: list[Message] = []
    asked = len(fake_openai.requests)
    assert await arena.ask(in_thread(first, "z", notes, only="Z"), surface) is None
    assert "no answer 'Z'" in notes[0].text and "A, B" in notes[0].text
    assert len(fake_openai.requests) == asked


async def test_the_context_budget_drops_the_oldest_turn_and_says_so(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store, context_tokens=300)
    fake_openai.script("alpha", text="a" * 600)  # ~150 tokens
    first = await arena.ask(event("write a long answer"), surface)
    fake_openai.script("alpha", text="alpha two")

    second = await arena.ask(in_thread(first, "x" * 600), surface)  # task + answer + this > 300 tokens

    sent = conversation(fake_openai, "alpha")[-1]
    assert sent == [("user", "x" * 600)]
    alpha = next(a for a in db.task_answers(sqlite_store, second.task.id) if a.contestant_id == "alpha")
    assert alpha.context_dropped == 1
    message = next(surface.messages[c.ref] for c in surface.posts(thread=first.task.thread)
                   if c.ref.message_id == alpha.message_id)
    assert "oldest 1 turn left out" in (message.footer or "")


async def test_a_mention_in_another_thread_is_a_new_task(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    await arena.ask(event("first task"), surface)
    other = await arena.ask(event("a task elsewhere", thread="not-a-task-thread"), surface)
    assert other is not None and other.task.turn == 1 and other.task.root_id is None
    assert all(len(r.json["messages"]) == 2 for r in fake_openai.requests)


async def test_ratings_of_a_follow_up_form_their_own_ballots(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("write a sum function"), surface)
    second = await arena.ask(in_thread(first, "now async"), surface)

    async def rate(answer_id: int, emoji: str) -> None:
        answer, task = db.get_answer(sqlite_store, answer_id)
        await arena.handle(ReactionChanged(platform="memory", user=BOB, channel=answer.message_channel or task.channel,
                                           message_id=answer.message_id or "", emoji=emoji, added=True), surface)

    by_turn = {1: {a.contestant_id: a for a in first.answers}, 2: {a.contestant_id: a for a in second.answers}}
    await rate(by_turn[1]["alpha"].id, "+1")
    await rate(by_turn[1]["beta"].id, "-1")
    await rate(by_turn[2]["alpha"].id, "-1")
    await rate(by_turn[2]["beta"].id, "+1")

    until = datetime.now(UTC) + timedelta(minutes=1)
    rows = ranking_rows(sqlite_store, None, until)
    assert sorted({r.task_id for r in rows}) == [first.task.id, second.task.id]
    ballots = compare(RatingRows(task=[r.task_id for r in rows], rater=[r.rater_id for r in rows],
                                 scale=[r.scale for r in rows], model=[r.contestant_id for r in rows],
                                 value=[r.value for r in rows]))
    assert ballots.n_ballots == 2  # one (turn, rater, scale) each: alpha won turn 1, beta turn 2
    assert {r.task_id for r in ranking_rows(sqlite_store, None, until, followups=True)} == {second.task.id}
    board = build_leaderboard(sqlite_store, window="all", category="follow-ups")
    assert board.category_label == "Follow-ups"
    assert {row.model: row.ballots for row in board.rows} == {"alpha": 1, "beta": 1}


async def test_retry_of_a_follow_up_answer_resends_its_own_conversation(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("write a sum function"), surface)
    fake_openai.script("beta", status=500, error_message="upstream exploded")
    second = await arena.ask(in_thread(first, "now async"), surface)
    failed = next(a for a in second.answers if a.contestant_id == "beta")
    assert failed.status == AnswerStatus.ERROR
    message = next(surface.messages[c.ref] for c in surface.posts(thread=first.task.thread)
                   if c.ref.message_id == failed.message_id)
    assert [a.kind for a in message.actions] == [ActionKind.RETRY]
    fake_openai.script("beta", text="beta async")

    await arena.handle(RetryRequested(platform="memory", user=ADA, answer_id=failed.id or 0), surface)
    await arena.join()

    assert conversation(fake_openai, "beta")[-1] == [
        ("user", "write a sum function"), ("assistant", "beta one"), ("user", "now async")]
    retried = next(a for a in db.task_answers(sqlite_store, second.task.id) if a.contestant_id == "beta")
    assert retried.status == AnswerStatus.DONE and retried.text == "beta async"


async def test_blind_labels_stay_across_turns_and_a_reveal_covers_every_turn(sqlite_store, fake_openai, make_arena):
    set_blind(sqlite_store, "memory", "C1", True)
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("write a sum function"), surface)
    set_blind(sqlite_store, "memory", "C1", False)  # the conversation keeps the mode it started in
    second = await arena.ask(in_thread(first, "now async"), surface)

    assert second.task.blind and not second.task.revealed
    assert {(a.contestant_id, a.label) for a in second.answers} == {(a.contestant_id, a.label) for a in first.answers}
    thread = surface.posts(thread=first.task.thread)
    titles = [surface.messages[c.ref].title for c in thread]
    assert sorted(t for t in titles if t and t.startswith("Answer")) == ["Answer A", "Answer A", "Answer B", "Answer B"]
    assert not any("ALPHA" in (t or "") or "BETA" in (t or "") for t in titles)

    await arena.handle(RevealRequested(platform="memory", user=ADA, task_id=first.task.id or 0), surface)
    await arena.join()

    assert db.get_task(sqlite_store, second.task.id).revealed
    for answer in db.task_answers(sqlite_store, second.task.id):
        shown = next(surface.messages[c.ref] for c in thread if c.ref.message_id == answer.message_id)
        assert shown.title == f"{answer.label} · {answer.contestant_name}"
    keys = [c for c in surface.posts(thread=first.task.thread) if "models behind" in (c.message.title or "")]
    assert len(keys) == 1  # one key: the labels are the same in every turn


async def test_export_names_each_rows_turn(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("write a sum function"), surface)
    await arena.ask(in_thread(first, "now async"), surface)
    out = io.StringIO()
    export(sqlite_store, "csv", None, out)
    turns = {(r["task_id"], r["task_turn"], r["task_root_id"]) for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert turns == {(str(first.task.id), "1", ""), (str(first.task.id + 1), "2", str(first.task.id))}


async def test_a_follow_up_cut_off_by_a_crash_is_resumed_with_its_conversation(sqlite_store, fake_openai, make_arena):
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store, {"save_interval": 0.05})
    first = await arena.ask(event("write a sum function"), surface)
    fake_openai.script("alpha", endless=True, chunk_delay=0.02)
    fake_openai.script("beta", endless=True, chunk_delay=0.02)
    running = asyncio.create_task(arena.ask(in_thread(first, "now async"), surface))
    for _ in range(250):
        unfinished = db.unfinished_tasks(sqlite_store)
        if unfinished and all(a.text for a in db.task_answers(sqlite_store, unfinished[0].id)):
            break
        await asyncio.sleep(0.02)
    running.cancel()
    await arena.queue.shutdown(0)  # the process "dies" mid-stream
    await asyncio.gather(running, return_exceptions=True)
    [cut] = db.unfinished_tasks(sqlite_store)
    assert cut.turn == 2
    fake_openai.script("alpha", text="alpha async")
    fake_openai.script("beta", text="beta async")

    restarted = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])
    restarted.services.surfaces.add(surface)
    assert await restarted.resume() == 1
    await restarted.join()

    assert {a.text for a in db.task_answers(sqlite_store, cut.id)} == {"alpha async", "beta async"}
    assert conversation(fake_openai, "alpha")[-1] == [
        ("user", "write a sum function"), ("assistant", "alpha one"), ("user", "now async")]
    headers = [c for c in surface.posts(thread=first.task.thread) if (c.message.title or "").startswith("↪")]
    assert len(headers) == 1  # the follow-up's header was not posted again


async def test_only_the_tasks_asker_reveals_a_blind_conversation_early(sqlite_store, fake_openai, make_arena):
    set_blind(sqlite_store, "memory", "C1", True)
    arena, surface = await two_models(fake_openai, make_arena, sqlite_store)
    first = await arena.ask(event("write a sum function"), surface)
    second = await arena.ask(in_thread(first, "now async", user=BOB), surface)
    notes: list[Message] = []

    async def notify(message: Message) -> None:
        notes.append(message)

    await arena.handle(RevealRequested(platform="memory", user=BOB, task_id=second.task.id or 0, notify=notify),
                       surface)
    await arena.join()
    assert f"Only the person who asked can reveal task #{first.task.id} early" in notes[0].text
    assert not db.get_task(sqlite_store, first.task.id).revealed

    await arena.handle(RevealRequested(platform="memory", user=ADA, task_id=second.task.id or 0), surface)
    await arena.join()
    assert db.get_task(sqlite_store, first.task.id).revealed and db.get_task(sqlite_store, second.task.id).revealed
