"""Value for money: cost per answer, the Pareto frontier, the best-value pick and the score-vs-cost chart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.leaderboard import Leaderboard, Row, build_leaderboard, render_leaderboard
from bot.value import (
    BEST_VALUE_LABEL,
    FRONTIER_LABEL,
    best_value,
    money,
    pareto_frontier,
    render_value_chart,
    render_value_table,
    value_figure,
)
from storage.db import Store
from storage.models import utcnow
from storage.ratings import upsert_rating
from tests.ranking.conftest import Seeder


def row(model: str, score: float, half: float, cost: float | None, *, provisional: bool = False) -> Row:
    """A leaderboard row with a symmetric interval of ±``half`` and a cost per answer."""
    return Row(rank=1, model=model, name=model.upper(), score=score, plus=half, minus=half, ballots=20, raters=3,
               provisional=provisional, lower=score - half, upper=score + half, cost_per_answer_usd=cost,
               priced=cost is not None, answers=20, priced_answers=20 if cost is not None else 0)


def board(rows: list[Row]) -> Leaderboard:
    rows = sorted(rows, key=lambda r: -r.score)
    lb = Leaderboard(window="28d", since=utcnow() - timedelta(days=28), now=utcnow(), rows=rows)
    lb.frontier = pareto_frontier(rows)
    for r in rows:
        r.on_frontier = r.model in lb.frontier
    lb.best_value = best_value(rows)
    return lb


@pytest.mark.parametrize(("usd", "shown"), [
    (None, "no price"), (0.0, "$0"), (0.012, "$0.012"), (0.00003, "$0.000030"), (0.000314, "$0.00031"),
    (1.5, "$1.50"), (0.5, "$0.50"),
])
def test_money_never_calls_an_unknown_cost_free(usd: float | None, shown: str) -> None:
    assert money(usd) == shown


def test_frontier_keeps_only_models_nobody_beats_on_both_cost_and_score() -> None:
    rows = [row("gpt", 1200, 30, 0.012), row("mixtral", 1100, 30, 0.0004), row("llama", 1050, 30, 0.00003),
            row("pricey-worse", 1000, 30, 0.02), row("same-cost-worse", 1000, 30, 0.0004), row("local", 1300, 30, None)]
    assert pareto_frontier(rows) == ["llama", "mixtral", "gpt"]  # cheapest first; unpriced left out


def test_best_value_is_the_cheapest_model_whose_interval_reaches_the_leaders() -> None:
    # gpt leads at 1200 (lower bound 1150); mixtral's upper 1160 reaches it, llama's 1100 does not.
    rows = [row("gpt", 1200, 50, 0.012), row("mixtral", 1120, 40, 0.0004), row("llama", 1060, 40, 0.00003)]
    assert best_value(rows) == "mixtral"
    # Every other model clearly worse: the leader is its own best value.
    assert best_value([row("gpt", 1200, 10, 0.012), row("llama", 900, 10, 0.00003)]) == "gpt"


def test_unpriced_and_provisional_models_are_not_picked() -> None:
    rows = [row("gpt", 1200, 50, 0.012), row("local", 1190, 50, None), row("newcomer", 1100, 300, 0.0001, provisional=True),
            row("mixtral", 1160, 40, 0.0004)]
    assert best_value(rows) == "mixtral"  # the unpriced model is not "free", the newcomer's interval is too wide
    # No priced model within the leader's interval (the leader itself unpriced): no pick.
    assert best_value([row("local", 1300, 20, None), row("llama", 900, 20, 0.00003)]) is None
    # When every model is provisional, the pick is made among them (and shown as provisional).
    everyone = [row("a", 1100, 100, 0.01, provisional=True), row("b", 1050, 100, 0.001, provisional=True)]
    assert best_value(everyone) == "b"


def test_value_table_fits_80_columns_and_marks_the_pick() -> None:
    lb = board([row("gpt", 1200, 50, 0.012), row("mixtral", 1120, 40, 0.0004),
                row("a-model-with-a-really-long-display-name", 1000, 40, None)])
    lb.rows[0].median_latency_ms, lb.rows[0].median_ttft_ms = 3400.0, 520.0
    table = render_value_table(lb)
    assert max(len(line) for line in table.splitlines()) <= 80
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "$0.012" in lines["GPT"] and "3.4 s" in lines["GPT"] and "520 ms" in lines["GPT"] and "leader" in lines["GPT"]
    assert "$0.00040" in lines["MIXTRAL"] and "★ best value" in lines["MIXTRAL"]
    unpriced = next(line for line in table.splitlines() if line.startswith("A-MODEL"))
    assert "no price" in unpriced and "free" not in unpriced and "$0 " not in unpriced


def test_summary_lines_say_why_there_is_no_pick() -> None:
    from bot.value import value_summary

    assert value_summary(board([row("local", 1100, 50, None), row("local2", 1000, 50, None)]))[0] == (
        "Best value: none of these models has a price yet.")
    assert value_summary(board([row("local", 1300, 20, None), row("llama", 900, 20, 0.00003)]))[0] == (
        "Best value: no priced model's interval overlaps the leader's.")
    assert value_summary(board([row("gpt", 1200, 10, 0.012), row("llama", 900, 10, 0.00003)]))[0] == (
        "Best value: GPT at $0.012 per answer; the leader is also the cheapest model within its interval.")


def test_chart_draws_the_frontier_best_value_and_a_no_price_panel() -> None:
    lb = board([row("gpt", 1200, 50, 0.012), row("mixtral", 1120, 40, 0.0004), row("llama", 1000, 40, 0.00003),
                row("worse", 980, 40, 0.002), row("local", 1050, 60, None)])
    fig = value_figure(lb)
    main, side = fig.axes
    [frontier] = [line for line in main.get_lines() if line.get_label() == FRONTIER_LABEL]
    assert list(frontier.get_xdata()) == [0.00003, 0.0004, 0.012]
    assert list(frontier.get_ydata()) == [1000, 1120, 1200]
    [best] = [line for line in main.get_lines() if str(line.get_label()).startswith(BEST_VALUE_LABEL)]
    assert "MIXTRAL" in str(best.get_label()) and list(best.get_xdata()) == [0.0004, 0.0004]
    assert main.get_xscale() == "log"
    assert [t.get_text() for t in side.get_xticklabels()] == ["no price"]
    assert [t.get_text() for t in side.texts] == ["LOCAL"] and "LOCAL" not in [t.get_text() for t in main.texts]
    assert render_value_chart(lb).startswith(b"\x89PNG")


def test_chart_copes_with_a_free_model_and_with_no_priced_model() -> None:
    free = board([row("gpt", 1200, 50, 0.012), row("free", 1100, 60, 0.0)])
    assert value_figure(free).axes[0].get_xscale() == "symlog"  # $0 cannot sit on a log axis
    assert render_value_chart(free).startswith(b"\x89PNG")
    nothing = board([row("local", 1100, 50, None), row("local2", 1000, 50, None)])
    assert "no priced model yet" in [t.get_text() for t in value_figure(nothing).axes[0].texts]
    assert render_value_chart(board([])).startswith(b"\x89PNG")


def test_board_from_stored_answers_has_cost_latency_ttft_and_the_pick(store: Store, seed: Seeder) -> None:
    """Known costs and ratings → known per-model figures, frontier and pick, through the database."""
    costs = {"gpt": 0.012, "mixtral": 0.0004, "llama": 0.00003, "local": None}
    for i in range(14):
        _, answers = seed.task(list(costs), created=utcnow() - timedelta(days=1))
        by_model = {a.contestant_id: a for a in answers}
        for model, answer in by_model.items():
            from storage.tasks import update_answer

            update_answer(store, answer.id, cost_usd=costs[model], ttft_ms=100.0 * (1 + list(costs).index(model)),
                          latency_ms=1000.0 + i)
        # gpt beats mixtral on half the tasks, loses on a quarter, ties the rest; both beat the others.
        stars = {"gpt": (5, 5, 4, 5)[i % 4], "mixtral": (4, 4, 5, 5)[i % 4], "llama": 2, "local": 3}
        for model, value in stars.items():
            upsert_rating(store, by_model[model].id, f"u{i % 3}", "stars", value, "x")
    lb = build_leaderboard(store, bootstrap=200)
    rows = {r.model: r for r in lb.rows}
    assert rows["gpt"].cost_per_answer_usd == pytest.approx(0.012) and rows["gpt"].priced
    assert rows["local"].cost_per_answer_usd is None and not rows["local"].priced
    assert rows["local"].answers == 14 and rows["local"].priced_answers == 0
    assert rows["mixtral"].median_ttft_ms == 200.0 and rows["gpt"].median_latency_ms == 1006.5
    assert lb.rows[0].model == "gpt" and lb.frontier == ["llama", "mixtral", "gpt"]
    assert rows["mixtral"].upper >= rows["gpt"].lower  # mixtral is statistically level with gpt…
    assert rows["llama"].upper < rows["gpt"].lower  # …llama is not
    assert lb.best_value == "mixtral"
    assert lb.to_dict()["best_value"] == "mixtral" and lb.to_dict()["rows"][0]["lower"] == rows["gpt"].lower

    message = render_leaderboard(lb)
    assert "Best value: MIXTRAL at $0.00040 per answer" in message.text
    assert "No price (cost unknown, not free): LOCAL." in message.text
    assert [a.filename for a in message.attachments] == ["leaderboard.png", "value.png"]
