"""Empirical-Bayes shrinkage of measured deltas by their standard errors.

Responses are coordinated at the level of programs: a perturbation's small but real changes
on many genes line up with the programs that other perturbations move too, while its noise
does not. So the prior mean of a delta is the low-rank part of the whole delta matrix (the
programs shared across perturbations) rather than zero, and each entry is shrunk toward it by
its own standard error. Shrinking toward zero alone erases the small coordinated effects that
tell perturbations apart (cell-eval's discrimination over all genes), and keeps the noise of
the large ones.

Arrays only: deltas and standard errors are perturbations x genes.
"""

from __future__ import annotations

import numpy as np


def hard_threshold_rank(singular_values: np.ndarray, shape: tuple[int, int]) -> int:
    """Number of singular values of a matrix with unit-variance white noise that carry signal.

    Gavish & Donoho (2014), the optimal hard threshold for a known noise level:
    ``lambda(beta) sqrt(max(n, p))`` with ``beta = min(n, p) / max(n, p)``. (Not in numpy,
    scipy or scikit-learn; a closed form.)
    """
    n, p = shape
    beta = min(n, p) / max(n, p)
    lam = np.sqrt(2 * (beta + 1) + 8 * beta / (beta + 1 + np.sqrt(beta**2 + 14 * beta + 1)))
    return int((singular_values > lam * np.sqrt(max(n, p))).sum())


def low_rank_part(delta: np.ndarray, se: np.ndarray) -> np.ndarray:
    """The programs shared across perturbations: the deltas, each gene scaled by its median
    standard error (unit noise), truncated to the singular values above the noise's optimal
    hard threshold, and scaled back."""
    with np.errstate(invalid="ignore"):
        scale = np.nanmedian(np.where(se > 0, se, np.nan), axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    U, S, Vt = np.linalg.svd(delta / scale, full_matrices=False)
    r = hard_threshold_rank(S, delta.shape)
    return (U[:, :r] * S[:r]) @ Vt[:r] * scale


def shrink_entries(delta: np.ndarray, se2: np.ndarray) -> np.ndarray:
    """Each delta times ``signal / (signal + se^2)`` with its own signal estimate
    ``max(delta^2 - se^2, 0.01 se^2)`` (floored: a prior of exactly zero variance would erase
    every sign), so that the few large effects are not pulled toward the many null ones, as a
    normal prior per gene would (it over-shrinks sparse effects)."""
    signal = np.maximum(delta**2 - se2, 0.01 * se2)
    denom = signal + se2
    return delta * np.divide(signal, denom, out=np.ones_like(denom), where=denom > 0)


def shrink_deltas(delta: np.ndarray, se: np.ndarray | None, method: str = "programs") -> np.ndarray:
    """Posterior means of measured deltas given their standard errors.

    Parameters
    ----------
    delta, se
        Perturbations x genes; NaN standard errors count as 0 (no shrinkage). Without
        standard errors the deltas are returned unchanged.
    method
        ``"programs"`` (default): shrink each entry toward the low-rank part of the deltas
        (:func:`low_rank_part`) by :func:`shrink_entries`; ``"entry"``: the same toward zero.

    Returns
    -------
    numpy.ndarray
        Shrunk deltas, same shape.
    """
    if method not in ("programs", "entry"):
        raise ValueError(f"unknown shrinkage method {method!r}; use 'programs' or 'entry'")
    if se is None or len(delta) < 2:
        return delta
    se = np.nan_to_num(np.asarray(se, float), nan=0.0)
    prior = low_rank_part(delta, se) if method == "programs" else np.zeros_like(delta)
    return prior + shrink_entries(delta - prior, se**2)
