"""A database that cannot take a write raises one typed error out of storage, and the user is told."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from adapters.memory import MemorySurface
from bot.events import TaskRequested, User
from bot.messages import Message
from storage import tasks as db
from storage.db import Store
from storage.errors import StorageUnavailable
from tests.conftest import contestant


def fill_up(store: Store) -> None:
    """Cap the SQLite file at its current size (what a full disk does), for every new connection."""
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(store.engine, "connect", cap)
    store.engine.dispose()


async def test_a_full_database_is_reported_to_the_user_as_full(sqlite_store: Store, fake_openai, make_arena) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    fill_up(sqlite_store)
    for size in (2000, 200, 20, 0):  # fill every last page: big rows first, then ever smaller ones
        with pytest.raises(StorageUnavailable) as info:
            for i in range(10_000):
                db.claim_event(sqlite_store, f"fill:{size}:{i:05d}" + "x" * size)
        assert info.value.kind == "full"

    notes: list[Message] = []

    async def notify(message: Message) -> None:
        notes.append(message)

    surface = MemorySurface()
    await arena.handle(TaskRequested(platform="slack", user=User("U1"), channel="C1", text="write a stack",
                                     event_id="Ev-full", notify=notify), surface)
    assert [n.plain() for n in notes] and "database is full" in notes[0].plain()
    assert surface.calls == [] and fake_openai.requests == []
