"""The leaderboard report built from stored tasks, answers, runs and ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.leaderboard import (
    MIN_BALLOTS,
    TABLE_WIDTH,
    build_leaderboard,
    parse_window,
    render_chart,
    render_leaderboard,
    render_table,
)
from storage.db import Store
from storage.models import Run, utcnow
from storage.ratings import upsert_rating

NOW = datetime.now(UTC)


def rate(store: Store, answers, rater: str, values: dict[str, int], scale: str = "stars") -> None:  # type: ignore[no-untyped-def]
    by_model = {a.contestant_id: a for a in answers}
    for model, value in values.items():
        upsert_rating(store, by_model[model].id, rater, scale, value, "x")


def seed_standard(store: Store, seed, tasks: int = 12, created: datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    """gpt clearly best, llama and mixtral close; three raters with different generosity."""
    for i in range(tasks):
        _, answers = seed.task(["gpt", "llama", "mixtral"], created=created or utcnow() - timedelta(days=1),
                               latency_ms=[1500.0, 400.0, 2500.0][i % 3])
        offset = i % 3 - 1  # raters u0 harsh, u1 neutral, u2 generous
        rate(store, answers, f"u{i % 3}", {"gpt": 4 + max(0, offset), "llama": 2 + offset + i % 2,
                                            "mixtral": 3 + offset - i % 2})
        rate(store, answers, f"u{(i + 1) % 3}", {"gpt": 1, "llama": 0 if i % 4 else 1}, scale="thumbs")


def test_empty_leaderboard_says_how_to_rate(store: Store) -> None:
    lb = build_leaderboard(store, bootstrap=50)
    assert lb.rows == []
    message = render_leaderboard(lb)
    assert "No rated comparisons" in message.text and "1️⃣" in message.text
    assert message.attachments == []


def test_standings_and_side_columns(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_standard(store, seed)
    _, answers = seed.task(["gpt", "llama"])
    with store.session() as session:
        session.add(Run(answer_id=answers[0].id, requester_id="u1", exit_code=0))
        session.add(Run(answer_id=answers[0].id, requester_id="u1", exit_code=1))
        session.add(Run(answer_id=answers[1].id, requester_id="u1", exit_code=0, timed_out=True))
    lb = build_leaderboard(store, bootstrap=200)
    rows = {r.model: r for r in lb.rows}
    assert lb.rows[0].model == "gpt" and lb.rows[0].rank == 1
    assert rows["gpt"].score > rows["llama"].score and rows["gpt"].score > rows["mixtral"].score
    gpt = rows["gpt"]
    assert gpt.name == "GPT"
    assert gpt.ballots == 24 and gpt.raters == 3 and not gpt.provisional  # 12 star + 12 thumbs ballots
    assert gpt.thumbs_up == 12 and gpt.thumbs_total == 12 and gpt.thumbs_lb == pytest.approx(0.757, abs=0.001)
    assert rows["mixtral"].thumbs_total == 0 and rows["mixtral"].thumbs_lb is None
    assert gpt.stars_avg is not None and gpt.stars_avg > rows["llama"].stars_avg  # type: ignore[operator]
    assert (gpt.runs_ok, gpt.runs) == (1, 2) and (rows["llama"].runs_ok, rows["llama"].runs) == (0, 1)
    assert gpt.median_latency_ms == 1500.0 and gpt.median_cost_usd == pytest.approx(0.001)
    assert lb.week_tasks == 13 and lb.week_ratings == 12 * 3 + 12 * 2
    assert lb.ballots == 24 and lb.tasks == 12
    assert all(r.move is None for r in lb.rows)  # nothing last week: all new

    message = render_leaderboard(lb)
    assert message.text.startswith("```\n") and "GPT" in message.text and "Thumbs LB" in message.text
    assert "This week: 13 tasks, 60 ratings." in message.text
    assert "1/2" in message.text  # runs ok column
    assert "Movers" not in message.text  # no standings last week to move from
    assert message.attachments[0].filename == "leaderboard.png"
    assert message.attachments[0].content.startswith(b"\x89PNG")
    # The same ratings always give the same leaderboard.
    again = build_leaderboard(store, bootstrap=200, now=lb.now)
    assert again.rows == lb.rows


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_provisional_under_minimums(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    for _ in range(12):
        _, answers = seed.task(["a", "b"])
        rate(store, answers, "only-rater", {"a": 5, "b": 1})
    lb = build_leaderboard(store, bootstrap=50)
    assert [r.provisional for r in lb.rows] == [True, True]  # one rater only
    assert "* provisional" in (render_leaderboard(lb).footer or "")
    assert "A*" in render_leaderboard(lb).text


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_one_ballot_is_neither_ranked_nor_shown_with_a_certain_interval(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    rate(store, answers, "u1", {"a": 5, "b": 1})
    lb = build_leaderboard(store, bootstrap=50)
    assert [(r.rank, r.provisional) for r in lb.rows] == [(None, True), (None, True)]
    table = render_table(lb)
    assert "+0/-0" not in table
    assert table.count(f"needs {MIN_BALLOTS - 1} more") == 2
    assert [line.split()[0] for line in table.splitlines()[2:]] == ["–", "–"]  # no rank 1 or 2
    message = render_leaderboard(lb)
    assert "not ranked yet" in (message.footer or "")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_ranked_models_come_first_and_rank_among_themselves(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    for i in range(12):
        _, answers = seed.task(["a", "b"])
        rate(store, answers, f"u{i % 2}", {"a": 5, "b": 1})
    _, answers = seed.task(["newcomer", "a"])
    rate(store, answers, "u1", {"newcomer": 5, "a": 1})
    lb = build_leaderboard(store, bootstrap=100)
    assert [(r.model, r.rank) for r in lb.rows] == [("a", 1), ("b", 2), ("newcomer", None)]
    assert "needs 9 more" in render_table(lb).splitlines()[-1]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_table_fits_80_columns_and_explains_its_columns(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    names = ["Mixtral 8x7B Instruct (a very long display name)", "Llama 3.2 3B Instruct, temperature 0.9"]
    for i in range(12):
        _, answers = seed.task(["m", "l"], names=names, cost_usd=0.00123, latency_ms=12345.0)
        rate(store, answers, f"u{i % 3}", {"m": 5, "l": 1 + i % 5})
        rate(store, answers, f"u{i % 3}", {"m": 1, "l": 0}, scale="thumbs")
    lb = build_leaderboard(store, bootstrap=50)
    table = render_table(lb)
    assert max(len(line) for line in table.splitlines()) <= TABLE_WIDTH
    assert "Mixtral 8x7B" in table and "…" in table
    footer = render_leaderboard(lb).footer or ""
    assert "Stars: the 1–5 average shrunk towards" in footer
    assert "Thumbs LB: the lower end of the 95% Wilson interval" in footer


def test_window_excludes_old_tasks(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        _, answers = seed.task(["a", "b"], created=utcnow() - timedelta(days=40))
        rate(store, answers, f"u{i}", {"a": 5, "b": 1})
    for i in range(4):
        _, answers = seed.task(["a", "b"], created=utcnow() - timedelta(days=3))
        rate(store, answers, f"u{i}", {"a": 1, "b": 5})
    recent = build_leaderboard(store, window="28d", bootstrap=50)
    everything = build_leaderboard(store, window="all", bootstrap=50)
    assert recent.rows[0].model == "b" and recent.rows[0].ballots == 4
    assert {r.model: r.ballots for r in everything.rows} == {"a": 8, "b": 8}
    assert "all time" in render_leaderboard(everything).title  # type: ignore[operator]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_movers_since_last_week(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC) + timedelta(days=8)  # ratings given "now" count as last week's
    for i in range(6):
        _, answers = seed.task(["a", "b", "c"], created=now - timedelta(days=10))
        rate(store, answers, f"u{i % 2}", {"a": 2, "b": 5, "c": 1})
    for i in range(20):
        _, answers = seed.task(["a", "b", "c"], created=now - timedelta(days=2))
        rate(store, answers, f"u{i % 2}", {"a": 5, "b": 3, "c": 1})
    for i in range(2):
        _, answers = seed.task(["a", "d"], created=now - timedelta(days=2))
        rate(store, answers, f"u{i % 2}", {"a": 5, "d": 1})
    lb = build_leaderboard(store, now=now, bootstrap=50)
    rows = {r.model: r for r in lb.rows}
    assert [r.model for r in lb.rows][:2] == ["a", "b"]
    assert rows["d"].move is None and rows["d"].previous_place is None
    assert (rows["a"].previous_place, rows["a"].move) == (2, 1)
    assert (rows["b"].previous_place, rows["b"].move) == (1, -1)
    assert rows["c"].previous_place == 3
    text = render_leaderboard(lb).text
    assert "Movers since last week: ▲ A 2→1, ▼ B 1→2" in text and "🆕 D" in text


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_position_bias_reported(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        # Whichever model is shown first gets the best rating.
        _, answers = seed.task(["a", "b"], positions=[0, 1] if i % 2 else [1, 0])
        first = "a" if i % 2 else "b"
        rate(store, answers, "u1", {first: 5, ({"a", "b"} - {first}).pop(): 2})
    lb = build_leaderboard(store, bootstrap=50)
    assert lb.position_bias is not None
    assert lb.position_bias.comparisons == 10 and lb.position_bias.first_win_rate == 1.0
    assert "first-shown answer won 100% of 10 comparisons" in render_leaderboard(lb).text


@pytest.mark.parametrize("bad", ["", "28", "x7d", "0d", "7y", "-3d"])
def test_bad_window_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match="use a number of days or weeks like 28d"):
        parse_window(bad)


def test_window_spellings() -> None:
    assert parse_window("7d") == timedelta(days=7)
    assert parse_window("4W") == timedelta(weeks=4)
    assert parse_window("all") is None


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_chart_renders_png_even_when_empty(store: Store) -> None:
    png = render_chart(build_leaderboard(store, bootstrap=0))
    assert png.startswith(b"\x89PNG") and len(png) > 1000
