"""Robust MR estimators: simple / weighted / penalized weighted median, mode-based estimate.

All take a seeded ``rng`` for their parametric bootstrap standard errors. R's random number
generator cannot be reproduced, so bootstrap SEs agree with the R package only up to Monte Carlo
error (about ``1 / sqrt(2 n_boot)`` relative, under 1% with the default 10,000 draws).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

from causalcell._utils import RngLike, as_rng
from causalcell.mr._core import MRResult, as_arrays, ratio_estimates, register

__all__ = ["mode_based", "penalized_weighted_median", "simple_median", "weighted_median"]

_MAD = 1.4826  # R's mad() constant
_CHUNK = 256  # bootstrap draws per vectorised block in the mode estimator


# --- kernels ---------------------------------------------------------------------------------


def _weighted_median(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted median of each row of ``theta`` (Bowden et al. 2016, as in the R package).

    The weights are placed at the midpoints of their cumulative mass and the 50% point is found
    by linear interpolation between the two neighbouring sorted estimates.
    """
    theta = np.atleast_2d(theta)
    order = np.argsort(theta, axis=1)
    t = np.take_along_axis(theta, order, axis=1)
    w = np.broadcast_to(weights, theta.shape)
    w = np.take_along_axis(w, order, axis=1)
    cum = (np.cumsum(w, axis=1) - 0.5 * w) / w.sum(axis=1, keepdims=True)
    k = np.clip((cum < 0.5).sum(axis=1), 1, theta.shape[1] - 1)[:, None]
    lo_c, hi_c = np.take_along_axis(cum, k - 1, 1), np.take_along_axis(cum, k, 1)
    lo_t, hi_t = np.take_along_axis(t, k - 1, 1), np.take_along_axis(t, k, 1)
    gap = hi_c - lo_c
    frac = np.divide(0.5 - lo_c, gap, out=np.zeros_like(gap), where=gap > 0)
    return (lo_t + (hi_t - lo_t) * frac)[:, 0]


def _median_weights(bx, sx, by, sy, kind: str, order: int) -> np.ndarray:
    """Weights of the median estimators: equal, inverse-variance of the ratio, or penalized."""
    ratio, se = ratio_estimates(bx, sx, by, sy, order=order)
    if kind == "simple":
        return np.full(bx.size, 1.0 / bx.size)
    w = se**-2
    if kind == "penalized":
        centre = _weighted_median(ratio, w)[0]
        w = w * np.minimum(1.0, 20 * stats.chi2.sf(w * (ratio - centre) ** 2, df=1))
    return w


def _median_estimator(bx, sx, by, sy, *, kind, order, n_boot, rng, name) -> MRResult:
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=3, method=name)
    weights = _median_weights(bx, sx, by, sy, kind, order)
    estimate = _weighted_median(by / bx, weights)[0]
    rng = as_rng(rng)
    n = bx.size
    # The R package draws bx and by and keeps the weights fixed; so do we.
    boot = rng.normal(by, sy, (n_boot, n)) / rng.normal(bx, sx, (n_boot, n))
    se = np.std(_weighted_median(boot, weights), ddof=1)
    extras = {"n_boot": n_boot} | ({} if kind == "simple" else {"order": order})
    return MRResult(name, float(estimate), float(se), n, extras=extras)


# --- estimators ------------------------------------------------------------------------------


def weighted_median(
    bx, sx, by, sy, *, order: Literal[1, 2] = 1, n_boot: int = 10_000, rng: RngLike = None
) -> MRResult:
    """Weighted median of the ratio estimates (Bowden et al. 2016), bootstrap standard error.

    Consistent when variants carrying at least half of the weight are valid instruments.

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    order
        Weights ``1 / se_ratio^2`` with first-order ratio SEs ``sy / |bx|`` (1, the default of
        the R package MendelianRandomization and of the paper's main analysis) or second-order
        SEs that add ``by^2 sx^2 / bx^4`` (2; down-weights variants with weak, imprecise ``bx``,
        the sensitivity analysis suggested by Bowden et al.).
    n_boot
        Parametric bootstrap draws of ``(bx, by)`` for the standard error (weights held fixed).
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    MRResult
        Estimate with bootstrap SE; extras ``n_boot``, ``order``.
    """
    return _median_estimator(
        bx, sx, by, sy, kind="weighted", order=order, n_boot=n_boot, rng=rng, name="weighted_median"
    )


def simple_median(bx, sx, by, sy, *, n_boot: int = 10_000, rng: RngLike = None) -> MRResult:
    """Median of the ratio estimates (equal weights, Bowden et al. 2016), bootstrap SE.

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    n_boot
        Parametric bootstrap draws for the standard error.
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    MRResult
        Estimate with bootstrap SE; extra ``n_boot``.
    """
    return _median_estimator(
        bx, sx, by, sy, kind="simple", order=1, n_boot=n_boot, rng=rng, name="simple_median"
    )


def penalized_weighted_median(
    bx, sx, by, sy, *, order: Literal[1, 2] = 1, n_boot: int = 10_000, rng: RngLike = None
) -> MRResult:
    """Penalized weighted median (Burgess et al. 2016): weights of heterogeneous variants shrunk.

    Each weight is multiplied by ``min(1, 20 p_j)``, ``p_j`` the chi-square(1) p-value of the
    variant's ratio estimate against the weighted median (as in the R package).

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    order
        Order of the ratio standard errors in the weights (see :func:`weighted_median`).
    n_boot
        Parametric bootstrap draws for the standard error.
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    MRResult
        Estimate with bootstrap SE; extras ``n_boot``, ``order``.
    """
    return _median_estimator(
        bx,
        sx,
        by,
        sy,
        kind="penalized",
        order=order,
        n_boot=n_boot,
        rng=rng,
        name="penalized_weighted_median",
    )


def _mad(x: np.ndarray, axis: int = -1) -> np.ndarray:
    med = np.median(x, axis=axis, keepdims=True)
    return _MAD * np.median(np.abs(x - med), axis=axis)


def _mode(beta: np.ndarray, weights: np.ndarray, phi: float, dtype=np.float64) -> np.ndarray:
    """Mode of a weighted normal-kernel density of each row of ``beta`` (Hartwig et al. 2017).

    Bandwidth ``phi * 0.9 min(sd, mad) / n^(1/5)`` (modified Silverman rule); the density is
    evaluated exactly on R's ``density()`` grid (512 points from ``min - 3h`` to ``max + 3h``)
    and the grid point of highest density returned, as the R package does. ``dtype=float32``
    makes the bootstrap about four times faster.
    """
    beta = np.atleast_2d(beta)
    n = beta.shape[1]
    s = 0.9 * np.minimum(np.std(beta, axis=1, ddof=1), _mad(beta)) / n ** (1 / 5)
    h = np.where(s > 0, s * phi, 1e-12)[:, None]
    lo, hi = beta.min(axis=1, keepdims=True) - 3 * h, beta.max(axis=1, keepdims=True) + 3 * h
    grid = lo + (hi - lo) * np.linspace(0.0, 1.0, 512)
    z = ((grid / h)[:, :, None] - (beta / h)[:, None, :]).astype(dtype)
    np.square(z, out=z)
    z *= -0.5
    density = np.exp(z, out=z) @ (weights / weights.sum()).astype(dtype)
    return grid[np.arange(beta.shape[0]), np.argmax(density, axis=1)]


def mode_based(
    bx,
    sx,
    by,
    sy,
    *,
    weighted: bool = True,
    order: Literal[1, 2] = 2,
    phi: float = 1.0,
    n_boot: int = 10_000,
    rng: RngLike = None,
) -> MRResult:
    """Mode-based estimate (MBE, Hartwig, Davey Smith & Bowden 2017), bootstrap SE.

    Consistent when the largest group of variants with the same ratio estimand is valid
    (ZEMPA assumption).

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    weighted
        Weight the kernel density by ``1 / se_ratio^2`` (R package default) or not.
    order
        Order of the ratio standard errors: 2 (delta method, the R package default
        ``stderror = "delta"``) or 1.
    phi
        Bandwidth multiplier (1 in the R package; Hartwig et al. also show 0.5 and 0.25).
    n_boot
        Bootstrap draws of the ratio estimates ``N(ratio, se_ratio^2)``; the SE is the median
        absolute deviation (R's ``mad``) of the bootstrap modes, as in the R package.
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    MRResult
        Estimate with bootstrap SE; extras ``n_boot``, ``phi``.
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=3, method="mode")
    ratio, se = ratio_estimates(bx, sx, by, sy, order=order)
    weights = se**-2 if weighted else np.ones_like(se)
    estimate = _mode(ratio, weights, phi)[0]
    rng = as_rng(rng)
    boot = np.concatenate(
        [
            _mode(
                rng.normal(ratio, se, (min(_CHUNK, n_boot - i), ratio.size)),
                weights,
                phi,
                np.float32,
            )
            for i in range(0, n_boot, _CHUNK)
        ]
    )
    se_boot = float(_mad(boot))
    return MRResult(
        "mode", float(estimate), se_boot, bx.size, extras={"n_boot": n_boot, "phi": phi}
    )


_WM = "Bowden, Davey Smith, Haycock & Burgess 2016 Genet Epidemiol"
register(
    "weighted_median",
    weighted_median,
    label="Weighted median",
    min_snps=3,
    uses_rng=True,
    reference=_WM,
)
register(
    "simple_median", simple_median, label="Simple median", min_snps=3, uses_rng=True, reference=_WM
)
register(
    "penalized_weighted_median",
    penalized_weighted_median,
    min_snps=3,
    uses_rng=True,
    label="Penalized weighted median",
    reference="Burgess, Bowden, Dudbridge & Thompson 2016 arXiv:1606.03729",
)
register(
    "mode",
    mode_based,
    label="Mode-based estimate (weighted)",
    min_snps=3,
    uses_rng=True,
    reference="Hartwig, Davey Smith & Bowden 2017 Int J Epidemiol",
)
