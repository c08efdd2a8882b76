"""Fixtures: a PostgreSQL URL for two-process tests and a seeder (``store`` comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Store
from storage.models import Answer, AnswerStatus, Task, TaskStatus
from storage.tasks import create_task
from tests.conftest import PostgresSchemas


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A URL on a fresh, migrated PostgreSQL schema (dropped afterwards): for multi-process tests."""
    schemas = PostgresSchemas(postgres_url)
    store = schemas.store()
    store.dispose()
    try:
        yield store.url
    finally:
        schemas.drop_all()


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
        names: list[str] | None = None,
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
                task_id=0, contestant_id=m, contestant_name=names[i] if names else m.upper(), position=positions[i],
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
