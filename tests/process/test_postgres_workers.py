"""Web and worker processes on PostgreSQL (a fresh schema per test): kill -9 the worker that holds
a job mid-stream and another worker finishes the answer in the same message (procrastinate's
stalled-job detection); SIGTERM a worker and it hands its jobs back and exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator

import psutil
import pytest

from tests.conftest import PostgresSchemas
from tests.process.conftest import CHANNEL, Proc, Processes, finished


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


async def test_the_workspace_limit_holds_across_worker_processes(pg_processes: Processes) -> None:
    """At most one task at a time (CODEGEN_WORKSPACE_CONCURRENT_TASKS=1) with a web process and two
    workers: the tasks run one after the other in the order asked, each header said how many were ahead."""
    p = pg_processes
    p.env["CODEGEN_WORKSPACE_CONCURRENT_TASKS"] = "1"
    web, _ = await web_and_workers(p, 2)
    for text in ("write task one", "write task two", "write task three"):
        assert await p.command(web, text) == 200
    messages = await p.all_final(expected=6, timeout=120)
    assert all(finished(m) for m in messages)
    headers = {n: next(m for m in p.slack.channel_messages(CHANNEL) if m.thread_ts is None
                       and f"Codegen task #{n}" in m.all_text()) for n in (1, 2, 3)}
    # The web process stores concurrent requests in whichever order it gets to them: the queue's
    # order is the stored one (the task numbers).
    texts = {n: next(t for t in ("one", "two", "three") if f"write task {t}" in h.all_text()) for n, h in headers.items()}
    asked = [r.json["messages"][1]["content"] for r in p.models.requests if isinstance(r.json, dict)]
    assert asked == [f"write task {texts[n]}" for n in (1, 1, 2, 2, 3, 3)]
    shown = {n: " ".join([json.dumps(h.history, ensure_ascii=False), h.all_text()]) for n, h in headers.items()}
    assert "queued" not in shown[1]
    assert "queued, next to start" in shown[2]
    assert "queued, 1 ahead of you" in shown[3] and "queued, next to start" in shown[3]
    assert all("queued" not in h.all_text() for h in headers.values())  # each header lost the line when it started
