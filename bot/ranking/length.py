"""Length bias: do longer answers win more often within ballots, and the ranking with length controlled.

The figure: among within-ballot comparisons where one answer is clearly longer (at least
``LONGER_BY`` times the other's characters), the weighted share won by the longer one, with its
95% Wilson interval; 50% means raters do not favour length. It mixes two things, a taste for
length and better models writing more, so when it is material (at least ``MIN_PAIRS``
comparisons, the interval excludes 50% and the share is ``MATERIAL_SHIFT`` or more away from it)
the ranking is refitted with the normalised length difference (L₁ − L₂)/(L₁ + L₂) as a covariate
of the Bradley–Terry model (Chatbot Arena's style control): the scores that remain are what
raters preferred at equal length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.ranking.ballots import Pairs
from bot.ranking.bt import fit_bt_covariates
from bot.ranking.stats import wilson_interval

LONGER_BY = 1.1
MIN_PAIRS = 20
MATERIAL_SHIFT = 0.05


@dataclass(frozen=True)
class LengthBias:
    """How the clearly longer answer fared within ballots."""

    comparisons: int
    longer_win_rate: float
    low: float
    high: float
    material: bool


def length_bias(pairs: Pairs) -> LengthBias | None:
    """The figure for these comparisons, or None when no comparison had a clearly longer answer."""
    a, b = pairs.length_first, pairs.length_second
    first_longer = a >= LONGER_BY * b
    second_longer = b >= LONGER_BY * a
    clear = (first_longer | second_longer) & (np.maximum(a, b) > 0)
    n = int(clear.sum())
    if n == 0:
        return None
    won = np.where(first_longer[clear], pairs.outcome[clear], 1.0 - pairs.outcome[clear])
    w = pairs.weight[clear]
    rate = float(np.sum(w * won) / np.sum(w))
    low, high = wilson_interval(rate * n, n) or (0.0, 1.0)
    material = n >= MIN_PAIRS and (low > 0.5 or high < 0.5) and abs(rate - 0.5) >= MATERIAL_SHIFT
    return LengthBias(n, rate, low, high, material)


def length_difference(pairs: Pairs) -> np.ndarray:
    """(L_first − L_second) / (L_first + L_second) per comparison (0 when both are empty)."""
    total = pairs.length_first + pairs.length_second
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pairs.length_first - pairs.length_second) / total, 0.0)


def length_controlled_scores(pairs: Pairs, n_models: int, *, prior: float = 1.0) -> tuple[np.ndarray, float]:
    """Elo-scale scores per model index with answer length as a covariate, and its coefficient.

    The coefficient is in natural log-odds per unit of normalised length difference: positive
    means the longer answer wins more often than the models alone explain.
    """
    scores, gamma = fit_bt_covariates(
        pairs.first, pairs.second, pairs.outcome, pairs.weight, length_difference(pairs)[:, None],
        n_models, prior=prior,
    )
    return scores, float(gamma[0])
