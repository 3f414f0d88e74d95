"""Bulk effects corrected for composition: deconvolved proportions as covariates.

Cell-type proportions that vary between samples are a hidden common cause of every gene
(DESIGN.md, layer 3). Given single-cell reference profiles they can be estimated per sample
(non-negative least squares of the sample's counts on the types' expected counts per cell)
and adjusted for: one least-squares fit per gene of the log1p CP10k profile on condition
indicators plus proportions, solved for all genes at once (the design is shared).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from causalcell._errors import InputError
from causalcell.bulk._recover import TypeProfiles
from causalcell.effects._kernels import bh_fdr, log_normalize
from causalcell.io import CONTROL, Cells


def deconvolve(counts: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Cell-type proportions of bulk samples by non-negative least squares.

    Parameters
    ----------
    counts
        (samples, genes) bulk UMI counts.
    reference
        (types, genes) expected counts per cell of each type (e.g. the control cells' means).

    Returns
    -------
    ndarray
        (samples, types) proportions (rows sum to 1). Genes are weighted by the inverse square
        root of their mean (Poisson variance) so that a few abundant genes do not decide alone.
    """
    counts, reference = np.asarray(counts, float), np.asarray(reference, float)
    if counts.shape[1] != reference.shape[1]:
        raise InputError(
            f"bulk has {counts.shape[1]} genes but the reference {reference.shape[1]}; align genes"
        )
    weight = 1.0 / np.sqrt(np.maximum(reference.mean(axis=0), 1e-3))
    basis = (reference * weight).T
    out = np.array([optimize.nnls(basis, row * weight)[0] for row in counts])
    totals = out.sum(axis=1, keepdims=True)
    return np.divide(out, totals, out=np.zeros_like(out), where=totals > 0)


def _dense(X) -> np.ndarray:
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


def composition_adjusted_effects(
    bulk: Cells, reference: TypeProfiles
) -> tuple[pd.DataFrame, np.ndarray]:
    """Bulk effects adjusted for compositions deconvolved with single-cell references.

    Parameters
    ----------
    bulk
        Validated bulk samples (counts) holding every gene of ``reference``.
    reference
        Per-type profiles of single cells (:func:`causalcell.bulk.type_profiles`); their
        control cells' mean counts are the deconvolution basis.

    Returns
    -------
    effects, proportions
        :func:`bulk_effects` with the proportions as covariates, and the proportions.
    """
    genes = bulk.var_names.get_indexer(reference.genes)
    if (genes < 0).any():
        raise InputError(
            f"{bulk.source or 'bulk samples'}: bulk samples lack genes of the cells, e.g. "
            f"{list(reference.genes[genes < 0][:3])}"
        )
    proportions = deconvolve(_dense(bulk.X)[:, genes], reference.counts[0])
    return bulk_effects(bulk, proportions), proportions


def _design(labels: pd.Series, proportions: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    """Intercept, one indicator per perturbation (control = baseline) and, if given, the
    centred proportions of all types but the last (they sum to one)."""
    perts = sorted(set(labels) - {CONTROL})
    columns = [np.ones(len(labels))] + [(labels == p).to_numpy(float) for p in perts]
    if proportions is not None:
        centred = proportions - proportions.mean(axis=0)
        columns += list(centred[:, :-1].T)
    return np.column_stack(columns), perts


def bulk_effects(bulk: Cells, proportions: np.ndarray | None = None) -> pd.DataFrame:
    """Per perturbation and gene: the bulk delta vs control, adjusted for composition.

    Parameters
    ----------
    bulk
        Validated bulk samples (counts or log expression), several per condition.
    proportions
        (samples, types) proportions of each sample (known or from :func:`deconvolve`), or
        None for the unadjusted comparison.

    Returns
    -------
    DataFrame
        ``perturbation, gene, delta, se, t, pvalue, fdr`` (ordinary least squares per gene,
        residual degrees of freedom = samples - parameters; BH over all pairs).
    """
    y = log_normalize(_dense(bulk.X).astype(float), bulk.expression)
    if proportions is not None and len(proportions) != bulk.n_cells:
        raise InputError(f"{len(proportions)} proportion rows for {bulk.n_cells} bulk samples")
    design, perts = _design(bulk.obs["perturbation"].astype(str), proportions)
    df = design.shape[0] - np.linalg.matrix_rank(design)
    if df < 1:
        raise InputError(
            f"{design.shape[0]} samples for {design.shape[1]} parameters: need replicate samples"
        )
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    sigma2 = ((y - design @ coef) ** 2).sum(axis=0) / df
    scale = np.sqrt(np.diag(np.linalg.pinv(design.T @ design))[1 : len(perts) + 1])
    delta, se = coef[1 : len(perts) + 1], scale[:, None] * np.sqrt(sigma2)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, delta / se, 0.0)
    p = 2 * stats.t.sf(np.abs(t), df)
    return pd.DataFrame(
        {
            "perturbation": np.repeat(perts, bulk.n_genes),
            "gene": np.tile(bulk.var_names, len(perts)),
            "delta": delta.ravel(),
            "se": se.ravel(),
            "t": t.ravel(),
            "pvalue": p.ravel(),
            "fdr": bh_fdr(p.ravel()),
        }
    )
