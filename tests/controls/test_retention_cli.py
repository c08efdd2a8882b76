"""`codegen-bot expire` and `codegen-bot forget --user ID` on a fixture database: what they print,
what they delete, and that running them again is harmless."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.cli import main
from storage.db import Store
from storage.models import AnswerStatus, Task
from storage.ratings import upsert_rating
from storage.tasks import task_answers
from tests.controls.fixture import add_task


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    store = Store(url)
    store.upgrade()
    now = datetime.now(UTC)
    add_task(store, "C1", [("alpha", AnswerStatus.DONE, 1, 1, 0.1, 0.1)], created=now - timedelta(days=120))
    add_task(store, "C1", [("alpha", AnswerStatus.DONE, 1, 1, 0.1, 0.1)], created=now - timedelta(days=10))
    add_task(store, "C9", [("alpha", AnswerStatus.DONE, 1, 1, 0.1, 0.1)], created=now, platform="discord")
    for task_id in (1, 2, 3):
        [answer] = task_answers(store, task_id)
        upsert_rating(store, answer.id or 0, "U1", "thumbs", 1, "+1")
        upsert_rating(store, answer.id or 0, "U2", "thumbs", 0, "-1")
    monkeypatch.setenv("DATABASE_URL", url)
    yield store
    store.dispose()


def texts(store: Store) -> list[str]:
    with store.session() as session:
        return [t.text for t in session.exec(select(Task).order_by(Task.id))]  # type: ignore[arg-type]


def test_expire_deletes_old_contents_once(database: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expire"]) == 0
    assert capsys.readouterr().out == "Deleted the contents of 1 task(s) older than 90 days.\n"
    assert texts(database) == ["", "x", "x"]
    assert main(["expire", "--days", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"retention_days": 5, "expired_tasks": 1}
    assert main(["expire", "--days", "5"]) == 0
    assert "Deleted the contents of 0 task(s)" in capsys.readouterr().out


def test_forget_one_user_everywhere_or_on_one_platform(database: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expire"]) == 0  # task 1's ratings are pseudonymised: forget finds them too
    capsys.readouterr()
    assert main(["forget", "--user", "U1", "--platform", "slack", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"user": "U1", "platform": "slack", "tasks": 2, "ratings": 2,
                                                   "runs": 0, "settings_changes": 0}
    assert texts(database) == ["", "", "x"]  # the fixture's asker is U1; the discord task stays
    assert main(["forget", "--user", "U1"]) == 0
    assert capsys.readouterr().out == "Forgot U1 (every platform): deleted 1 task, 1 rating, 0 runs and 0 settings changes.\n"
    assert main(["forget", "--user", "U1"]) == 0
    assert "deleted 0 tasks, 0 ratings" in capsys.readouterr().out
    with database.engine.connect() as conn:
        raters = list(conn.execute(text("SELECT rater_id FROM rating ORDER BY id")).scalars())
    assert len(raters) == 3 and "U1" not in raters and raters.count("U2") == 2  # U2's ratings all stay


def test_forget_needs_a_user(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["forget", "--user", " "])
    assert exit_info.value.code == 2
    assert "an empty user id" in capsys.readouterr().err
