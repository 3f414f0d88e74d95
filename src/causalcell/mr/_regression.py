"""Regression-based MR: Wald ratio, IVW (fixed / multiplicative random effects, correlated
variants), MR-Egger and multivariable IVW.

Conventions follow the R package MendelianRandomization (0.10.0): weights ``1 / sy^2``
(first-order), a multiplicative random-effects standard error equal to the fixed-effect one
times ``max(1, RSE)`` (the residual standard error is floored at 1, so under-dispersion never
shrinks the SE), and normal-distribution p-values and intervals. With an LD correlation
matrix ``ld`` the same estimators become generalised least squares with
``cov(by) = diag(sy) ld diag(sy)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import linalg, stats

from causalcell._errors import InputError
from causalcell.mr._core import MRResult, as_arrays, ratio_estimates, register, secondary

__all__ = ["egger", "ivw", "mv_ivw", "wald_ratio"]

Model = Literal["default", "random", "fixed"]


# --- kernels ---------------------------------------------------------------------------------


def _whiten(x: np.ndarray, y: np.ndarray, sy: np.ndarray, ld: np.ndarray | None):
    """Transform ``(x, y)`` so that the errors of ``y`` become independent with unit variance."""
    if ld is None:
        return x / sy[:, None], y / sy
    ld = np.asarray(ld, dtype=float)
    if ld.shape != (sy.size, sy.size):
        raise InputError(f"ld must be a {sy.size} x {sy.size} correlation matrix, got {ld.shape}")
    try:
        chol = np.linalg.cholesky(np.outer(sy, sy) * ld)
    except np.linalg.LinAlgError:
        raise InputError(
            "ld is not positive definite; pass a valid LD correlation matrix"
        ) from None
    return (
        linalg.solve_triangular(chol, x, lower=True),
        linalg.solve_triangular(chol, y, lower=True),
    )


def _gls(x: np.ndarray, y: np.ndarray, sy: np.ndarray, ld: np.ndarray | None = None):
    """Weighted (or generalised) least squares of ``y`` on the columns of ``x``.

    Returns
    -------
    coef
        Coefficients.
    cov
        Fixed-effect covariance ``(X' Omega^-1 X)^-1`` (residual variance taken as 1).
    q
        Weighted residual sum of squares (Cochran's Q on ``n - p`` degrees of freedom).
    """
    xw, yw = _whiten(x, y, sy, ld)
    coef, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    resid = yw - xw @ coef
    return coef, np.linalg.inv(xw.T @ xw), float(resid @ resid)


def _heterogeneity(q: float, dof: int) -> dict[str, float]:
    """Cochran's Q, its p-value, I^2 = max(0, (Q - dof) / Q) and the residual standard error."""
    if dof < 1:
        return {"q": np.nan, "q_df": dof, "q_pval": np.nan, "i2": np.nan, "rse": np.nan}
    return {
        "q": q,
        "q_df": dof,
        "q_pval": float(stats.chi2.sf(q, dof)),
        "i2": max(0.0, (q - dof) / q) if q > 0 else 0.0,
        "rse": float(np.sqrt(q / dof)),
    }


def _resolve_model(model: Model, n: int) -> str:
    if model not in ("default", "random", "fixed"):
        raise InputError(f"model must be 'default', 'random' or 'fixed', got {model!r}")
    return ("random" if n >= 4 else "fixed") if model == "default" else model


def _mean_f(bx: np.ndarray, sx: np.ndarray, ld: np.ndarray | None) -> float:
    """Mean first-stage F statistic (LD-decorrelated when ``ld`` is given, as in the R package)."""
    z = bx / sx
    if ld is not None:
        z = linalg.solve_triangular(np.linalg.cholesky(ld), z, lower=True)
    return float(np.mean(z**2))


# --- estimators ------------------------------------------------------------------------------


def wald_ratio(bx, sx, by, sy, *, order: int = 1) -> MRResult:
    """Wald ratio ``by / bx`` of a single variant.

    Parameters
    ----------
    bx, sx, by, sy
        Association of the variant with exposure and outcome, with standard errors (length 1).
    order
        Standard error: 1 = first order ``sy / |bx|`` (R package default), 2 = second order
        (delta method, adds ``by^2 sx^2 / bx^4``).

    Returns
    -------
    MRResult
        The ratio estimate.
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=1, method="wald_ratio")
    if bx.size != 1:
        raise InputError(f"wald_ratio takes exactly one SNP, got {bx.size}; use ivw for several")
    ratio, se = ratio_estimates(bx, sx, by, sy, order=order)
    return MRResult("wald_ratio", float(ratio[0]), float(se[0]), 1, extras={"order": order})


def ivw(bx, sx, by, sy, *, model: Model = "default", ld=None) -> MRResult:
    """Inverse-variance weighted estimate (Burgess et al. 2013), with Cochran's Q and I^2.

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors.
    model
        ``"fixed"``: SE ``1 / sqrt(sum bx^2 / sy^2)``. ``"random"``: multiplicative random
        effects, fixed SE times ``max(1, RSE)``. ``"default"``: random with 4 or more variants,
        fixed otherwise (the R package rule).
    ld
        Optional LD correlation matrix of the variants (n x n); the estimate is then the GLS one
        with ``cov(by) = diag(sy) ld diag(sy)`` (R package ``mr_ivw`` with ``correlation``).

    Returns
    -------
    MRResult
        Extras: ``q, q_df, q_pval, i2, rse`` (heterogeneity) and ``f_stat`` (mean F).
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=1, method="ivw")
    n = bx.size
    coef, cov, q = _gls(bx[:, None], by, sy, ld)
    het = _heterogeneity(q, n - 1)
    scale = max(1.0, het["rse"]) if _resolve_model(model, n) == "random" else 1.0
    extras = het | {"f_stat": _mean_f(bx, sx, ld)}
    return MRResult("ivw", float(coef[0]), float(np.sqrt(cov[0, 0]) * scale), n, extras=extras)


def egger(bx, sx, by, sy, *, ld=None, distribution: Literal["normal", "t"] = "normal") -> MRResult:
    """MR-Egger regression (Bowden et al. 2015) with the intercept (directional pleiotropy) test.

    Variants are oriented so that ``bx > 0``; ``by`` is regressed on ``bx`` with an intercept and
    weights ``1 / sy^2``. Standard errors are the fixed-effect ones times ``max(1, RSE)``, as in
    the R package MendelianRandomization.

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors (at least 3 variants).
    ld
        Optional LD correlation matrix (GLS version, R package ``mr_egger`` with ``correlation``).
    distribution
        ``"normal"`` (R package default) or ``"t"`` with ``n - 2`` degrees of freedom (the
        convention of TwoSampleMR).

    Returns
    -------
    MRResult
        The slope (causal estimate). Extras: ``intercept`` with ``_se, _pval, _ci_low, _ci_high``,
        heterogeneity about the Egger fit (``q, q_df, q_pval, rse``) and ``i2_gx`` (the
        NOME-violation I^2 of Bowden et al. 2016; not defined with ``ld``).
    """
    bx, sx, by, sy = as_arrays(bx, sx, by, sy, min_snps=3, method="egger")
    if distribution not in ("normal", "t"):
        raise InputError(f"distribution must be 'normal' or 't', got {distribution!r}")
    n = bx.size
    sign = np.where(bx < 0, -1.0, 1.0)
    bx, by = bx * sign, by * sign
    if ld is not None:
        ld = np.asarray(ld, dtype=float) * np.outer(sign, sign)
    coef, cov, q = _gls(np.column_stack([np.ones(n), bx]), by, sy, ld)
    het = _heterogeneity(q, n - 2)
    se = np.sqrt(np.diag(cov)) * max(1.0, het["rse"])
    dof = None if distribution == "normal" else n - 2
    het.pop("i2")  # I^2 about the Egger line is not a standard statistic; report I^2_GX
    extras = secondary("intercept", coef[0], se[0], dof) | het
    extras["i2_gx"] = np.nan if ld is not None else _i2_gx(bx, sx, sy)
    return MRResult("egger", float(coef[1]), float(se[1]), n, dof=dof, extras=extras)


def _i2_gx(bx: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> float:
    """I^2_GX of Bowden et al. (2016) for oriented ``bx`` (weights as in the R package)."""
    x, w = bx / sy, (sy / sx) ** 2
    q = np.sum(w * (x - np.average(x, weights=w)) ** 2)
    return float(max(0.0, (q - (x.size - 1)) / q))


def mv_ivw(bx, by, sy, *, model: Model = "default", ld=None) -> list[MRResult]:
    """Multivariable IVW (Burgess & Thompson 2015): weighted regression of ``by`` on all exposures.

    Parameters
    ----------
    bx
        Associations with the K exposures, shape (n_snps, K).
    by, sy
        Associations with the outcome and their standard errors.
    model
        As in :func:`ivw`; ``"default"`` is random effects with 4 or more variants.
    ld
        Optional LD correlation matrix of the variants.

    Returns
    -------
    list of MRResult
        One per exposure (method ``"mv_ivw"``), extras ``exposure`` (column index), ``q, q_df,
        q_pval, rse`` (shared heterogeneity on ``n - K`` degrees of freedom).
    """
    bx = np.asarray(bx, dtype=float)
    if bx.ndim != 2:
        raise InputError(f"mv_ivw: bx must be a (n_snps, n_exposures) matrix, got shape {bx.shape}")
    n, k = bx.shape
    _, _, by, sy = as_arrays(bx[:, 0], np.ones(n), by, sy, min_snps=k + 1, method="mv_ivw")
    if not np.all(np.isfinite(bx)):
        raise InputError("mv_ivw: bx contains NaN or infinite values; remove those SNPs")
    coef, cov, q = _gls(bx, by, sy, ld)
    het = _heterogeneity(q, n - k)
    het.pop("i2")
    scale = max(1.0, het["rse"]) if _resolve_model(model, n) == "random" else 1.0
    se = np.sqrt(np.diag(cov)) * scale
    return [
        MRResult("mv_ivw", float(coef[j]), float(se[j]), n, extras={"exposure": j} | het)
        for j in range(k)
    ]


def _fixed(bx, sx, by, sy, *, ld=None) -> MRResult:
    return ivw(bx, sx, by, sy, model="fixed", ld=ld)


def _random(bx, sx, by, sy, *, ld=None) -> MRResult:
    return ivw(bx, sx, by, sy, model="random", ld=ld)


_MRPKG = "R package MendelianRandomization 0.10.0 (Yavorska & Burgess 2017)"
register(
    "wald_ratio",
    wald_ratio,
    label="Wald ratio",
    min_snps=1,
    max_snps=1,
    reference="Wald 1940; first-order SE as in " + _MRPKG,
)
register(
    "ivw",
    ivw,
    label="IVW (multiplicative random effects; fixed if < 4 SNPs)",
    reference="Burgess, Butterworth & Thompson 2013 Genet Epidemiol; " + _MRPKG,
    accepts_ld=True,
)
register(
    "ivw_fixed",
    _fixed,
    label="IVW (fixed effect)",
    accepts_ld=True,
    reference="Burgess, Butterworth & Thompson 2013 Genet Epidemiol",
)
register(
    "ivw_random",
    _random,
    label="IVW (multiplicative random effects)",
    accepts_ld=True,
    min_snps=2,
    reference="Bowden et al. 2017 Stat Med; " + _MRPKG,
)
register(
    "egger",
    egger,
    label="MR-Egger",
    min_snps=3,
    accepts_ld=True,
    reference="Bowden, Davey Smith & Burgess 2015 Int J Epidemiol; " + _MRPKG,
)
