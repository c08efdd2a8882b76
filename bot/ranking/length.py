"""Length bias: do longer answers win more often within ballots, and the ranking with length controlled.

Two figures:

- **Within ballots**: among comparisons where one answer is clearly longer (at least
  ``LONGER_BY`` times the other's characters), the weighted share won by the longer one, with its
  95% Wilson interval (50%: raters do not favour length). It mixes a taste for length with better
  models writing more (or less), so it does not decide alone.
- **At equal models**: the Bradley–Terry fit refitted with the normalised length difference
  (L₁ − L₂)/(L₁ + L₂) as a covariate (Chatbot Arena's style control). Its coefficient, shown as
  the odds multiplier of a twice-as-long answer, with a 95% interval robust to ratings of one
  task being related, is what raters reward length by when the model is held fixed.

The bias is **material** when there are at least ``MIN_PAIRS`` clear comparisons, the
coefficient's interval excludes zero, and a twice-as-long answer's odds change by at least
``MATERIAL_ODDS`` (10%) either way. Then the leaderboard shows the length-controlled scores and
each model's place change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.ranking.ballots import Pairs
from bot.ranking.bt import fit_bt_covariates
from bot.ranking.stats import Z95, wilson_interval

LONGER_BY = 1.1
MIN_PAIRS = 20
MATERIAL_ODDS = 1.1
TWICE_AS_LONG = 1 / 3  # (2L − L) / (2L + L): the normalised difference of a twice-as-long answer


@dataclass(frozen=True)
class LengthBias:
    """How the clearly longer answer fared within ballots, and what length is worth at equal models."""

    comparisons: int
    longer_win_rate: float
    low: float
    high: float
    material: bool = False
    coefficient: float | None = None  # log-odds per unit of normalised length difference (None: too few)
    odds_twice: float | None = None  # odds multiplier of a twice-as-long answer at equal models
    odds_twice_low: float | None = None  # its 95% interval
    odds_twice_high: float | None = None


def length_difference(pairs: Pairs) -> np.ndarray:
    """(L_first − L_second) / (L_first + L_second) per comparison (0 when both are empty)."""
    total = pairs.length_first + pairs.length_second
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pairs.length_first - pairs.length_second) / total, 0.0)


def length_bias(pairs: Pairs, n_models: int | None = None) -> tuple[LengthBias | None, np.ndarray | None]:
    """The figures for these comparisons, and the length-controlled scores per model index.

    Returns (None, None) when no comparison had a clearly longer answer; the scores are None
    unless there were enough comparisons to fit (``n_models`` defaults to the highest index + 1).
    """
    a, b = pairs.length_first, pairs.length_second
    first_longer = a >= LONGER_BY * b
    clear = (first_longer | (b >= LONGER_BY * a)) & (np.maximum(a, b) > 0)
    n = int(clear.sum())
    if n == 0:
        return None, None
    won = np.where(first_longer[clear], pairs.outcome[clear], 1.0 - pairs.outcome[clear])
    w = pairs.weight[clear]
    rate = float(np.sum(w * won) / np.sum(w))
    low, high = wilson_interval(rate * n, n) or (0.0, 1.0)
    if n < MIN_PAIRS:
        return LengthBias(n, rate, low, high), None
    models = n_models if n_models is not None else int(max(pairs.first.max(), pairs.second.max())) + 1
    fit = fit_bt_covariates(pairs.first, pairs.second, pairs.outcome, pairs.weight, length_difference(pairs)[:, None],
                            models, clusters=pairs.task)
    gamma, error = float(fit.coefficients[0]), float(fit.standard_errors[0])
    odds = math.exp(gamma * TWICE_AS_LONG)
    odds_low, odds_high = (math.exp((gamma + sign * Z95 * error) * TWICE_AS_LONG) for sign in (-1, 1))
    significant = odds_low > 1 or odds_high < 1
    sizeable = max(odds, 1 / odds) >= MATERIAL_ODDS
    bias = LengthBias(n, rate, low, high, significant and sizeable, gamma, odds, odds_low, odds_high)
    return bias, fit.ratings
