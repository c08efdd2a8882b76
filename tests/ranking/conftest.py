"""Fixtures: a migrated Store on SQLite and on PostgreSQL (a fresh schema per test), and a seeder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from storage.db import Store
from storage.models import Answer, AnswerStatus, Task, TaskStatus
from storage.tasks import create_task

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _schema_url(schema: str) -> str:
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, migrated schema (dropped afterwards)."""
    schema = f"t_rank_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(schema)
    store = Store(url)
    store.upgrade()
    store.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    """A migrated, empty Store on each backend."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'arena.db'}")
        s.upgrade()
    else:
        s = Store(request.getfixturevalue("pg_url"))
    yield s
    s.dispose()


class Seeder:
    """Creates tasks with posted answers, as the arena would have."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._n = 0

    def task(
        self,
        models: list[str],
        *,
        platform: str = "slack",
        channel: str = "C1",
        created: datetime | None = None,
        blind: bool = False,
        positions: list[int] | None = None,
        latency_ms: float | None = 900.0,
        cost_usd: float | None = 0.001,
    ) -> tuple[Task, list[Answer]]:
        """A finished task with one answer per model, each posted as message ``<task>.<i>``."""
        self._n += 1
        task = Task(
            platform=platform, channel=channel, requester_id="U0", text=f"task {self._n}",
            status=TaskStatus.DONE, blind=blind,
        )
        if created is not None:
            task.created_at = created if created.tzinfo else created.replace(tzinfo=UTC)
        positions = positions or list(range(len(models)))
        answers = [
            Answer(
                task_id=0, contestant_id=m, contestant_name=m.upper(), position=positions[i],
                label="ABCDEFGH"[positions[i]], status=AnswerStatus.DONE, text="```python\nprint(1)\n```",
                message_channel=channel, message_id=f"{self._n}.{i}", latency_ms=latency_ms, cost_usd=cost_usd,
            )
            for i, m in enumerate(models)
        ]
        return create_task(self.store, task, answers)


@pytest.fixture
def seed(store: Store) -> Seeder:
    return Seeder(store)


def ago(days: float, now: datetime | None = None) -> datetime:
    """The time ``days`` before ``now`` (default: real now)."""
    from storage.models import utcnow

    return (now or utcnow()) - timedelta(days=days)
