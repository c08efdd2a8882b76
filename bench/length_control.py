"""Benchmark the length check: its cost, and whether controlling for length recovers the true order.

Synthetic tasks: 8 models of known strength, each writing answers of a typical length (the
weaker models the wordier, so a taste for length flips the order), varied ±60% per answer;
raters' stars follow strength + ``beta`` × ln(length) + their offset + noise. Prints

(a) the time of pairs with lengths + the length-bias figure + the covariate Bradley–Terry fit at
    10k/100k/1M ratings;
(b) for beta = 0 (no taste for length) and beta = 1 (a strong one), over trials of 200 ballots:
    how often the figure is material, and the mean Kendall tau with the true order of the plain
    fit and of the length-controlled fit.

    .venv/bin/python bench/length_control.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ranking import RatingRows, compare, fit_bt
from bot.ranking.length import length_bias

MODELS = [f"m{i}" for i in range(8)]
TRUE = np.linspace(1150, 850, len(MODELS))  # m0 strongest
TYPICAL_LENGTH = np.linspace(600, 3000, len(MODELS))  # m0 terse, m7 wordy


def simulate(n_tasks: int, rng: np.random.Generator, beta: float, raters: int = 200) -> RatingRows:
    """Tasks with all 8 answers, each rated by 2 raters on stars."""
    m = len(MODELS)
    per_task = m * 2
    task = np.repeat(np.arange(n_tasks), per_task)
    rater = np.repeat(rng.integers(0, raters, size=(n_tasks, 2)), m, axis=1).ravel()
    model = np.tile(np.arange(m), n_tasks * 2)
    length_of = TYPICAL_LENGTH[None, :] * rng.uniform(0.4, 1.6, (n_tasks, m))
    length = np.repeat(length_of, 2, axis=0).ravel()  # both raters see the same answers
    offset = rng.normal(0, 0.8, raters)
    latent = (3 + (TRUE[model] - 1000) / 150 + beta * np.log(length / 1000) + offset[rater]
              + rng.normal(0, 0.8, len(model)))
    value = np.clip(np.rint(latent), 1, 5)
    return RatingRows(task=task, rater=rater, scale=np.full(len(task), "stars"), model=np.array(MODELS)[model],
                      value=value, length=length)


def kendall_tau(scores: np.ndarray, names: list[str]) -> float:
    order = [names[i] for i in np.argsort(-scores, kind="stable")]
    pos = [MODELS.index(x) for x in order]
    n = len(pos)
    concordant = sum(1 if pos[i] < pos[j] else -1 for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials, skip 1M")
    args = parser.parse_args()
    rng = np.random.default_rng(11)

    print("(a) length check time: 8 models (pairs with lengths + figure + covariate fit)")
    for n in [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]:
        rows = simulate(n // 16, rng, beta=1.0)
        start = time.perf_counter()
        comparisons = compare(rows)
        mid = time.perf_counter()
        assert comparisons.pairs is not None
        bias, _ = length_bias(comparisons.pairs, len(comparisons.models))
        end = time.perf_counter()
        print(f"  {len(rows.model):>9,} ratings, {len(comparisons.pairs):>9,} pairs: {end - start:6.3f} s "
              f"(pairs {mid - start:.3f} s, figure + fit {end - mid:.3f} s); longer won "
              f"{bias.longer_win_rate if bias else float('nan'):.0%}")

    trials = 20 if args.quick else 100
    print(f"\n(b) 200 ballots (100 tasks x 2 raters), {trials} trials each; weaker models write longer answers")
    print(f"  {'beta':>4}  {'material':>8}  {'plain tau':>9}  {'controlled tau':>14}")
    for beta in (0.0, 1.0):
        material, plain, controlled = 0, [], []
        for _ in range(trials):
            comparisons = compare(simulate(100, rng, beta))
            assert comparisons.pairs is not None
            bias, scores = length_bias(comparisons.pairs, len(comparisons.models))
            assert scores is not None
            material += bool(bias and bias.material)
            plain.append(kendall_tau(fit_bt(comparisons.total), comparisons.models))
            controlled.append(kendall_tau(scores, comparisons.models))
        print(f"  {beta:>4.1f}  {material / trials:>8.0%}  {np.mean(plain):>9.3f}  {np.mean(controlled):>14.3f}")


if __name__ == "__main__":
    main()
