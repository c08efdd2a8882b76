"""The whole ranking: comparisons → point fit, bootstrap intervals, Rank (UB)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bot.ranking.ballots import Comparisons
from bot.ranking.bt import bootstrap_bt, fit_bt
from bot.ranking.stats import rank_ub


@dataclass(frozen=True)
class Standing:
    """One model's place: score with its 95% bootstrap interval and Rank (UB)."""

    model: str
    score: float
    lower: float
    upper: float
    rank: int
    ballots: int
    raters: int


def data_seed(comparisons: Comparisons) -> int:
    """A seed derived from the data, so the same ratings always give the same intervals."""
    digest = hashlib.sha256()
    digest.update("\x00".join(comparisons.models).encode())
    digest.update(np.round(comparisons.wins, 9).tobytes())
    return int.from_bytes(digest.digest()[:8], "big")


def rank(comparisons: Comparisons, *, bootstrap: int = 1000, prior: float = 1.0) -> list[Standing]:
    """Standings for every model that met another in a ballot, best first."""
    present = np.flatnonzero(comparisons.ballots > 0)
    if len(present) == 0:
        return []
    wins = comparisons.wins[:, present][:, :, present]
    names = [comparisons.models[i] for i in present]
    score = fit_bt(wins.sum(axis=0), prior=prior)
    if bootstrap > 0:
        samples = bootstrap_bt(wins, rounds=bootstrap, seed=data_seed(comparisons), prior=prior)
        lower, upper = np.percentile(samples, [2.5, 97.5], axis=0)
        lower, upper = np.minimum(lower, score), np.maximum(upper, score)
    else:
        lower, upper = score.copy(), score.copy()
    ranks = rank_ub(lower, upper)
    out = [
        Standing(
            model=names[k],
            score=float(score[k]),
            lower=float(lower[k]),
            upper=float(upper[k]),
            rank=ranks[k],
            ballots=int(comparisons.ballots[i]),
            raters=int(comparisons.raters[i]),
        )
        for k, i in enumerate(present)
    ]
    return sorted(out, key=lambda s: (s.rank, -s.score, s.model))
