"""MR-PRESSO (Verbanck, Chen, Neale & Do 2018): global pleiotropy test, outlier test and the
outlier-corrected IVW estimate, following the R package MRPRESSO (single exposure).

Distortion test not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalcell._utils import RngLike, as_rng
from causalcell.mr._core import MRResult, as_arrays, register
from causalcell.mr._regression import _gls

__all__ = ["PressoResult", "presso"]


@dataclass(frozen=True)
class PressoResult:
    """Output of :func:`presso`.

    Parameters
    ----------
    rss_obs
        Observed leave-one-out residual sum of squares (the global test statistic).
    global_pval
        Share of simulated RSS values above the observed one (0 means ``< 1 / n_sim``).
    outlier_pval
        Per-variant outlier-test p-values, Bonferroni-corrected (multiplied by n, capped at 1).
    outliers
        Boolean mask of flagged variants (global and outlier p-values below ``threshold``).
    corrected
        IVW estimate without the outliers (equal to the raw one when none is flagged).
    """

    rss_obs: float
    global_pval: float
    outlier_pval: np.ndarray
    outliers: np.ndarray
    corrected: MRResult


def _loo_ivw(bx: np.ndarray, by: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Leave-one-out IVW estimates along the last axis (closed form, vectorised)."""
    sxy, sxx = w * bx * by, w * bx**2
    return (sxy.sum(-1, keepdims=True) - sxy) / (sxx.sum(-1, keepdims=True) - sxx)


def _loo_rss(bx: np.ndarray, by: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted residual sum of squares of each variant about its leave-one-out IVW fit."""
    return np.sum(w * (by - _loo_ivw(bx, by, w) * bx) ** 2, axis=-1)


def _presso_ivw(bx, by, sy, keep) -> MRResult:
    """IVW as MR-PRESSO reports it: ``lm(by ~ -1 + bx, weights)``, SE scaled by the RSE, t(n-1)."""
    n = int(keep.sum())
    coef, cov, q = _gls(bx[keep, None], by[keep], sy[keep])
    se = np.sqrt(cov[0, 0] * q / (n - 1))
    return MRResult("presso", float(coef[0]), float(se), n, dof=n - 1)


def presso(
    bx,
    sx,
    by,
    sy,
    *,
    n_sim: int = 1000,
    threshold: float = 0.05,
    rng: RngLike = None,
) -> PressoResult:
    """Run the MR-PRESSO global and outlier tests and the outlier-corrected estimate.

    Data are simulated under no pleiotropy: ``bx* ~ N(bx, sx^2)`` and
    ``by* ~ N(bx theta_(-j), sy^2)`` with ``theta_(-j)`` the IVW estimate leaving variant ``j``
    out. The global test compares the observed leave-one-out RSS with the simulated ones;
    the outlier test compares each variant's squared residual about its leave-one-out fit.
    Outliers are only sought when the global test is significant (as in the R package).

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    n_sim
        Number of simulated data sets (``NbDistribution``); p-values have resolution ``1/n_sim``.
    threshold
        Significance level for the global test and the Bonferroni-corrected outlier test.
    rng
        Seed or generator for the simulations.

    Returns
    -------
    PressoResult
        Test statistics, outlier mask and the corrected estimate.
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=3, method="presso")
    rng = as_rng(rng)
    n, w = bx.size, sy**-2
    theta_loo = _loo_ivw(bx, by, w)
    bx_sim = rng.normal(bx, sx, (n_sim, n))
    by_sim = rng.normal(theta_loo * bx, sy, (n_sim, n))
    rss_obs = float(_loo_rss(bx, by, w))
    global_pval = float(np.mean(_loo_rss(bx_sim, by_sim, w) > rss_obs))
    resid_obs = (by - theta_loo * bx) ** 2
    resid_sim = (by_sim - theta_loo * bx_sim) ** 2
    outlier_pval = np.minimum(1.0, n * np.mean(resid_sim > resid_obs, axis=0))
    outliers = (outlier_pval < threshold) & (global_pval < threshold)
    if n - outliers.sum() < 2:  # too few left to re-estimate: keep every variant
        outliers[:] = False
    return PressoResult(
        rss_obs, global_pval, outlier_pval, outliers, _presso_ivw(bx, by, sy, ~outliers)
    )


def _presso_method(
    bx, sx, by, sy, *, n_sim: int = 1000, threshold: float = 0.05, rng: RngLike = None
) -> MRResult:
    res = presso(bx, sx, by, sy, n_sim=n_sim, threshold=threshold, rng=rng)
    extras = {
        "global_rss": res.rss_obs,
        "global_pval": res.global_pval,
        "n_outliers": int(res.outliers.sum()),
    }
    return MRResult(
        "presso",
        res.corrected.estimate,
        res.corrected.se,
        res.corrected.n_snps,
        dof=res.corrected.dof,
        extras=extras,
    )


register(
    "presso",
    _presso_method,
    label="MR-PRESSO outlier-corrected IVW",
    min_snps=3,
    uses_rng=True,
    reference="Verbanck, Chen, Neale & Do 2018 Nat Genet; R package MRPRESSO",
)
