"""The ranking math: the worked cases from issue 5 and DESIGN.md, and its invariances."""

from __future__ import annotations

import numpy as np
import pytest

from bot.ranking import (
    RatingRows,
    bayesian_average,
    bootstrap_bt,
    compare,
    fit_bt,
    rank,
    rank_ub,
    wilson_lower_bound,
)


def test_three_wins_one_loss_without_prior_is_400_log10_3_apart() -> None:
    r = fit_bt(np.array([[0.0, 3.0], [1.0, 0.0]]), prior=0)
    assert r[0] - r[1] == pytest.approx(190.85, abs=0.01)
    assert r.mean() == pytest.approx(1000)


def test_prior_three_one_and_four_nil() -> None:
    a, b = fit_bt(np.array([[0.0, 3.0], [1.0, 0.0]]))
    assert (a, b) == (pytest.approx(1082.4, abs=0.5), pytest.approx(917.6, abs=0.5))
    a, b = fit_bt(np.array([[0.0, 4.0], [0.0, 0.0]]))
    assert (a, b) == (pytest.approx(1223.5, abs=0.5), pytest.approx(776.5, abs=0.5))


def test_batched_fit_matches_single_fits() -> None:
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 6, size=(5, 4, 4)).astype(float)
    batch[:, range(4), range(4)] = 0
    together = fit_bt(batch)
    apart = np.stack([fit_bt(b) for b in batch])
    np.testing.assert_allclose(together, apart, atol=1e-6)


def test_wilson_lower_bound() -> None:
    assert wilson_lower_bound(8, 10) == pytest.approx(0.490, abs=0.0005)
    assert wilson_lower_bound(45, 50) == pytest.approx(0.786, abs=0.0005)
    assert wilson_lower_bound(0, 0) is None


def test_bayesian_average() -> None:
    assert bayesian_average([5, 5], prior_mean=3, m=5) == pytest.approx(3.571, abs=0.0005)
    assert bayesian_average([], prior_mean=3, m=5) is None


def test_rank_ub() -> None:
    assert rank_ub([1050, 1000, 900], [1120, 1060, 990]) == [1, 1, 3]


def _rows(ballots: list[tuple[str, str, dict[str, float]]], scale: str = "stars") -> RatingRows:
    task, rater, model, value = [], [], [], []
    for t, r, votes in ballots:
        for m, v in votes.items():
            task.append(t)
            rater.append(r)
            model.append(m)
            value.append(v)
    return RatingRows(task=task, rater=rater, scale=[scale] * len(task), model=model, value=value)


def test_pairs_weighted_one_over_k_minus_one_with_ties() -> None:
    c = compare(_rows([("t1", "u1", {"a": 5, "b": 3, "c": 3})]))
    assert c.models == ["a", "b", "c"]
    np.testing.assert_allclose(c.total, [[0, 0.5, 0.5], [0, 0, 0.25], [0, 0.25, 0]])
    # Each model's games in the ballot sum to one: every ballot weighs the same per model.
    np.testing.assert_allclose((c.total + c.total.T).sum(axis=1), [1, 1, 1])


def test_single_answer_ballots_give_no_pairs() -> None:
    c = compare(_rows([("t1", "u1", {"a": 5}), ("t2", "u1", {"b": 1})]))
    assert c.total.sum() == 0 and list(c.ballots) == [0, 0]
    assert rank(c) == []


def test_thumbs_and_stars_are_separate_ballots() -> None:
    rows = RatingRows(
        task=["t"] * 4, rater=["u"] * 4, scale=["thumbs", "thumbs", "stars", "stars"],
        model=["a", "b", "a", "b"], value=[1, 0, 2, 4],
    )
    c = compare(rows)
    np.testing.assert_allclose(c.total, [[0, 1], [1, 0]])  # a won on thumbs, b on stars
    assert list(c.ballots) == [2, 2] and list(c.raters) == [1, 1]


def test_a_generous_rater_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    ballots = []
    for t in range(30):
        for rater in ("u1", "u2", "u3"):
            models = rng.choice(list("abcd"), size=int(rng.integers(2, 5)), replace=False)
            ballots.append((f"t{t}", rater, {m: float(rng.integers(1, 5)) for m in models}))
    shifted = [(t, r, {m: v + 1 for m, v in votes.items()} if r == "u2" else votes) for t, r, votes in ballots]
    before, after = rank(compare(_rows(ballots)), bootstrap=200), rank(compare(_rows(shifted)), bootstrap=200)
    assert [(s.model, s.rank) for s in before] == [(s.model, s.rank) for s in after]
    assert [s.score for s in before] == pytest.approx([s.score for s in after])


def test_same_data_same_intervals_and_order_independent() -> None:
    ballots = [(f"t{i}", f"u{i % 3}", {"a": 5, "b": 3, "c": 1 + i % 5}) for i in range(20)]
    first = rank(compare(_rows(ballots)), bootstrap=300)
    second = rank(compare(_rows(list(reversed(ballots)))), bootstrap=300)
    assert first == second
    a = next(s for s in first if s.model == "a")
    assert a.lower < a.score < a.upper


def test_bootstrap_interval_narrows_with_more_data() -> None:
    few = [(f"t{i}", "u1", {"a": 4, "b": 2 if i % 3 else 5}) for i in range(9)]
    many = [(f"t{i}", "u1", {"a": 4, "b": 2 if i % 3 else 5}) for i in range(90)]
    width = lambda ss: next(s.upper - s.lower for s in ss if s.model == "a")  # noqa: E731
    assert width(rank(compare(_rows(many)))) < width(rank(compare(_rows(few))))


def test_clear_winner_ranks_alone_and_ties_share_rank() -> None:
    ballots = [(f"t{i}", f"u{i % 4}", {"a": 5, "b": 2 + i % 2, "c": 3 - i % 2}) for i in range(60)]
    standings = rank(compare(_rows(ballots)))
    assert [s.model for s in standings][0] == "a"
    ranks = {s.model: s.rank for s in standings}
    assert ranks == {"a": 1, "b": 2, "c": 2}


def test_bootstrap_chunks_give_the_same_result() -> None:
    rng = np.random.default_rng(5)
    wins = rng.random((40, 3, 3))
    wins[:, range(3), range(3)] = 0
    one = bootstrap_bt(wins, rounds=50, seed=9)
    chunked = bootstrap_bt(wins, rounds=50, seed=9, chunk_cells=40 * 7)
    assert one.shape == (50, 3)
    assert not np.allclose(one, one[0])  # the replicates differ from each other
    np.testing.assert_allclose(one, chunked)


def test_position_bias_counts_first_shown_answer() -> None:
    rows = RatingRows(
        task=["t1"] * 3 + ["t2"] * 2, rater=["u"] * 5, scale=["stars"] * 5,
        model=["a", "b", "c", "a", "b"], value=[5, 3, 3, 1, 2], first=[True, False, False, False, True],
    )
    c = compare(rows)
    assert c.first_pairs == 3
    assert c.first_score == pytest.approx(c.first_weight)  # the first-shown answer won every time
