"""Bradley–Terry MAP fit on the Elo scale, batched over bootstrap replicates.

Ratings are logistic in (ln 10 / 400)(R_i − R_j) around 1000. The prior is one virtual tie per
model against a fixed 1000 (half a win and half a loss), which keeps unbeaten models finite.
Everything works on ``wins`` tensors of shape (..., M, M): ``wins[..., i, j]`` is the (weighted)
number of times model i beat model j, a tie counting half to each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE = 400.0
BASE = 10.0
ANCHOR = 1000.0
ALPHA = np.log(BASE) / SCALE  # Elo points -> natural log-odds
MAX_STEP = 3.0  # natural units per Newton step (~520 Elo), keeps extreme data from overshooting


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_bt(
    wins: np.ndarray, *, prior: float = 1.0, max_iter: int = 100, tol: float = 1e-9
) -> np.ndarray:
    """Fit ratings for ``wins`` of shape (..., M, M); returns Elo-scale ratings of shape (..., M).

    ``prior`` is the number of virtual ties each model plays against a fixed 1000; with
    ``prior=0`` the fit is the plain maximum-likelihood one, centred on a mean of 1000.
    Newton's method on the concave log-likelihood, all batch members at once.
    """
    w = np.asarray(wins, dtype=float)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"wins must have shape (..., M, M), got {w.shape}")
    m = w.shape[-1]
    if m == 0:
        return np.zeros(w.shape[:-1])
    games = w + np.swapaxes(w, -1, -2)
    x = np.zeros(w.shape[:-1])
    eye = np.eye(m, dtype=bool)
    centring = np.full((m, m), 1.0 / m)
    for _ in range(max_iter):
        p = _sigmoid(x[..., :, None] - x[..., None, :])
        grad = (w - games * p).sum(axis=-1)
        q = games * p * (1.0 - p)
        hess = np.where(eye, 0.0, q)
        diag = -q.sum(axis=-1)
        if prior > 0:
            s = _sigmoid(x)
            grad = grad + prior * (0.5 - s)
            diag = diag - prior * s * (1.0 - s)
        else:
            diag = diag - 1e-12
        hess = hess + diag[..., :, None] * eye
        if prior <= 0:
            hess = hess - centring  # gradient sums to zero, so the step keeps the mean
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        step = np.clip(step, -MAX_STEP, MAX_STEP)
        x = x - step
        if not np.all(np.isfinite(x)):
            raise FloatingPointError("Bradley–Terry fit diverged")
        if np.max(np.abs(step)) < tol:
            break
    if prior <= 0:
        x = x - x.mean(axis=-1, keepdims=True)
    return ANCHOR + x / ALPHA


def bootstrap_bt(
    task_wins: np.ndarray,
    *,
    rounds: int = 1000,
    seed: int = 0,
    prior: float = 1.0,
    chunk_cells: int = 4_000_000,
) -> np.ndarray:
    """Ratings for ``rounds`` resamples of the tasks (with replacement): shape (rounds, M).

    ``task_wins`` has shape (T, M, M), one slice per task. Resampled totals are counts @ slices,
    computed in chunks of at most ``chunk_cells`` count cells, then fitted in one batch.
    """
    t, m, _ = task_wins.shape
    if rounds <= 0 or t == 0:
        return np.empty((0, m))
    rng = np.random.default_rng(seed)
    flat = task_wins.reshape(t, m * m)
    per_chunk = max(1, chunk_cells // t)
    totals = np.empty((rounds, m * m))
    for start in range(0, rounds, per_chunk):
        n = min(per_chunk, rounds - start)
        picks = rng.integers(0, t, size=(n, t))
        picks += (np.arange(n) * t)[:, None]
        counts = np.bincount(picks.ravel(), minlength=n * t).reshape(n, t).astype(np.float64)
        totals[start : start + n] = counts @ flat
    return fit_bt(totals.reshape(rounds, m, m), prior=prior)



@dataclass(frozen=True)
class CovariateFit:
    """:func:`fit_bt_covariates`' result: Elo-scale ratings, coefficients and their standard errors."""

    ratings: np.ndarray  # (M,)
    coefficients: np.ndarray  # (K,) natural log-odds per unit of each feature
    standard_errors: np.ndarray  # (K,) cluster-robust when clusters were given


def fit_bt_covariates(
    first: np.ndarray,
    second: np.ndarray,
    outcome: np.ndarray,
    weight: np.ndarray,
    features: np.ndarray,
    n_models: int,
    *,
    clusters: np.ndarray | None = None,
    prior: float = 1.0,
    ridge: float = 1e-3,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> CovariateFit:
    """Bradley–Terry with covariates per comparison, as Chatbot Arena's style control.

    P(first beats second) = σ(α(R_first − R_second) + features · γ): each comparison's
    ``features`` row (K values, e.g. the normalised length difference) explains part of the
    outcome, so the ratings are what remains. Same prior as :func:`fit_bt` (``prior`` > 0 virtual
    ties against 1000 per model); γ gets a tiny ridge so it stays defined when the features
    never vary. Standard errors of γ come from the inverse Hessian, made robust to comparisons
    of one cluster (``clusters``: e.g. each comparison's task) being related (a sandwich estimate).
    """
    if prior <= 0:
        raise ValueError("fit_bt_covariates needs prior > 0 (the virtual ties fix the scale)")
    f, s = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    y, w = np.asarray(outcome, dtype=float), np.asarray(weight, dtype=float)
    feats = np.asarray(features, dtype=float).reshape(len(y), -1)
    m, k = n_models, feats.shape[1]
    x, gamma = np.zeros(m), np.zeros(k)

    def derivatives() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = _sigmoid(x[f] - x[s] + feats @ gamma)
        r, q = w * (y - p), w * p * (1.0 - p)
        sx = _sigmoid(x)
        grad = np.concatenate([
            np.bincount(f, r, m) - np.bincount(s, r, m) + prior * (0.5 - sx),
            feats.T @ r - ridge * gamma,
        ])
        cross = np.bincount(f * m + s, q, m * m).reshape(m, m)
        hxx = cross + cross.T
        hxx[np.diag_indices(m)] = -(np.bincount(f, q, m) + np.bincount(s, q, m)) - prior * sx * (1.0 - sx)
        qf = q[:, None] * feats
        hxg = np.stack([np.bincount(s, qf[:, c], m) - np.bincount(f, qf[:, c], m) for c in range(k)], axis=1)
        hgg = -(feats.T @ qf) - ridge * np.eye(k)
        return grad, np.block([[hxx, hxg], [hxg.T, hgg]]), r

    for _ in range(max_iter):
        grad, hess, _ = derivatives()
        step = np.clip(np.linalg.solve(hess, grad), -MAX_STEP, MAX_STEP)
        x, gamma = x - step[:m], gamma - step[m:]
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(gamma))):
            raise FloatingPointError("Bradley–Terry fit with covariates diverged")
        if np.max(np.abs(step)) < tol:
            break
    _, hess, r = derivatives()
    inverse = np.linalg.inv(-hess)
    if clusters is None:
        covariance = inverse
    else:
        _, cluster = np.unique(np.asarray(clusters), return_inverse=True)
        n_clusters = int(cluster.max(initial=-1)) + 1
        cells = n_clusters * m  # each cluster's summed score (gradient) contributions, then γ's
        by_model = np.bincount(cluster * m + f, r, cells) - np.bincount(cluster * m + s, r, cells)
        by_feature = [np.bincount(cluster, r * feats[:, c], n_clusters) for c in range(k)]
        scores = np.column_stack([by_model.reshape(n_clusters, m), *by_feature])
        correction = n_clusters / max(n_clusters - 1, 1)
        covariance = correction * inverse @ (scores.T @ scores) @ inverse
    errors = np.sqrt(np.maximum(np.diag(covariance)[m:], 0.0))
    return CovariateFit(ANCHOR + x / ALPHA, gamma, errors)
