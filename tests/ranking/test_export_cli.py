"""Export (CSV/JSONL) and the `leaderboard` / `export` commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.cli import main
from bot.export import export
from storage.db import Store
from storage.ratings import upsert_rating


def seed_two_tasks(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, old = seed.task(["a", "b"], created=datetime(2026, 1, 5, tzinfo=UTC))
    upsert_rating(store, old[0].id, "u1", "stars", 4, "four")
    _, new = seed.task(["a", "b"], created=datetime(2026, 2, 5, tzinfo=UTC))
    upsert_rating(store, new[0].id, "u1", "thumbs", 1, "+1")
    upsert_rating(store, new[0].id, "u2", "stars", 2, "two")


def test_csv_has_a_row_per_rating_and_unrated_answers(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_two_tasks(store, seed)
    out = io.StringIO()
    assert export(store, "csv", None, out) == 5  # 1 + 1 unrated; 2 + 1 unrated
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["task_text"], r["answer_contestant_id"], r["rating_rater_id"], r["rating_value"]) for r in rows] == [
        ("task 1", "a", "u1", "4"), ("task 1", "b", "", ""),
        ("task 2", "a", "u1", "1"), ("task 2", "a", "u2", "2"), ("task 2", "b", "", ""),
    ]
    assert rows[0]["task_created_at"].startswith("2026-01-05T00:00:00")
    assert "print(1)" in rows[0]["answer_text"]


def test_jsonl_nests_answers_and_ratings_and_since_filters(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_two_tasks(store, seed)
    out = io.StringIO()
    assert export(store, "jsonl", date(2026, 2, 1), out) == 1
    (task,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert task["text"] == "task 2" and [a["contestant_id"] for a in task["answers"]] == ["a", "b"]
    assert sorted((r["rater_id"], r["scale"], r["value"]) for r in task["answers"][0]["ratings"]) == [
        ("u1", "thumbs", 1), ("u2", "stars", 2)]
    assert task["answers"][1]["ratings"] == []


def test_unknown_format_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml': use csv or jsonl"):
        export(store, "xml", None, io.StringIO())


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed) -> Store:  # type: ignore[no-untyped-def]
    """Point the CLI at the test's SQLite store."""
    monkeypatch.setenv("DATABASE_URL", seed.store.url)
    return seed.store


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_leaderboard_command(cli_db: Store, seed, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        _, answers = seed.task(["gpt", "llama"], created=datetime.now(UTC) - timedelta(days=1))
        upsert_rating(cli_db, answers[0].id, f"u{i % 2}", "stars", 5, "five")
        upsert_rating(cli_db, answers[1].id, f"u{i % 2}", "stars", 2, "two")
    chart = tmp_path / "board.png"
    assert main(["leaderboard", "--chart", str(chart), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["#", "Model", "Score"]
    assert "GPT*" in out and "LLAMA*" in out and "4 ballots on 4 tasks" in out
    assert chart.read_bytes().startswith(b"\x89PNG")

    assert main(["leaderboard", "--json", "--window", "7d", "--bootstrap", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == "7d" and [r["model"] for r in data["rows"]] == ["gpt", "llama"]
    assert data["rows"][0]["provisional"] is True

    assert main(["leaderboard", "--window", "fortnight"]) == 2
    assert "unknown window 'fortnight'" in capsys.readouterr().err


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_export_command(cli_db: Store, seed, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    seed_two_tasks(cli_db, seed)
    assert main(["export", "--format", "jsonl", "--since", "2026-02-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["text"] for x in lines] == ["task 2"]
    target = tmp_path / "out.csv"
    assert main(["export", "--format", "csv", "-o", str(target)]) == 0
    assert "wrote 5 rows" in capsys.readouterr().err
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == 5
    with pytest.raises(SystemExit):
        main(["export", "--since", "yesterday"])
    assert "not a date: 'yesterday'" in capsys.readouterr().err
