"""Benchmark the leaderboard's ranking: speed, and how well it recovers a known order.

Synthetic raters (each with a personal offset and noise) rate answers of models with known true
strengths. Prints (a) ranking time (pairs + BT fit + bootstrap B=1000) for 10k/100k/1M ratings and
(b) the mean Kendall tau (and exact-order share) between the true order and the order found by
this method versus a plain mean of stars, at 20, 50 and 200 ballots.

    .venv/bin/python bench/leaderboard.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ranking import RatingRows, compare, fit_bt, rank

MODELS = [f"m{i}" for i in range(8)]
TRUE = np.linspace(1150, 850, len(MODELS))  # m0 strongest


def simulate(n_ballots: int, rng: np.random.Generator, *, raters: int = 30, rosters: bool = False) -> RatingRows:
    """``n_ballots`` star ballots; each rates 2–8 of the models on one task.

    With ``rosters`` each rater only ever sees a fixed subset of 3–8 models (a channel's roster),
    so generous and harsh raters are spread unevenly over the models.
    """
    offset = rng.normal(0, 0.8, raters)  # some raters are generous, some harsh
    noise = rng.uniform(0.3, 1.2, raters)
    activity = rng.pareto(1.5, raters) + 0.2  # a few raters do most of the rating
    activity /= activity.sum()
    # A rater tends to see a favourite subset of models (their team's roster), so a plain mean
    # mixes generous and harsh raters unevenly across models.
    taste = rng.uniform(0.2, 1.0, (raters, len(MODELS)))
    if rosters:
        for r in range(raters):
            hidden = rng.choice(len(MODELS), size=int(rng.integers(0, len(MODELS) - 2)), replace=False)
            taste[r, hidden] = 0.0
    task, rater, model, value = [], [], [], []
    who = rng.choice(raters, size=n_ballots, p=activity)
    for b in range(n_ballots):
        r = who[b]
        k = int(rng.integers(2, int(np.count_nonzero(taste[r])) + 1))
        p = taste[r] / taste[r].sum()
        picked = rng.choice(len(MODELS), size=k, replace=False, p=p)
        latent = 3 + (TRUE[picked] - 1000) / 150 + offset[r] + rng.normal(0, noise[r], k)
        stars = np.clip(np.rint(latent), 1, 5)
        task += [b] * k
        rater += [r] * k
        model += [MODELS[i] for i in picked]
        value += stars.tolist()
    return RatingRows(task=task, rater=rater, scale=["stars"] * len(task), model=model, value=value)


def simulate_fast(n_ratings: int, rng: np.random.Generator, raters: int = 200) -> RatingRows:
    """Vectorised generator for the timing runs: tasks with all 8 answers, 1–3 raters each."""
    m = len(MODELS)
    per_task = m * 2
    n_tasks = max(1, n_ratings // per_task)
    task = np.repeat(np.arange(n_tasks), per_task)
    rater_of = rng.integers(0, raters, size=(n_tasks, 2))
    rater = np.repeat(rater_of, m, axis=1).ravel()
    model = np.tile(np.arange(m), n_tasks * 2)
    offset = rng.normal(0, 0.8, raters)
    latent = 3 + (TRUE[model] - 1000) / 150 + offset[rater] + rng.normal(0, 0.8, len(model))
    value = np.clip(np.rint(latent), 1, 5)
    names = np.array(MODELS)[model]
    return RatingRows(task=task, rater=rater, scale=np.full(len(task), "stars"), model=names, value=value)


def kendall_tau(order: list[str]) -> float:
    """Kendall tau between ``order`` (best first) and the true order MODELS."""
    pos = [MODELS.index(x) for x in order]
    n = len(pos)
    concordant = sum(1 if pos[i] < pos[j] else -1 for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def order_bt(rows: RatingRows) -> list[str]:
    c = compare(rows, MODELS)
    scores = fit_bt(c.total)
    return [MODELS[i] for i in np.argsort(-scores, kind="stable")]


def order_mean(rows: RatingRows) -> list[str]:
    model = np.asarray(rows.model)
    value = np.asarray(rows.value, dtype=float)
    means = [value[model == name].mean() if (model == name).any() else 0.0 for name in MODELS]
    return [MODELS[i] for i in np.argsort(-np.asarray(means), kind="stable")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials, skip 1M")
    args = parser.parse_args()
    rng = np.random.default_rng(7)

    print("(a) ranking time: 8 models, bootstrap B=1000 (pairs + fit + bootstrap)")
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    for n in sizes:
        rows = simulate_fast(n, rng)
        start = time.perf_counter()
        comparisons = compare(rows)
        mid = time.perf_counter()
        standings = rank(comparisons, bootstrap=1000)
        end = time.perf_counter()
        print(
            f"  {len(rows.model):>9,} ratings, {len(comparisons.tasks):>7,} tasks: "
            f"{end - start:6.3f} s  (pairs {mid - start:.3f} s, fit+bootstrap {end - mid:.3f} s)"
            f"  top: {standings[0].model}"
        )

    trials = 40 if args.quick else 200
    for rosters in (False, True):
        setting = ("each rater sees a fixed roster of 3-8 models" if rosters
                   else "each ballot rates a random 2-8 of the models")
        print(f"\n(b) recovering the true order of 8 models, {trials} trials each; star ballots by 30 "
              f"raters with personal offsets; {setting}")
        print(f"  {'ballots':>7}  {'BT tau':>7}  {'BT exact':>8}  {'mean tau':>8}  {'mean exact':>10}")
        for n_ballots in (20, 50, 200):
            bt_tau, mean_tau, bt_exact, mean_exact = [], [], 0, 0
            for _ in range(trials):
                rows = simulate(n_ballots, rng, rosters=rosters)
                a, b = order_bt(rows), order_mean(rows)
                bt_tau.append(kendall_tau(a))
                mean_tau.append(kendall_tau(b))
                bt_exact += a == MODELS
                mean_exact += b == MODELS
            print(
                f"  {n_ballots:>7}  {np.mean(bt_tau):7.3f}  {bt_exact / trials:8.0%}  "
                f"{np.mean(mean_tau):8.3f}  {mean_exact / trials:10.0%}"
            )

if __name__ == "__main__":
    main()
