"""A request that arrives while the database cannot take it gets a clear private answer, never silence."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from sqlmodel import select

from storage.models import Task
from tests.slack.conftest import Harness

HOLD_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the write lock until the test closes our stdin
db.rollback()
"""


async def until(condition: Callable[[], bool], timeout: float) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def tasks(h: Harness) -> list[Task]:
    with h.arena.store.session() as s:
        return list(s.exec(select(Task)))


async def test_a_command_while_another_process_write_locks_sqlite_gets_a_busy_error(harness: Harness) -> None:
    h = harness
    path = h.arena.store.url.split("///", 1)[1]
    holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLD_LOCK, path,
                                                  stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"locked"
        status, _ = await h.command("write a tokenizer")
        assert status == 200  # acked at once, as Slack requires
        # well before the 30 s a locked SQLite would otherwise make everyone wait
        await until(lambda: bool(h.slack.responses), timeout=15)
        [reply] = h.slack.responses
        assert reply["response_type"] == "ephemeral"
        assert "database is busy" in reply["text"] and "try again" in reply["text"].lower()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        await asyncio.wait_for(holder.wait(), 10)
    await h.settle()
    assert tasks(h) == [] and h.models.requests == []

    status, _ = await h.command("write a tokenizer")  # once the lock is gone, the same request works
    await h.settle()
    assert [t.text for t in tasks(h)] == ["write a tokenizer"] and len(h.models.requests) == 2
