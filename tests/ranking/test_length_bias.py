"""Length bias: the within-ballot figure, and the length-controlled (style-control) ranking."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import numpy as np
import pytest

from bot.leaderboard import build_leaderboard, render_leaderboard
from bot.ranking import RatingRows, compare, fit_bt
from bot.ranking.bt import ALPHA, fit_bt_covariates
from bot.ranking.length import length_bias
from storage.db import Store
from storage.models import Answer, AnswerStatus, Rating, Task, TaskStatus, utcnow
from storage.tasks import create_task

QUALITY = {"a": 0.0, "b": 0.4, "c": 0.8}  # c is truly best, a worst


def seed_window(store: Store, *, prefer_length: float, base_length: dict[str, int] | None, tasks: int = 90) -> None:
    """Tasks answered by a, b, c and rated in stars by four raters (one ballot per task).

    A rater's utility for an answer is its model's quality plus ``prefer_length`` × ln(length / 1000)
    plus noise; stars are that, rounded around 3. Lengths vary ±60% per answer around the model's
    ``base_length`` (or around 1500 for every model when None), so length and model are separable.
    """
    rng = random.Random(7)
    ratings = []
    for t in range(tasks):
        order = list(QUALITY)
        rng.shuffle(order)
        answers = [
            Answer(task_id=0, contestant_id=m, contestant_name=m.upper(), position=pos, label="ABC"[pos],
                   status=AnswerStatus.DONE, message_id=f"{t}.{pos}",
                   text="x" * int((base_length[m] if base_length else 1500) * rng.uniform(0.4, 1.6)))
            for pos, m in enumerate(order)
        ]
        task = Task(platform="slack", channel="C1", requester_id="U0", text=f"task {t}", status=TaskStatus.DONE,
                    created_at=utcnow() - timedelta(days=1))
        _, answers = create_task(store, task, answers)
        for answer in answers:
            utility = (QUALITY[answer.contestant_id] + prefer_length * math.log(len(answer.text) / 1000)
                       + rng.gauss(0, 0.3))
            stars = max(1, min(5, round(3 + utility)))
            ratings.append(Rating(answer_id=answer.id, rater_id=f"u{t % 4}", scale="stars", value=stars, emoji="x"))
    with store.session() as session:
        session.add_all(ratings)


def test_longer_answers_preferred_by_construction(store: Store) -> None:
    # a writes long answers, c short ones, and raters reward length: a looks best until length is controlled.
    seed_window(store, prefer_length=1.5, base_length={"a": 3000, "b": 1500, "c": 700})
    lb = build_leaderboard(store, bootstrap=100)
    bias = lb.length_bias
    assert bias is not None and bias.material
    assert bias.longer_win_rate > 0.7 and bias.low > 0.5 and bias.comparisons > 200
    assert [r.model for r in lb.rows][0] == "a"  # raw: the verbose model leads
    controlled = sorted(lb.rows, key=lambda r: r.controlled_place or 0)
    assert [r.model for r in controlled] == ["c", "b", "a"]  # the true order
    rows = {r.model: r for r in lb.rows}
    assert rows["a"].place_change == -2 and rows["c"].place_change == 2
    assert bias.coefficient is not None and bias.coefficient > 0
    assert bias.odds_twice_low is not None and bias.odds_twice_low > 1.1  # clearly more than a 10% edge

    text = render_leaderboard(lb).text
    assert "Length bias: the clearly longer answer (≥10% longer) won" in text
    assert "At equal models a twice-as-long answer's odds of winning are ×" in text
    assert "the ranking is: 1. C ▲2 · 2. B · 3. A ▼2." in text
    data = lb.to_dict()
    assert data["length_bias"]["material"] is True and data["rows"][0]["controlled_place"] == 3


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
def test_length_not_preferred_is_reported_as_not_material(store: Store) -> None:
    seed_window(store, prefer_length=0.0, base_length=None)
    lb = build_leaderboard(store, bootstrap=100)
    bias = lb.length_bias
    assert bias is not None and not bias.material
    assert bias.low < 0.5 < bias.high
    assert bias.odds_twice_low is not None and bias.odds_twice_high is not None
    assert bias.odds_twice_low < 1 < bias.odds_twice_high
    assert all(r.controlled_score is None and r.place_change is None for r in lb.rows)
    assert [r.model for r in lb.rows] == ["c", "b", "a"]
    text = render_leaderboard(lb).text
    assert "Not material: scores are not adjusted." in text and "covariate" not in text


def test_no_length_line_without_clearly_different_lengths() -> None:
    rows = RatingRows(task=[1, 1], rater=["u", "u"], scale=["stars"] * 2, model=["a", "b"], value=[5, 1],
                      length=[100, 105])
    pairs = compare(rows).pairs
    assert pairs is not None and len(pairs) == 1
    assert length_bias(pairs) == (None, None)  # 5% longer is not "clearly longer"


def test_pairs_follow_the_ballot_rules() -> None:
    """One ballot of three models: three pairs, each weighted 1/(k−1) = 0.5, with both lengths."""
    rows = RatingRows(task=[1, 1, 1], rater=["u"] * 3, scale=["stars"] * 3, model=["a", "b", "c"],
                      value=[5, 3, 3], length=[900, 300, 100])
    comparisons = compare(rows)
    pairs = comparisons.pairs
    assert pairs is not None
    got = sorted(zip(pairs.first.tolist(), pairs.second.tolist(), pairs.outcome.tolist(), pairs.weight.tolist(),
                     pairs.length_first.tolist(), pairs.length_second.tolist(), strict=True))
    assert got == [(0, 1, 1.0, 0.5, 900.0, 300.0), (0, 2, 1.0, 0.5, 900.0, 100.0), (1, 2, 0.5, 0.5, 300.0, 100.0)]
    bias, scores = length_bias(pairs)
    assert bias is not None and bias.comparisons == 3
    assert bias.longer_win_rate == pytest.approx((1 + 1 + 0.5) / 3)  # a tie counts half
    assert scores is None and bias.odds_twice is None and not bias.material  # too few to fit
    assert compare(RatingRows(task=[1, 1], rater=["u"] * 2, scale=["s"] * 2, model=["a", "b"], value=[1, 2])).pairs is None


def test_covariate_fit_without_variation_is_the_plain_fit() -> None:
    rng = np.random.default_rng(3)
    first = rng.integers(0, 4, 400)
    second = (first + rng.integers(1, 4, 400)) % 4
    outcome = rng.choice([0.0, 0.5, 1.0], 400)
    weight = rng.uniform(0.3, 1.0, 400)
    fit = fit_bt_covariates(first, second, outcome, weight, np.zeros((400, 1)), 4)
    wins = np.zeros((4, 4))
    np.add.at(wins, (first, second), weight * outcome)
    np.add.at(wins, (second, first), weight * (1 - outcome))
    np.testing.assert_allclose(fit.ratings, fit_bt(wins), atol=1e-6)
    assert fit.coefficients[0] == pytest.approx(0.0, abs=1e-9)


def test_covariate_fit_recovers_a_known_effect() -> None:
    rng = np.random.default_rng(1)
    true, effect, n = np.array([0.0, 0.5, 1.0]), 1.5, 20000
    first = rng.integers(0, 3, n)
    second = (first + rng.integers(1, 3, n)) % 3
    feature = rng.uniform(-0.8, 0.8, n)
    won = rng.random(n) < 1 / (1 + np.exp(-(true[first] - true[second] + effect * feature)))
    fit = fit_bt_covariates(first, second, won.astype(float), np.ones(n), feature[:, None], 3)
    assert fit.coefficients[0] == pytest.approx(effect, abs=3 * fit.standard_errors[0])
    assert 0.02 < fit.standard_errors[0] < 0.1
    np.testing.assert_allclose((fit.ratings - fit.ratings[0]) * ALPHA, true, atol=0.08)


def test_clustered_standard_errors_widen_when_comparisons_are_repeated() -> None:
    """The same comparisons copied five times within each task carry no more evidence."""
    rng = np.random.default_rng(2)
    n = 2000
    first = rng.integers(0, 3, n)
    second = (first + rng.integers(1, 3, n)) % 3
    feature = rng.uniform(-0.8, 0.8, n)
    won = (rng.random(n) < 1 / (1 + np.exp(-feature))).astype(float)
    task = np.arange(n)
    once = fit_bt_covariates(first, second, won, np.ones(n), feature[:, None], 3, clusters=task)
    copies = [np.tile(a, 5) for a in (first, second, won, feature, task)]
    naive = fit_bt_covariates(copies[0], copies[1], copies[2], np.ones(5 * n), copies[3][:, None], 3)
    clustered = fit_bt_covariates(copies[0], copies[1], copies[2], np.ones(5 * n), copies[3][:, None], 3,
                                  clusters=copies[4])
    assert naive.standard_errors[0] == pytest.approx(once.standard_errors[0] / np.sqrt(5), rel=0.05)
    assert clustered.standard_errors[0] == pytest.approx(once.standard_errors[0], rel=0.05)
