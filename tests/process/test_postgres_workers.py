"""Web and worker processes on PostgreSQL (a fresh schema per test): kill -9 the worker that holds
a job mid-stream and another worker finishes the answer in the same message (procrastinate's
stalled-job detection); SIGTERM a worker and it hands its jobs back and exits 0."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import psutil
import pytest

from tests.conftest import PostgresSchemas
from tests.process.conftest import Proc, Processes, finished


@pytest.fixture
def pg_processes(processes: Processes, postgres_url: str) -> Iterator[Processes]:
    """The process harness on a fresh, migrated PostgreSQL schema."""
    schemas = PostgresSchemas(postgres_url)
    store = schemas.store()
    store.dispose()
    processes.env["DATABASE_URL"] = store.url
    try:
        yield processes
    finally:
        for proc in processes.started:  # every connection gone before the schema is dropped
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait(10)
        schemas.drop_all()


def streams_from(p: Processes, proc: Proc) -> bool:
    """Whether ``proc`` has a connection open to the fake provider (it is streaming an answer)."""
    return any(c.raddr and c.raddr.port == p.models.port
               for c in psutil.Process(proc.pid).net_connections(kind="tcp"))


async def web_and_workers(p: Processes, n: int) -> tuple[Proc, list[Proc]]:
    web = p.start("serve", "--adapter", "slack", "--no-worker", kind="web")
    await p.serving(web)
    workers = [p.start("worker", kind="worker") for _ in range(n)]
    await asyncio.sleep(0)
    return web, workers


async def test_kill_9_of_the_worker_holding_a_job_another_worker_finishes_it_in_the_same_message(
        pg_processes: Processes) -> None:
    p = pg_processes
    web, workers = await web_and_workers(p, 2)
    assert await p.command(web, "write a long program for me") == 200
    await p.streaming()
    holders = [w for w in workers if streams_from(p, w)]
    assert holders, "a worker streams the answers"
    for worker in holders:
        worker.kill()
    before = {(m.channel, m.ts) for m in p.answer_messages()}
    assert len(before) == 2
    if len(holders) == len(workers):  # both held one: a fresh worker takes over
        workers.append(p.start("worker", kind="worker"))
    messages = await p.all_final(expected=2, timeout=90)
    assert {(m.channel, m.ts) for m in messages} == before
    assert all(finished(m) for m in messages)


async def test_sigterm_on_a_worker_hands_its_jobs_back_and_exits_0(pg_processes: Processes) -> None:
    p = pg_processes
    p.env["CODEGEN_SHUTDOWN_GRACE"] = "1"  # shorter than the answers: they are handed back
    web, [first] = await web_and_workers(p, 1)
    assert await p.command(web, "write a long program for me") == 200
    await p.streaming()
    first.popen.send_signal(signal.SIGTERM)
    for _ in range(300):
        if first.popen.poll() is not None:
            break
        await asyncio.sleep(0.1)
    assert first.popen.returncode == 0, first.output()
    before = {(m.channel, m.ts) for m in p.answer_messages()}
    p.start("worker", kind="worker")
    messages = await p.all_final(expected=2, timeout=90)
    assert {(m.channel, m.ts) for m in messages} == before
    assert all(finished(m) for m in messages)
