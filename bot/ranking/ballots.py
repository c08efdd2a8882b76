"""Ballots to pairwise outcomes.

A ballot is one (task, rater, scale): the ratings one rater gave on one scale to the answers of
one task. Every pair of models in a ballot yields an outcome (win 1, loss 0, tie 0.5) weighted
1/(k−1), k being the number of models in the ballot, so each ballot weighs the same per model and
a rater's personal offset cancels out. Outcomes are summed per task into (T, M, M) ``wins``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RatingRows:
    """Column arrays, one entry per rating. ``first`` marks the answer shown first in its task."""

    task: Sequence[object]
    rater: Sequence[object]
    scale: Sequence[object]
    model: Sequence[str]
    value: Sequence[float]
    first: Sequence[bool] | None = None
    length: Sequence[float] | None = None  # the rated answer's length; when given, pairs are kept


@dataclass(frozen=True)
class Pairs:
    """Every within-ballot comparison (kept when ratings carry lengths), one entry per pair.

    ``outcome`` is 1 when model ``first`` won, 0 when ``second`` won, 0.5 for a tie; ``weight`` is
    the ballot's 1/(k−1); ``task`` indexes ``Comparisons.tasks``; lengths are the two answers'.
    """

    task: np.ndarray
    first: np.ndarray
    second: np.ndarray
    outcome: np.ndarray
    weight: np.ndarray
    length_first: np.ndarray
    length_second: np.ndarray

    def __len__(self) -> int:
        return len(self.outcome)


@dataclass(frozen=True)
class Comparisons:
    """Pairwise outcomes per task, plus per-model ballot and rater counts."""

    models: list[str]
    tasks: list[object]
    wins: np.ndarray  # (T, M, M)
    ballots: np.ndarray  # (M,) ballots in which the model met at least one other model
    raters: np.ndarray  # (M,) distinct raters over those ballots
    first_score: float  # weighted outcomes won by the first-shown answer against others
    first_weight: float  # weighted comparisons that involved the first-shown answer
    first_pairs: int  # number of such comparisons (unweighted)
    n_ballots: int = 0  # ballots comparing at least two models
    pairs: Pairs | None = None  # per-comparison records, when the rows carried answer lengths

    @property
    def total(self) -> np.ndarray:
        """All tasks' wins summed: (M, M)."""
        return self.wins.sum(axis=0)


def _codes(values: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (sorted) and each entry's index among them."""
    array = np.asarray(values)
    if array.dtype == object:
        array = array.astype(str)
    uniques, inverse = np.unique(array, return_inverse=True)
    return uniques, inverse.astype(np.int64).reshape(-1)


def compare(rows: RatingRows, models: Sequence[str] | None = None) -> Comparisons:
    """Turn rating rows into per-task pairwise outcomes over ``models`` (default: all rated)."""
    n = len(rows.model)
    model_names = sorted(set(map(str, rows.model))) if models is None else list(models)
    m = len(model_names)
    index = {name: i for i, name in enumerate(model_names)}
    empty = Comparisons(model_names, [], np.zeros((0, m, m)), np.zeros(m, int), np.zeros(m, int), 0.0, 0.0, 0)
    if n == 0 or m == 0:
        return empty
    model_values, model_codes = _codes(rows.model)
    model = np.array([index.get(str(x), -1) for x in model_values], dtype=np.int64)[model_codes]
    keep = model >= 0
    task_names, task = _codes(rows.task)
    _, rater = _codes(rows.rater)
    _, scale = _codes(rows.scale)
    value = np.asarray(rows.value, dtype=float)
    first = np.zeros(n, bool) if rows.first is None else np.asarray(rows.first, dtype=bool)
    length = np.zeros(n) if rows.length is None else np.asarray(rows.length, dtype=float)
    task, rater, scale, model, value, first, length = (
        a[keep] for a in (task, rater, scale, model, value, first, length)
    )

    n_r, n_s = int(rater.max(initial=0)) + 1, int(scale.max(initial=0)) + 1
    key = (task * n_r + rater) * n_s + scale
    ballot_keys, ballot = np.unique(key, return_inverse=True)
    nb = len(ballot_keys)
    cell = ballot * m + model
    sums = np.bincount(cell, weights=value, minlength=nb * m).reshape(nb, m)
    counts = np.bincount(cell, minlength=nb * m).reshape(nb, m)
    present = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        v = sums / counts  # a duplicate rating of one model in one ballot is averaged
    is_first = np.bincount(cell, weights=first.astype(float), minlength=nb * m).reshape(nb, m) > 0
    keep_pairs = rows.length is not None
    lengths = np.zeros((nb, m))
    if keep_pairs:
        with np.errstate(invalid="ignore", divide="ignore"):
            lengths = np.bincount(cell, weights=length, minlength=nb * m).reshape(nb, m) / counts

    k = present.sum(axis=1)
    multi = k >= 2
    ballot_task = ballot_keys // (n_r * n_s)
    ballot_rater = (ballot_keys // n_s) % n_r
    v, present, is_first, k, lengths = v[multi], present[multi], is_first[multi], k[multi], lengths[multi]
    ballot_task, ballot_rater = ballot_task[multi], ballot_rater[multi]

    used_tasks, tpos = np.unique(ballot_task, return_inverse=True)
    t = len(used_tasks)
    weight = 1.0 / np.maximum(k - 1, 1)
    acc = np.zeros(t * m * m)
    first_score = first_weight = 0.0
    first_pairs = 0
    pair_parts: list[tuple[np.ndarray, ...]] = []
    for i in range(m):
        for j in range(i + 1, m):
            both = present[:, i] & present[:, j]
            if not both.any():
                continue
            vi, vj, w, tt = v[both, i], v[both, j], weight[both], tpos[both]
            outcome = (vi > vj) + 0.5 * (vi == vj)
            if keep_pairs:
                pair_parts.append((tt, np.full(len(tt), i), np.full(len(tt), j), outcome, w,
                                   lengths[both, i], lengths[both, j]))
            acc += np.bincount(tt * m * m + i * m + j, weights=w * outcome, minlength=t * m * m)
            acc += np.bincount(tt * m * m + j * m + i, weights=w * (1 - outcome), minlength=t * m * m)
            fi, fj = is_first[both, i], is_first[both, j]
            one = fi ^ fj
            if one.any():
                won = np.where(fi[one], outcome[one], 1 - outcome[one])
                first_score += float(np.sum(w[one] * won))
                first_weight += float(np.sum(w[one]))
                first_pairs += int(one.sum())
    ballots = present.sum(axis=0)
    rater_model = np.unique(_rater_model_keys(ballot_rater, present, m))
    raters = np.bincount(rater_model % m, minlength=m)
    return Comparisons(
        models=model_names,
        tasks=[str(task_names[x]) for x in used_tasks],
        wins=acc.reshape(t, m, m),
        ballots=ballots.astype(int),
        raters=raters.astype(int),
        first_score=first_score,
        first_weight=first_weight,
        first_pairs=first_pairs,
        n_ballots=len(k),
        pairs=_pairs(pair_parts) if keep_pairs else None,
    )


def _pairs(parts: list[tuple[np.ndarray, ...]]) -> Pairs:
    if not parts:
        empty = np.zeros(0)
        return Pairs(empty.astype(int), empty.astype(int), empty.astype(int), empty, empty, empty, empty)
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return Pairs(columns[0].astype(int), columns[1].astype(int), columns[2].astype(int), *columns[3:])


def _rater_model_keys(ballot_rater: np.ndarray, present: np.ndarray, m: int) -> np.ndarray:
    rows, cols = np.nonzero(present)
    return ballot_rater[rows] * m + cols
