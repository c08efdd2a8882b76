"""Small statistics for the leaderboard's side columns: Wilson bound, Bayesian average, Rank (UB)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson_lower_bound(successes: float, n: float, z: float = Z95) -> float | None:
    """Lower bound of the Wilson score interval for ``successes`` out of ``n`` (None when n = 0)."""
    interval = wilson_interval(successes, n, z)
    return None if interval is None else interval[0]


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Both ends of the Wilson score interval (None when n = 0)."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - margin) / (1 + z2 / n), (centre + margin) / (1 + z2 / n)


def bayesian_average(values: Sequence[float], prior_mean: float, m: float = 5.0) -> float | None:
    """Mean of ``values`` shrunk towards ``prior_mean`` as if it held ``m`` extra votes."""
    if not len(values):
        return None
    return (prior_mean * m + float(np.sum(values))) / (m + len(values))


def rank_ub(lower: Sequence[float], upper: Sequence[float]) -> list[int]:
    """Rank (UB): 1 + the number of models whose lower bound is above this model's upper bound."""
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    return [1 + int(np.sum(lo > u)) for u in up]
