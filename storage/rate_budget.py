"""Shared rate budgets: a `limits` storage backend over the database, so every process that
talks to one workspace draws from one budget (the `limits` library supplies the algorithms;
this module only stores its fixed-window counters, in the ``ratecounter`` table)."""

from __future__ import annotations

from datetime import timedelta

from limits.aio.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from storage.db import Store
from storage.models import RateCounter, utcnow


def _incr(store: Store, key: str, expiry: int, amount: int) -> int:
    now = utcnow()
    insert = store.upsert
    statement = insert(RateCounter).values(key=key, count=amount, expires_at=now + timedelta(seconds=expiry))
    expired = col(RateCounter.expires_at) <= now
    upsert = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((expired, statement.excluded.count), else_=col(RateCounter.count) + statement.excluded.count),
            "expires_at": case((expired, statement.excluded.expires_at), else_=col(RateCounter.expires_at)),
        },
    ).returning(col(RateCounter.count))
    with store.engine.begin() as conn:
        return int(conn.execute(upsert).scalar_one())


def _get(store: Store, key: str) -> tuple[int, float]:
    with store.engine.begin() as conn:
        row = conn.execute(select(col(RateCounter.count), col(RateCounter.expires_at)).where(col(RateCounter.key) == key)).first()
    if row is None:
        return 0, utcnow().timestamp()
    count, expires = int(row[0]), row[1]
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        from datetime import UTC

        expires = expires.replace(tzinfo=UTC)
    if expires <= utcnow():
        return 0, utcnow().timestamp()
    return count, expires.timestamp()


def _clear(store: Store, key: str | None) -> int:
    with store.engine.begin() as conn:
        query = delete(RateCounter) if key is None else delete(RateCounter).where(col(RateCounter.key) == key)
        return int(conn.execute(query).rowcount or 0)


class DatabaseStorage(Storage):
    """`limits` async storage (fixed windows) on the bot's database."""

    STORAGE_SCHEME = None

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return await self.store.run(_incr, key, int(expiry), amount)

    async def get(self, key: str) -> int:
        return (await self.store.run(_get, key))[0]

    async def get_expiry(self, key: str) -> float:
        return (await self.store.run(_get, key))[1]

    async def check(self) -> bool:
        try:
            await self.store.run(_get, "health")
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        return await self.store.run(_clear, None)

    async def clear(self, key: str) -> None:
        await self.store.run(_clear, key)
