"""Steiger directionality test (Hemani, Tilling & Davey Smith 2017), as in TwoSampleMR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalcell._errors import InputError
from causalcell.mr._core import as_arrays

__all__ = ["SteigerResult", "steiger"]


@dataclass(frozen=True)
class SteigerResult:
    """Output of :func:`steiger`.

    Parameters
    ----------
    r2_exposure, r2_outcome
        Variance of exposure and outcome explained by the variants (summed over variants).
    correct_direction
        True when the variants explain more of the exposure than of the outcome, as expected if
        the exposure causes the outcome.
    z, pval
        Steiger's test of ``r_exposure = r_outcome`` for independent samples (Fisher z).
    """

    r2_exposure: float
    r2_outcome: float
    correct_direction: bool
    z: float
    pval: float


def _r2(beta: np.ndarray, se: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Variance explained from a t statistic: ``t^2 / (t^2 + n - 2)`` (TwoSampleMR's
    ``get_r_from_bsen``; for a binary outcome this is the observed-scale approximation)."""
    f = (beta / se) ** 2
    return f / (f + n - 2)


def steiger(bx, sx, by, sy, n_exposure, n_outcome) -> SteigerResult:
    """Test whether the variants act on the exposure first (MR Steiger directionality test).

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors.
    n_exposure, n_outcome
        Sample sizes of the two GWAS (scalars or one per variant; their means are used in the
        test, as in TwoSampleMR).

    Returns
    -------
    SteigerResult
        Summed ``r^2`` of exposure and outcome, the inferred direction and the test p-value.
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, method="steiger")
    nx, ny = (
        np.broadcast_to(np.asarray(v, dtype=float), bx.shape) for v in (n_exposure, n_outcome)
    )
    if np.any(nx <= 3) or np.any(ny <= 3) or not np.all(np.isfinite(nx) & np.isfinite(ny)):
        raise InputError(
            "steiger needs sample sizes n_exposure and n_outcome above 3 for every SNP"
        )
    r2x, r2y = float(_r2(bx, sx, nx).sum()), float(_r2(by, sy, ny).sum())
    if r2x >= 1 or r2y >= 1:
        raise InputError("steiger: variants explain >= 100% of a trait; check the sample sizes")
    z = (np.arctanh(np.sqrt(r2x)) - np.arctanh(np.sqrt(r2y))) / np.sqrt(
        1 / (nx.mean() - 3) + 1 / (ny.mean() - 3)
    )
    return SteigerResult(r2x, r2y, r2x > r2y, float(z), float(2 * stats.norm.sf(abs(z))))
