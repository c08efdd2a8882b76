"""The migrations build exactly the tables storage/models.py declares (on SQLite and PostgreSQL)."""

from __future__ import annotations

from storage.db import Store
from tests.storage.drift import schema_differences


def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert schema_differences(store) == []


def test_upgrading_a_database_with_tasks_keeps_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A team's existing database (at the first revision, with rows) upgrades in place; `classify` fills it."""
    from alembic import command
    from sqlalchemy import text

    from bot.tagging import classify_stored
    from storage.db import alembic_config
    from storage.tasks import get_task

    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    with store.engine.begin() as connection:
        config = alembic_config(store.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text(
            "INSERT INTO task (id, platform, channel, requester_id, requester_name, text, status, blind, revealed,"
            " created_at) VALUES (1, 'slack', 'C1', 'U1', '', 'pandas: plot a rolling average', 'done', 0, 0,"
            " '2026-11-30 10:00:00.000000')"))
        connection.execute(text(
            "INSERT INTO answer (task_id, contestant_id, contestant_name, position, label, status, text, created_at)"
            " VALUES (1, 'a', 'A', 0, 'A', 'done', 'x', '2026-11-30 10:00:00.000000')"))
    store.upgrade()
    task = get_task(store, 1)
    assert task is not None and task.text == "pandas: plot a rolling average" and task.kind is None
    assert classify_stored(store) == 1
    assert (get_task(store, 1).kind, get_task(store, 1).language) == ("data", "python")  # type: ignore[union-attr]
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM answer")).scalar() == 1
    store.dispose()
