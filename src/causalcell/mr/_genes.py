"""Transcriptome-wide MR: one estimate per exposure gene from a long summary-statistics table."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats

from causalcell._errors import InputError
from causalcell._utils import logger
from causalcell.effects._kernels import bh_fdr
from causalcell.mr._core import get_method
from causalcell.mr._sumstats import validate_sumstats

GENE_COLUMNS = ("gene", "method", "estimate", "se", "pval", "ci_low", "ci_high", "n_snps", "fdr")
"""Columns of :func:`mr_genes`' output."""


def _instruments(sub: pd.DataFrame, p_threshold: float | None) -> pd.DataFrame:
    """Variants whose exposure association passes ``p_threshold`` (all when None)."""
    if p_threshold is None:
        return sub
    p = 2 * stats.norm.sf(np.abs(sub["beta_exposure"] / sub["se_exposure"]))
    return sub[p < p_threshold]


def mr_genes(
    sumstats: pd.DataFrame,
    *,
    gene_key: str = "gene",
    method: str = "ivw",
    p_threshold: float | None = None,
) -> pd.DataFrame:
    """MR estimate of every exposure gene's effect on the outcome (one row per gene).

    Each gene's cis variants are its instruments: optionally those with an exposure p-value
    below ``p_threshold`` (instrument selection as in eQTL-MR), then the estimator ``method``
    (default IVW: the Wald ratio for one variant, fixed effect below four, multiplicative random
    effects from four). Genes left without an instrument, or with too few for ``method``, are
    dropped (logged).

    Parameters
    ----------
    sumstats
        Long table: ``gene_key`` plus the columns of :func:`causalcell.mr.read_sumstats`.
    gene_key
        Column naming the exposure gene of each variant.
    method
        A registered MR method without resampling (``ivw``, ``ivw_fixed``, ``egger``, ...).
    p_threshold
        Keep variants with exposure p-value below this (None: all).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GENE_COLUMNS`: ``estimate`` (outcome units per unit of expression),
        ``se``, normal ``pval`` and 95% interval, ``n_snps`` used, Benjamini-Hochberg ``fdr``
        across genes; sorted by gene.
    """
    start = time.perf_counter()
    if gene_key not in sumstats:
        raise InputError(
            f"sumstats has no {gene_key!r} column (columns: {list(sumstats.columns)}); "
            "name the exposure gene of each variant"
        )
    spec = get_method(method)
    if spec.uses_rng:
        raise InputError(f"method {method!r} resamples; use ivw, ivw_fixed or egger per gene")
    table = validate_sumstats(sumstats.drop(columns=gene_key).assign(_gene=sumstats[gene_key]))
    rows, skipped = [], 0
    for gene, sub in table.groupby("_gene", sort=True):
        sub = _instruments(sub, p_threshold)
        if len(sub) < spec.min_snps:
            skipped += 1
            continue
        name = "wald_ratio" if len(sub) == 1 and spec.max_snps != 1 else method
        cols = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
        res = get_method(name).func(*(sub[c].to_numpy(float) for c in cols))
        rows.append({"gene": gene, "method": name} | _row(res))
    if skipped:
        logger.info("mr_genes: %d genes without enough instruments for %s", skipped, method)
    out = pd.DataFrame(rows, columns=list(GENE_COLUMNS[:-1]))
    out["fdr"] = bh_fdr(out["pval"].to_numpy(float)) if len(out) else []
    logger.info("mr_genes: %d genes in %.1f s", len(out), time.perf_counter() - start)
    return out


def _row(res) -> dict[str, float]:
    return {
        "estimate": res.estimate,
        "se": res.se,
        "pval": res.pval,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "n_snps": res.n_snps,
    }
