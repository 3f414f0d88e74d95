"""The runners: from a summary-statistics table to one result row per MR method."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng, logger
from causalcell.mr._core import MRMethod, MRResult, get_method
from causalcell.mr._regression import mv_ivw
from causalcell.mr._steiger import SteigerResult, steiger
from causalcell.mr._sumstats import validate_sumstats

__all__ = ["DEFAULT_METHODS", "RESULT_COLUMNS", "directionality", "mr", "mvmr"]

DEFAULT_METHODS = ("ivw", "ivw_fixed", "egger", "weighted_median", "simple_median", "mode")
"""Methods run by :func:`mr` unless told otherwise."""

RESULT_COLUMNS = ("method", "estimate", "se", "pval", "ci_low", "ci_high", "n_snps")
"""Leading columns of :func:`mr`'s output; method-specific extras follow."""


def _associations(df: pd.DataFrame) -> tuple[np.ndarray, ...]:
    cols = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    return tuple(df[c].to_numpy(dtype=float) for c in cols)


def _align_ld(ld, df: pd.DataFrame) -> np.ndarray | None:
    """LD matrix in the row order of ``df``; a DataFrame is matched to ``df['snp']`` by label."""
    if ld is None:
        return None
    if isinstance(ld, pd.DataFrame) and "snp" in df and set(df["snp"]) <= set(ld.index.astype(str)):
        ld = ld.set_axis(ld.index.astype(str), axis=0).set_axis(ld.columns.astype(str), axis=1)
        return ld.loc[df["snp"], df["snp"]].to_numpy(dtype=float)
    ld = np.asarray(ld, dtype=float)
    if ld.shape != (len(df), len(df)):
        raise InputError(
            f"ld is {ld.shape} but there are {len(df)} variants; give an n x n LD "
            "correlation matrix in the order of the rows (or labelled by snp)"
        )
    if not np.allclose(ld, ld.T) or not np.allclose(np.diag(ld), 1):
        raise InputError("ld must be a symmetric correlation matrix with ones on the diagonal")
    return ld


def _skip_reason(method: MRMethod, n: int, ld) -> str | None:
    """Why ``method`` cannot run on ``n`` variants (None when it can)."""
    if n < method.min_snps:
        return f"needs at least {method.min_snps} SNPs, got {n}"
    if method.max_snps is not None and n > method.max_snps:
        return f"takes at most {method.max_snps} SNP(s), got {n}"
    if ld is not None and not method.accepts_ld:
        return "assumes uncorrelated variants but an LD matrix was given"
    return None


def _run_one(method: MRMethod, data, *, ld, rng, options: Mapping) -> MRResult:
    kwargs = dict(options.get(method.name, {}))
    if method.uses_rng:
        kwargs["rng"] = rng
    if method.accepts_ld and ld is not None:
        kwargs["ld"] = ld
    return dataclasses.replace(method.func(*data, **kwargs), method=method.name)


def mr(
    sumstats: pd.DataFrame,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    ld=None,
    rng: RngLike = None,
    options: Mapping[str, Mapping] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Run several MR estimators on one exposure-outcome pair.

    Parameters
    ----------
    sumstats
        One row per variant; columns ``beta_exposure, se_exposure, beta_outcome, se_outcome``
        and optionally ``snp``, allele, frequency and sample-size columns (validated and
        harmonised by :func:`validate_sumstats`).
    methods
        Registered method names (see :func:`list_methods`). A method that cannot run on these
        data (too few SNPs, e.g. Egger and the medians need 3; or it ignores LD while ``ld`` is
        given) is skipped with a logged warning and has no row. With a single variant a
        ``wald_ratio`` row is added.
    ld
        Optional LD correlation matrix of the variants (array in row order, or DataFrame
        labelled by ``snp``). Methods that model it (``ivw``, ``ivw_fixed``, ``egger``) use it.
    rng
        Seed or generator for bootstrap / simulation methods; resolved once and shared.
    options
        Keyword arguments per method, e.g. ``{"weighted_median": {"order": 2, "n_boot": 1000}}``.
    alpha
        Confidence intervals cover ``1 - alpha``.

    Returns
    -------
    DataFrame
        One row per method run: ``method, estimate, se, pval, ci_low, ci_high, n_snps`` and the
        method's extras (``q, q_df, q_pval, i2, rse, f_stat`` for IVW; ``intercept``,
        ``intercept_se``, ``intercept_pval``, ``i2_gx`` for Egger; ``n_boot`` for bootstrap
        methods; ...), NaN where a method has no such value.

    Raises
    ------
    InputError
        Invalid summary statistics, an unknown method name, or no method able to run.
    """
    start = time.perf_counter()
    df = validate_sumstats(sumstats)
    n = len(df)
    ld = _align_ld(ld, df)
    if n == 1 and "wald_ratio" not in methods:
        methods = ("wald_ratio", *methods)
    rng, options = as_rng(rng), options or {}
    data = _associations(df)
    rows = []
    for method in map(get_method, methods):
        if reason := _skip_reason(method, n, ld):
            logger.warning("mr: skipping %s: %s", method.name, reason)
            continue
        res = dataclasses.replace(
            _run_one(method, data, ld=ld, rng=rng, options=options), alpha=alpha
        )
        rows.append(res.to_dict())
    if not rows:
        raise InputError(
            f"none of the MR methods {', '.join(methods)} can run on {n} SNP(s); "
            "add variants or choose ivw"
        )
    out = pd.DataFrame(rows)
    out = out[[*RESULT_COLUMNS, *(c for c in out if c not in RESULT_COLUMNS)]]
    logger.info(
        "mr: %d methods on %d SNPs finished in %.2fs", len(out), n, time.perf_counter() - start
    )
    return out


def mvmr(
    sumstats: pd.DataFrame,
    exposures: Sequence[str] | None = None,
    *,
    ld=None,
    model: str = "default",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Multivariable IVW of one outcome on several exposures.

    Parameters
    ----------
    sumstats
        One row per variant with ``beta_outcome, se_outcome`` and one column per exposure.
    exposures
        Columns holding the exposures' betas; default: every column named ``beta_exposure_*``.
    ld
        Optional LD correlation matrix of the variants (row order).
    model
        ``"default"`` (random effects with >= 4 variants), ``"random"`` or ``"fixed"``.
    alpha
        Confidence intervals cover ``1 - alpha``.

    Returns
    -------
    DataFrame
        One row per exposure: ``exposure, method, estimate, se, pval, ci_low, ci_high, n_snps,
        q, q_df, q_pval, rse``.
    """
    if exposures is None:
        exposures = [c for c in sumstats if c.startswith("beta_exposure_")]
    missing = [c for c in (*exposures, "beta_outcome", "se_outcome") if c not in sumstats]
    if missing or not exposures:
        raise InputError(
            f"mvmr: missing column(s) {', '.join(missing) or 'beta_exposure_*'}; "
            "give beta_outcome, se_outcome and one beta column per exposure"
        )
    bx = sumstats[list(exposures)].to_numpy(dtype=float)
    by, sy = (sumstats[c].to_numpy(dtype=float) for c in ("beta_outcome", "se_outcome"))
    ld = _align_ld(ld, sumstats)
    rows = [
        dataclasses.replace(r, alpha=alpha).to_dict()
        for r in mv_ivw(bx, by, sy, model=model, ld=ld)
    ]
    out = pd.DataFrame(rows).drop(columns="exposure")
    out.insert(0, "exposure", [e.removeprefix("beta_exposure_") for e in exposures])
    return out


def directionality(sumstats: pd.DataFrame) -> SteigerResult:
    """Steiger directionality test on a summary-statistics table.

    Parameters
    ----------
    sumstats
        Needs ``n_exposure`` and ``n_outcome`` besides the four association columns.

    Returns
    -------
    SteigerResult
        See :func:`causalcell.mr.steiger`.
    """
    df = validate_sumstats(sumstats)
    missing = [c for c in ("n_exposure", "n_outcome") if c not in df]
    if missing:
        raise InputError(f"the Steiger test needs sample-size column(s) {', '.join(missing)}")
    return steiger(*_associations(df), df["n_exposure"], df["n_outcome"])
