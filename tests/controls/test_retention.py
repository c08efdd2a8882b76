"""Retention (issue 12) on SQLite and PostgreSQL: expiring old tasks deletes their contents and
leaves the leaderboard exactly as it was; an interrupted run is finished by the next one."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.config import Settings
from bot.leaderboard import build_leaderboard, render_table
from bot.retention import expire_old
from storage import retention
from storage.db import Store
from storage.models import Answer, AnswerStatus, Rating, Run, Task, TestResult
from storage.ratings import find_answer, upsert_rating
from storage.tasks import create_task, finish_answer, record_run
from tests.controls.fixture import NOW

MODELS = ("alpha", "beta", "gamma")
RATERS = ("U0ANN", "U0BOB", "U0CAT")
BOARD_AT = datetime.now(UTC) + timedelta(hours=1)


def rated_tasks(store: Store) -> None:
    """30 tasks over 200 days (about half older than 90 days), each answered by the three models
    with texts of different lengths, rated by two or three people on 👍/👎 or stars; runs and test
    results on some. People rate both old and new tasks, so a rater spans the expiry boundary."""
    rng = random.Random(12)
    for i in range(30):
        created = NOW - timedelta(days=200 - i * 7)
        task = Task(platform="slack", channel="C1", requester_id=RATERS[i % 3], requester_name="someone",
                    text=f"task {i}: write a parser", created_at=created, kind="scripting", language="python",
                    reply_to="https://hooks.example/r", tests=[{"name": "t", "language": "python", "source": "x"}],
                    files=[{"name": "app.py", "text": "secret = 1"}])
        answers = [Answer(task_id=0, contestant_id=m, contestant_name=m.upper(), position=p, label="ABC"[p],
                          status=AnswerStatus.STREAMING, message_channel="C1", message_id=f"{i}.{p}",
                          created_at=created) for p, m in enumerate(rng.sample(MODELS, 3))]
        task, answers = create_task(store, task, answers)
        for answer in answers:
            length = {"alpha": 400, "beta": 900, "gamma": 150}[answer.contestant_id] + rng.randrange(100)
            finish_answer(store, answer.id or 0, task.id or 0, {
                "status": AnswerStatus.DONE, "text": "x" * length, "code": "print(1)", "language": "python",
                "latency_ms": 100.0 + rng.randrange(900), "ttft_ms": 50.0, "cost_usd": 0.001 * (1 + answer.position),
                "finished_at": created})
            quality = {"alpha": 0.8, "beta": 0.6, "gamma": 0.3}[answer.contestant_id]
            for rater in RATERS[: 2 + i % 2]:
                stars = i % 2 == 0
                value = max(1, min(5, round(quality * 5 + rng.uniform(-1.5, 1.5)))) if stars else int(rng.random() < quality)
                upsert_rating(store, answer.id or 0, rater, "stars" if stars else "thumbs", value, "e",
                              int(created.timestamp() * 1e6))
            if i % 4 == 0:
                record_run(store, Run(answer_id=answer.id or 0, requester_id=RATERS[0], language="python",
                                      exit_code=0 if quality > 0.5 else 1, stdout="secret output", created_at=created))
                with store.session() as session:
                    session.add(TestResult(answer_id=answer.id or 0, status="passed" if quality > 0.5 else "failed",
                                           passed=2 if quality > 0.5 else 1, failed=0 if quality > 0.5 else 1, total=2,
                                           report={"failures": ["assert f(1) == 2"]}, created_at=created))


def standings(store: Store) -> list[object]:
    """Everything the leaderboard shows, all time and over two windows, as of an hour from now
    (the ratings were given now, whatever their tasks' dates)."""
    out: list[object] = []
    for window in ("all", "28d", "365d"):
        board = build_leaderboard(store, window=window, now=BOARD_AT, bootstrap=200)
        out += [board.to_dict(), render_table(board)]
    return out


def settings(days: int = 90) -> Settings:
    return Settings(database_url="", retention_days=days)


def test_expiry_deletes_old_contents_and_the_leaderboard_is_unchanged(store: Store) -> None:
    rated_tasks(store)
    before = standings(store)
    assert "alpha" in str(before[0]) and "needs" not in before[1]  # a real ranking, not provisional rows

    cutoff = NOW - timedelta(days=90)
    assert retention.expire(store, cutoff, batch=4) == 4  # a run cut short after one batch …
    assert standings(store) == before
    expired = asyncio.run(expire_old(store, settings(), now=NOW))  # … is finished by the next
    assert asyncio.run(expire_old(store, settings(), now=NOW)) == 0  # and then there is nothing left
    assert standings(store) == before

    with store.session() as session:
        tasks = list(session.exec(select(Task)))
        old = [t for t in tasks if t.created_at.replace(tzinfo=NOW.tzinfo) < cutoff]
        assert expired + 4 == len(old) and 0 < len(old) < len(tasks)
        old_ids = {t.id for t in old}
        for task in tasks:
            gone = task.id in old_ids
            assert (task.text == "", task.tests is None, task.files is None, task.reply_to is None,
                    task.expired_at is not None) == (gone, gone, gone, gone, gone)
            assert task.requester_id.startswith(retention.PREFIX) == gone
            assert task.kind == "scripting"  # what the category boards need stays
        for answer in session.exec(select(Answer)):
            gone = answer.task_id in old_ids
            assert (answer.text == "", answer.code is None, answer.chars is not None) == (gone, gone, gone)
            assert answer.cost_usd is not None and answer.latency_ms is not None
        old_answers = {a.id for a in session.exec(select(Answer)) if a.task_id in old_ids}
        for rating in session.exec(select(Rating)):
            assert rating.rater_id.startswith(retention.PREFIX) == (rating.answer_id in old_answers)
        assert {r.rater_id for r in session.exec(select(Rating)) if r.answer_id in old_answers} == {
            retention.pseudonymiser(store)(r) for r in RATERS}
        for run in session.exec(select(Run)):
            assert (run.stdout == "") == (run.answer_id in old_answers)
        for result in session.exec(select(TestResult)):
            assert (result.report is None) == (result.answer_id in old_answers)
    assert find_answer(store, "slack", "C1", "0.0") is None  # a late reaction on an expired answer is ignored
    assert find_answer(store, "slack", "C1", "29.0") is not None


def test_retention_zero_keeps_everything(store: Store) -> None:
    rated_tasks(store)
    assert asyncio.run(expire_old(store, settings(0), now=NOW)) == 0
    with store.session() as session:
        assert all(t.text for t in session.exec(select(Task)))


async def test_on_sqlite_the_serving_process_expires_old_tasks(sqlite_store: Store, make_arena: Any) -> None:
    """The in-process schedule (bot/background.py) runs retention when it starts (then daily)."""
    from adapters.memory import MemorySurface
    from bot.background import scheduled_jobs
    from tests.controls.fixture import add_task

    add_task(sqlite_store, "C1", [("alpha", AnswerStatus.DONE, 1, 1, None, None)], created=NOW - timedelta(days=100))
    add_task(sqlite_store, "C1", [("alpha", AnswerStatus.DONE, 1, 1, None, None)], created=datetime.now(UTC))
    arena = make_arena(sqlite_store, [])
    arena.services.surfaces.add(MemorySurface(platform="slack"))
    async with scheduled_jobs(arena, arena.settings):
        for _ in range(500):
            with sqlite_store.session() as session:
                texts = [t.text for t in session.exec(select(Task).order_by(Task.id))]  # type: ignore[arg-type]
            if texts == ["", "x"]:
                break
            await asyncio.sleep(0.01)
    assert texts == ["", "x"]
