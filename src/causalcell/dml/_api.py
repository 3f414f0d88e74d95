"""AnnData front end: per gene and per cell type, DML of the gene's expression on the phenotype."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng, group_indicator, logger
from causalcell.dml._confounders import CONFOUNDERS, Confounders
from causalcell.dml._kernels import wald_summary
from causalcell.dml._plr import PLR
from causalcell.effects._kernels import bh_fdr, log_normalize
from causalcell.io._validate import expression_matrix

RESULT_COLUMNS = [
    "cell_type",
    "gene",
    "estimate",
    "se",
    "pval",
    "ci_low",
    "ci_high",
    "fdr",
    "n_cells",
    "n_donors",
]
"""Columns of the table returned by :func:`dml`."""


def dml(
    adata: ad.AnnData,
    phenotype_key: str = "phenotype",
    donor_key: str | None = "donor",
    cell_type_key: str | None = "cell_type",
    *,
    genes: Sequence[str] | None = None,
    confounders: str = "pca",
    n_components: int = 10,
    learner: str | Any = "ridge_cv",
    unit: Literal["auto", "donor", "cell"] = "auto",
    inference: Literal["score", "wald"] = "score",
    n_folds: int = 5,
    n_rep: int = 1,
    exclude_gene: bool = True,
    binary_phenotype: bool = True,
    expression: Literal["counts", "log"] = "counts",
    layer: str | None = None,
    level: float = 0.95,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Causal effect of each gene's expression on the phenotype, per cell type, by DML.

    For every cell type and gene ``j``, the partially linear model
    ``phenotype = theta_j * expr_j + g(state) + e``, ``expr_j = m(state) + v`` is fitted by
    double machine learning (:class:`PLR`): cross-fitting with folds made of whole donors,
    donor-clustered score-test standard errors with a t reference on ``donors - 1`` degrees of
    freedom (:func:`causalcell.dml.plr_score_test`), median over ``n_rep`` repetitions. The
    cells' latent state is a confounder representation computed from all genes of the cell
    type, with gene ``j`` left out of its own adjustment (see
    :mod:`causalcell.dml._confounders`). With the ridge learners and PCA confounders all genes
    are solved together in closed form.

    A case label is a property of the donor, so by default (``unit="auto"``) a phenotype that
    is constant within every donor is analysed with donors as units: expression and confounders
    are averaged over each donor's cells of the cell type (pseudobulk of log1p CP10k, donor
    mean of the cell-level representation) before cross-fitting. Cell-level rows would pair
    each cell's own state with a donor-level outcome; the outcome regression then learns
    between-donor associations from a handful of donors while the treatment regression learns
    within-donor ones, and null genes sharing network neighbours with causal genes come out
    significant slightly too often (0.057 vs 0.051 at 40 donors), at three times the cost (see
    ``docs/benchmarks/dml_calibration.md``; the larger miscalibration of the previous default,
    8% instead of 5%, came from the Wald SE). The estimate is then the change in the phenotype
    (probability of being a case) per unit of donor-mean log1p CP10k, the scale of an eQTL
    effect in Mendelian randomization.

    Parameters
    ----------
    adata
        Cells: raw counts in ``layers['counts']`` or X (or log expression, ``expression='log'``).
    phenotype_key
        obs column with the outcome: the 0/1 case label (per cell, or per donor repeated on its
        cells), or a numeric score with ``binary_phenotype=False``.
    donor_key
        obs column with the donor of each cell (folds and SE clusters). ``None``: cells are
        treated as independent (not advisable when donors exist).
    cell_type_key
        obs column with cell types, analysed separately; ``None``: all cells together.
    genes
        Genes to test (default all); the confounders always use all genes.
    confounders
        ``"pca"``, ``"autoencoder"`` (needs PyTorch) or the key of an ``obsm`` representation
        (used as is for every gene, so it should not be computed from the tested genes).
    n_components
        Number of principal components / embedding dimension.
    learner
        Nuisance learner for both regressions: ``"ridge_cv"`` (vectorised, penalty by
        leave-one-out error), ``"ridge"`` (fixed ``alpha=1``), ``"lasso"``, ``"gbm"``, or any
        scikit-learn regressor (fitted per gene).
    unit
        ``"donor"`` (rows = donors, needs ``donor_key``), ``"cell"`` (rows = cells, SEs
        clustered by donor) or ``"auto"``: donors when the phenotype is constant within each
        donor, else cells.
    inference
        ``"score"`` (default): null-imposed score SE and t reference; ``"wald"``: DoubleML's
        sandwich SE at the estimate and normal reference (anti-conservative with few donors;
        for comparison).
    n_folds
        Cross-fitting folds; each cell type needs at least this many donors.
    n_rep
        Repetitions of the fold split (median-aggregated).
    exclude_gene
        Leave each gene out of its own confounder adjustment.
    binary_phenotype
        Require the phenotype to be 0/1.
    expression
        ``"counts"``: normalise to ``log1p(counts / total * 1e4)``; ``"log"``: use as is.
    layer
        Matrix to read instead of ``layers['counts']`` / X.
    level
        Confidence level of the intervals.
    rng
        Seed or Generator for folds and learners.

    Returns
    -------
    pandas.DataFrame
        One row per cell type x gene with columns :data:`RESULT_COLUMNS`: ``estimate`` (change in
        phenotype per unit of log1p CP10k), ``se`` (score-test SE), two-sided ``pval`` and
        ``ci_low``, ``ci_high`` from the t distribution with ``donors - 1`` degrees of freedom
        (``cells - 1`` without donors), Benjamini-Hochberg ``fdr`` within the cell type,
        ``n_cells``, ``n_donors``. Cell types with fewer than ``n_folds`` donors or a constant
        phenotype are skipped (logged).
    """
    start = time.perf_counter()
    rng = as_rng(rng)
    obs = _checked_obs(adata, phenotype_key, donor_key, cell_type_key, binary_phenotype)
    by_donor = _by_donor(obs, unit, donor_key)
    targets = _gene_indices(adata.var_names, genes)
    counts = expression_matrix(adata, layer)
    _check_expression(counts)
    frames = []
    for cell_type, cells in obs.groupby("cell_type", observed=True).indices.items():
        sub = obs.iloc[cells]
        reason = _skip_reason(sub, n_folds, donor_key)
        if reason:
            logger.warning("dml: skipping cell type %r: %s", cell_type, reason)
            continue
        expr = _dense(log_normalize(counts[cells], expression))
        conf = _confounders(
            adata, cells, expr, targets, confounders, n_components, exclude_gene, rng
        )
        if by_donor:
            expr, sub, conf = _donor_means(expr, sub, conf)
        theta, se, dof = _fit_genes(
            expr, sub, targets, conf, learner, n_folds, n_rep, donor_key, inference, rng
        )
        table = pd.DataFrame(wald_summary(theta, se, level, dof))
        table.insert(0, "gene", adata.var_names[targets])
        table.insert(0, "cell_type", cell_type)
        table["fdr"] = bh_fdr(table["pval"].to_numpy())
        table["n_cells"] = len(cells)
        table["n_donors"] = obs["donor"].iloc[cells].nunique()
        frames.append(table[RESULT_COLUMNS])
    result = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    )
    logger.info(
        "dml: %d genes x %d cell types (%s as units) in %.1f s",
        len(targets),
        len(frames),
        "donors" if by_donor else "cells",
        time.perf_counter() - start,
    )
    return result


def _checked_obs(adata, phenotype_key, donor_key, cell_type_key, binary) -> pd.DataFrame:
    """obs reduced to ``phenotype``, ``donor``, ``cell_type`` columns, validated."""
    for key in (phenotype_key, donor_key, cell_type_key):
        if key is not None and key not in adata.obs:
            raise InputError(
                f"obs column {key!r} not found (available: {list(adata.obs.columns)}); "
                "add it or pass the right column name"
            )
    phenotype = adata.obs[phenotype_key]
    if not (pd.api.types.is_numeric_dtype(phenotype) or pd.api.types.is_bool_dtype(phenotype)):
        raise InputError(
            f"obs[{phenotype_key!r}] must be numeric (0/1 case label), got dtype "
            f"{phenotype.dtype}; encode cases as 1 and controls as 0"
        )
    y = phenotype.to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise InputError(f"obs[{phenotype_key!r}] has missing values; drop those cells")
    if binary and not np.isin(y, (0.0, 1.0)).all():
        raise InputError(
            f"obs[{phenotype_key!r}] must be a 0/1 case label, found values "
            f"{np.unique(y)[:5].tolist()}; recode it or pass binary_phenotype=False"
        )
    if len(np.unique(y)) < 2:
        raise InputError(f"obs[{phenotype_key!r}] is constant; DML needs cases and controls")
    out = pd.DataFrame({"phenotype": y}, index=adata.obs_names)
    out["donor"] = _labels(adata.obs, donor_key, None)
    out["cell_type"] = _labels(adata.obs, cell_type_key, "all")
    if donor_key is not None and out["donor"].nunique() < 2:
        raise InputError(
            f"obs[{donor_key!r}] has a single donor; DML across donors needs at least "
            "n_folds donors (or pass donor_key=None to treat cells as independent)"
        )
    return out


def _by_donor(obs: pd.DataFrame, unit: str, donor_key: str | None) -> bool:
    """Whether donors are the units of analysis (see ``unit`` in :func:`dml`)."""
    if unit not in ("auto", "donor", "cell"):
        raise InputError(f"unit must be 'auto', 'donor' or 'cell', got {unit!r}")
    if unit == "donor" and donor_key is None:
        raise InputError("unit='donor' needs donor_key; give the obs column with donors")
    if unit != "auto" or donor_key is None:
        return unit == "donor"
    return bool((obs.groupby("donor")["phenotype"].nunique() == 1).all())


def _donor_means(expr: np.ndarray, sub: pd.DataFrame, conf: Confounders):
    """Expression, obs and confounder features averaged over each donor's cells."""
    codes, labels = pd.factorize(sub["donor"], sort=True)
    members = group_indicator(codes)
    members = sp.diags(1.0 / np.asarray(members.sum(1)).ravel()) @ members
    obs = pd.DataFrame({"phenotype": members @ sub["phenotype"].to_numpy(), "donor": labels})
    features = [members @ f for f in conf.features]
    return members @ expr, obs, Confounders(features, conf.groups, conf.loadings)


def _labels(obs: pd.DataFrame, key: str | None, default: str | None) -> np.ndarray:
    """String labels of an obs column (``default`` when ``key`` is None); NaN is an error."""
    if key is None:
        return np.full(len(obs), default, dtype=object)
    col = obs[key]
    if col.isna().any():
        raise InputError(f"obs[{key!r}] has missing values; fill or drop those cells")
    return col.astype(str).to_numpy()


def _gene_indices(var_names: pd.Index, genes: Sequence[str] | None) -> np.ndarray:
    """Column indices of the requested genes (all by default)."""
    if genes is None:
        return np.arange(len(var_names))
    genes = [genes] if isinstance(genes, str) else list(genes)
    missing = [g for g in genes if g not in var_names]
    if missing:
        raise InputError(f"genes not in var_names: {missing[:5]}; check the gene symbols")
    return var_names.get_indexer(genes)


def _check_expression(matrix) -> None:
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    if not np.isfinite(values).all():
        raise InputError("expression matrix has NaN or infinite values; fix or drop those cells")


def _skip_reason(sub: pd.DataFrame, n_folds: int, donor_key: str | None) -> str | None:
    """Why a cell type cannot be analysed, or None."""
    if sub["phenotype"].nunique() < 2:
        return "the phenotype is constant in it"
    if donor_key is not None and sub["donor"].nunique() < n_folds:
        return f"{sub['donor'].nunique()} donors < n_folds={n_folds}"
    if donor_key is None and len(sub) < 2 * n_folds:
        return f"{len(sub)} cells are too few for {n_folds} folds"
    return None


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=float)


def _confounders(adata, cells, expr, targets, method, n_components, exclude_gene, rng):
    """The confounder representation named by ``method`` (a registry name or an obsm key)."""
    if method in CONFOUNDERS:
        return CONFOUNDERS[method](expr, targets, n_components, exclude_gene=exclude_gene, rng=rng)
    if method in adata.obsm:
        features = np.asarray(adata.obsm[method], dtype=float)[cells]
        return Confounders([features], [np.arange(len(targets))], [None])
    raise InputError(
        f"confounders={method!r} is neither one of {sorted(CONFOUNDERS)} nor an obsm key "
        f"(available: {list(adata.obsm)})"
    )


def _fit_genes(expr, sub, targets, conf, learner, n_folds, n_rep, donor_key, inference, rng):
    """Estimates and SEs of all target genes, one PLR per confounder group, shared folds."""
    seed = int(rng.integers(2**63))  # the same folds for every gene group
    groups = sub["donor"].to_numpy() if donor_key is not None else None
    y = sub["phenotype"].to_numpy()
    theta, se = np.full(len(targets), np.nan), np.full(len(targets), np.nan)
    for features, idx, loadings in zip(conf.features, conf.groups, conf.loadings, strict=True):
        plr = PLR(
            learner, learner, n_folds=n_folds, n_rep=n_rep, random_state=seed, inference=inference
        )
        plr.fit(features, y, expr[:, targets[idx]], groups=groups, loadings=loadings)
        theta[idx], se[idx] = plr.coef_, plr.se_
    return theta, se, plr.dof_
