"""`codegen-bot usage`: figures on a fixture database, as JSON and as tables, with the budget left."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from storage.db import Store
from storage.models import AnswerStatus
from tests.controls.fixture import add_task


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'usage.db'}"
    store = Store(url)
    store.upgrade()
    now = datetime.now(UTC)
    add_task(store, "C1", [("alpha", AnswerStatus.DONE, 100, 200, 0.25, 0.3), ("beta", AnswerStatus.DONE, 40, 60, None, 0.0)],
             created=now)
    add_task(store, "C9", [("alpha", AnswerStatus.DONE, 10, 20, 0.5, 0.5)], created=now, platform="discord")
    store.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CODEGEN_BUDGET_DAILY_USD", "1")
    return url


def test_usage_json_has_models_channels_and_budgets(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--days", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["days"] == 30
    assert [(m["key"], m["tasks"], m["answers"], m["prompt_tokens"], m["completion_tokens"], m["cost_usd"])
            for m in report["models"]] == [("alpha", 2, 2, 110, 220, 0.75), ("beta", 1, 1, 40, 60, 0.0)]
    slack = next(c for c in report["channels"] if c["key"] == "slack:C1")
    [daily] = slack["budget"]
    assert (daily["period"], daily["cap_usd"], daily["source"], daily["spent_usd"], daily["left_usd"]) == (
        "day", 1.0, "workspace default", 0.25, 0.75)


def test_usage_table_and_a_bad_window(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    assert "Usage, last 7 days" in out and "ALPHA" in out and "$0.75" in out
    assert "discord:C9: daily budget $0.50 of $1.00 spent today (workspace default)" in out
    with pytest.raises(SystemExit):
        main(["usage", "--days", "0"])
