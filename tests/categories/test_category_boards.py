"""Leaderboards within one category: known winners per kind of work and language, the same provisional rule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.cli import main
from bot.leaderboard import build_leaderboard, category_leaders, render_leaderboard, split_leaderboard_words
from storage.db import Store
from storage.models import utcnow
from storage.ratings import upsert_rating
from storage.tasks import update_task
from tests.ranking.conftest import Seeder


def seed_boards(store: Store, seed: Seeder) -> None:
    """gpt wins web/backend (Python), mixtral wins data (SQL), three frontend tasks by one rater."""
    plan = [("web", "python", "gpt", 16), ("data", "sql", "mixtral", 12), ("frontend", "javascript", "llama", 3)]
    for kind, language, winner, count in plan:
        for i in range(count):
            task, answers = seed.task(["gpt", "mixtral", "llama"], created=utcnow() - timedelta(days=2))
            update_task(store, task.id, kind=kind, language=language)
            rater = "solo" if kind == "frontend" else f"u{i % 3}"
            for answer in answers:
                upsert_rating(store, answer.id, rater, "stars", 5 if answer.contestant_id == winner else 2, "x")


def test_category_board_ranks_only_that_kind_of_work(store: Store, seed: Seeder) -> None:
    seed_boards(store, seed)
    overall = build_leaderboard(store, bootstrap=100)
    data = build_leaderboard(store, bootstrap=100, category="data")
    assert overall.rows[0].model == "gpt" and data.rows[0].model == "mixtral"
    assert data.tasks == 12 and data.ballots == 12 and {r.ballots for r in data.rows} == {12}
    assert data.week_tasks == 12 and data.week_ratings == 36  # the week's activity is the category's too
    assert data.category == "data" and data.category_label == "Data & ML"
    assert json.loads(json.dumps(data.to_dict()))["category"] == "data"
    message = render_leaderboard(data)
    assert message.title == "Codegen Arena leaderboard · Data & ML · last 28d"

    by_language = build_leaderboard(store, bootstrap=100, category="python")
    assert by_language.rows[0].model == "gpt" and by_language.tasks == 16 and by_language.category == "python"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_same_provisional_rule_within_a_category(store: Store, seed: Seeder) -> None:
    seed_boards(store, seed)
    frontend = build_leaderboard(store, bootstrap=50, category="frontend")
    assert frontend.rows[0].model == "llama"
    assert all(r.provisional for r in frontend.rows)  # 3 ballots by one rater
    assert not any(r.provisional for r in build_leaderboard(store, bootstrap=50, category="web").rows)
    empty = build_leaderboard(store, bootstrap=50, category="devops")
    assert empty.rows == []
    assert "No rated comparisons in DevOps & infrastructure tasks of the last 28d yet." in render_leaderboard(empty).text
    with pytest.raises(ValueError, match="unknown category 'cooking'"):
        build_leaderboard(store, category="cooking")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_each_rated_categorys_leader(store: Store, seed: Seeder) -> None:
    seed_boards(store, seed)
    leaders = category_leaders(store, bootstrap=50)
    assert [(c.category, c.leader.model, c.leader.provisional) for c in leaders] == [
        ("web", "gpt", False), ("frontend", "llama", True), ("data", "mixtral", False),
        ("python", "gpt", False), ("javascript", "llama", True), ("sql", "mixtral", False),
    ]
    assert [c.is_language for c in leaders] == [False, False, False, True, True, True]


def test_text_command_words() -> None:
    assert split_leaderboard_words([]) == ("28d", None)
    assert split_leaderboard_words(["7d"]) == ("7d", None)
    assert split_leaderboard_words(["data", "7d"]) == ("7d", "data")
    assert split_leaderboard_words(["all", "python"]) == ("all", "python")
    assert split_leaderboard_words(["data", "python"]) == ("28d", "data python")  # the core rejects it clearly


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_cli_category_json_and_text(store: Store, seed: Seeder, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_boards(store, seed)
    monkeypatch.setenv("DATABASE_URL", store.url)
    assert main(["leaderboard", "--category", "data", "--json", "--bootstrap", "50",
                 "--value-chart", str(tmp_path / "value.png")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["category"] == "data" and data["rows"][0]["model"] == "mixtral"
    assert {"cost_per_answer_usd", "priced", "median_ttft_ms", "lower", "upper", "on_frontier"} <= set(data["rows"][0])
    assert "best_value" in data and "frontier" in data and "length_bias" in data
    assert (tmp_path / "value.png").read_bytes().startswith(b"\x89PNG")

    assert main(["leaderboard", "--category", "ml", "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Data & ML tasks only") and "Value for money:" in out and "Best value:" in out

    assert main(["leaderboard", "--category", "cooking"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown category 'cooking': use a kind of work") and err.count("\n") == 1


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_cli_classify(store: Store, seed: Seeder, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    seed.task(["a", "b"])  # the seeder's answers are Python: its task text names no language
    monkeypatch.setenv("DATABASE_URL", store.url)
    assert main(["classify"]) == 0
    assert capsys.readouterr().out == "classified 1 task\n"
    assert main(["classify"]) == 0
    assert capsys.readouterr().out == "classified 0 tasks\n"
    assert build_leaderboard(store, category="python").category == "python"
