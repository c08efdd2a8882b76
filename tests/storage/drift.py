"""Schema drift: what differs between the migrated database and storage/models.py, leaving out the
job queue's own tables (procrastinate installs and migrates them: migration 0002)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from storage.db import Store

JOB_QUEUE_PREFIX = "procrastinate_"


def _table_of(item: Any) -> str:
    thing = item[1] if isinstance(item, tuple) else item
    table = getattr(thing, "table", None)
    name = getattr(table, "name", None) or getattr(thing, "name", "")
    return str(name or "")


def schema_differences(store: Store) -> list[Any]:
    """Alembic's autogenerate differences, without the job queue's tables and indexes."""
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    return [d for d in differences if not _table_of(d).startswith(JOB_QUEUE_PREFIX)]
