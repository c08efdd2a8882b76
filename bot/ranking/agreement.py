"""How far two rankings of the same models agree: Kendall's tau-b, and the places where they differ.

Kendall's tau-b is written out here rather than taken from SciPy: the inputs are one value per
model (a handful, at most a few dozen), so the O(n²) count over pairs is exact and instant, and
it is the whole of what we need from SciPy's ~40 MB. The definition (tau-b, ties corrected):

    tau_b = (C − D) / sqrt((P − Tx) · (P − Ty))

with C and D the concordant and discordant pairs, P = n(n−1)/2, and Tx, Ty the pairs tied in x,
in y (a pair tied in both counts in both). It is SciPy's ``kendalltau`` default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of paired values ``x`` and ``y``; None when undefined (fewer than 2
    values, or one side all tied)."""
    if len(x) != len(y):
        raise ValueError("x and y must have the same length")
    n = len(x)
    concordant = discordant = tied_x = tied_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            tied_x += dx == 0
            tied_y += dy == 0
            product = dx * dy
            concordant += product > 0
            discordant += product < 0
    pairs = n * (n - 1) // 2
    denominator = math.sqrt((pairs - tied_x) * (pairs - tied_y))
    return (concordant - discordant) / denominator if denominator else None


def competition_ranks(values: Sequence[float]) -> list[int]:
    """1 for the highest value; ties share the best place ("1224" ranking)."""
    return [1 + sum(other > value for other in values) for value in values]


def ordinal(place: int) -> str:
    """1 → '1st', 2 → '2nd', 11 → '11th', 23 → '23rd'."""
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"
