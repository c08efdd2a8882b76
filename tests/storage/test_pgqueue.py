"""The PostgreSQL job queue (procrastinate): what a deferral leaves in the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.jobs import AnswerJob, StartTask
from storage.pgqueue import ProcrastinateQueue
from tests.conftest import PostgresSchemas


@pytest.fixture
async def queue(postgres_url: str) -> AsyncIterator[ProcrastinateQueue]:
    schemas = PostgresSchemas(postgres_url)
    store = schemas.store()
    made = ProcrastinateQueue(store)
    yield made
    await made.close()
    store.dispose()
    schemas.drop_all()


async def waiting(queue: ProcrastinateQueue) -> list[tuple[str, dict[str, object]]]:
    rows = await queue.app.connector.execute_query_all_async(
        "SELECT task_name, args FROM procrastinate_jobs WHERE status = 'todo' ORDER BY id")
    return [(row["task_name"], row["args"]) for row in rows]


async def test_several_jobs_are_queued_once_each_even_when_one_is_already_waiting(queue: ProcrastinateQueue) -> None:
    await queue.defer([StartTask(1), AnswerJob(7)])
    await queue.defer([StartTask(1), StartTask(2), AnswerJob(8)])  # StartTask(1) waits already

    assert await waiting(queue) == [
        ("start_task", {"task_id": 1}), ("answer", {"answer_id": 7}),
        ("start_task", {"task_id": 2}), ("answer", {"answer_id": 8}),
    ]
    depth, _age = await queue.depth()
    assert depth == 4


async def test_retention_runs_as_a_daily_periodic_task(postgres_url: str) -> None:
    """One periodic task a day (procrastinate defers it once, whichever worker), calling what the
    composition root gave (bot.retention.expire_old); its failure is retried like any job."""
    schemas = PostgresSchemas(postgres_url)
    store = schemas.store()
    calls: list[str] = []

    async def daily() -> None:
        calls.append("expire")

    made = ProcrastinateQueue(store, daily=daily)
    try:
        [periodic] = [p for p in made.app.periodic_registry.periodic_tasks.values() if p.periodic_id == "daily"]
        assert periodic.cron == "17 3 * * *" and periodic.task.name == "daily"
        await periodic.task.func(timestamp=0)
        assert calls == ["expire"]
    finally:
        store.dispose()
        schemas.drop_all()
