"""Ranking math (pure numpy): ballots → pairwise outcomes → Bradley–Terry fit → bootstrap intervals.

See the README, "The CLI", for the method. Nothing here touches storage or chat.
"""

from bot.ranking.ballots import Comparisons, RatingRows, compare
from bot.ranking.bt import ALPHA, ANCHOR, bootstrap_bt, fit_bt
from bot.ranking.rank import Standing, rank
from bot.ranking.stats import bayesian_average, rank_ub, wilson_interval, wilson_lower_bound

__all__ = [
    "ALPHA",
    "ANCHOR",
    "Comparisons",
    "RatingRows",
    "Standing",
    "bayesian_average",
    "bootstrap_bt",
    "compare",
    "fit_bt",
    "rank",
    "rank_ub",
    "wilson_interval",
    "wilson_lower_bound",
]
