"""AnnData front end of the effects engine."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._utils import RngLike
from causalcell.effects._engine import EffectsResult, compute_effects
from causalcell.io import Cells, validate_cells
from causalcell.io._validate import Expression


def effects(
    adata: ad.AnnData | Cells,
    *,
    expression: Expression = "counts",
    perturbation_key: str = "perturbation",
    guide_key: str = "guide",
    batch_key: str = "batch",
    layer: str | None = None,
    min_cells: int | None = None,
    escape: bool = True,
    responders_only: bool = False,
    signature_fdr: float = 0.05,
    chunk_size: int = 20_000,
    rng: RngLike = None,
    progress: bool | None = None,
) -> ad.AnnData:
    """Effect of every perturbation on every gene, with standard errors, p-values and FDR.

    The effect (``delta``) is the difference of mean ``log1p(counts / total * 1e4)`` between
    perturbed and control cells, matched within ``batch`` when that column exists. Cells are
    read in blocks of ``chunk_size`` rows (sparse blocks stay sparse), so memory scales with
    genes x (perturbations + guides) plus one block, also for files opened with ``backed='r'``.

    Parameters
    ----------
    adata
        Cells in contract form (see ``CONTRACT.md``), or already validated :class:`~causalcell.io.Cells`.
    expression
        ``"counts"``: X holds raw UMI counts. ``"log"``: X is already on the analysis scale.
    perturbation_key, guide_key, batch_key
        obs columns with the perturbation labels, guide ids (``+``-joined for several guides)
        and batches; the guide and batch columns are optional.
    layer
        Matrix to read (default: ``layers['counts']`` if present, else X).
    min_cells
        Perturbations and guides with fewer cells are dropped (listed in
        ``uns['effects']['params']['dropped_perturbations']``); default 3, or 1 for
        ``expression='log'`` (one profile per condition).
    escape
        Fit the escaper mixture: each perturbed cell's probability of being unaffected.
    responders_only
        Recompute all effects after removing cells with escape probability above 0.5.
    signature_fdr
        FDR threshold that defines a perturbation's signature genes (escape scores, guide efficacy).
    chunk_size
        Cells per block.
    rng
        Seed or Generator (sampling of control cells for the escape null).
    progress
        Show progress bars (default: when stderr is a terminal).

    Returns
    -------
    AnnData
        One row per perturbation (controls excluded), one column per gene:

        - ``X`` and ``layers['delta']``: effect on log1p CP10k.
        - ``layers['se']``, ``layers['pval']`` (batch-stratified Student t test; its calibration is checked on non-targeting cells by :func:`null_calibration`), ``layers['fdr']``
          (Benjamini-Hochberg over all perturbation x gene pairs).
        - ``obs``: ``n_cells``, ``n_targets``, ``target_measured``, ``knockdown`` (fraction of the
          target's mRNA lost, for a measured single target), ``knockdown_pval``, ``n_guides``,
          ``responder_fraction`` (escape model with signatures cross-fitted on random halves of
          the cells; NaN where either half shows fewer than 3 signature genes), ``n_escapers``
          (expected number, ``(1 - responder_fraction) * n_cells``).
        - ``var['control_mean']``: mean log1p CP10k of control cells (batch-pooled).
        - ``uns['guides']``: per guide ``perturbation``, ``n_cells``, ``knockdown``,
          ``knockdown_pval``, ``signature_ratio`` (efficacy along the perturbation's signature,
          1 = average guide, 0 = no effect), ``responder_fraction``.
        - ``uns['guide_delta']``, ``uns['guide_se']``: guides x genes arrays (rows in the order
          of ``uns['guides']``), effects and standard errors.
        - ``uns['cells']``: per perturbed cell ``perturbation``, ``score``, ``escape_prob``.
        - ``uns['effects']['params']``: the parameters used.
    """
    cells = (
        adata
        if isinstance(adata, Cells)
        else validate_cells(
            adata, expression=expression, perturbation_key=perturbation_key, layer=layer
        )
    )
    result = compute_effects(
        cells,
        guide_key=guide_key,
        batch_key=batch_key,
        min_cells=min_cells,
        escape=escape,
        responders_only=responders_only,
        signature_fdr=signature_fdr,
        chunk_size=chunk_size,
        rng=rng,
        progress=progress,
    )
    return to_anndata(result)


def to_anndata(result: EffectsResult) -> ad.AnnData:
    """Pack an :class:`EffectsResult` into the contract's effects AnnData."""
    var = pd.DataFrame(index=result.genes)
    with np.errstate(invalid="ignore"):
        var["control_mean"] = (
            np.nanmean(result.control_mean, axis=0) if len(result.control_mean) else np.nan
        )
    out = ad.AnnData(
        X=result.delta.copy(),
        obs=result.table.copy(),
        var=var,
        layers={"delta": result.delta, "se": result.se, "pval": result.pval, "fdr": result.fdr},
    )
    out.uns["guides"] = result.guides
    # plain arrays: a 2,000-column DataFrame is written as 2,000 HDF5 datasets (~10 s at scale)
    out.uns["guide_delta"] = result.guide_delta.to_numpy()
    out.uns["guide_se"] = result.guide_se.to_numpy()
    out.uns["cells"] = result.cells
    out.uns["effects"] = {"params": _h5_safe(result.params)}
    return out


def _h5_safe(params: dict) -> dict:
    """h5ad cannot store None or empty dicts; stringify what it cannot hold."""
    safe = {}
    for key, value in params.items():
        if value is None or (isinstance(value, dict) and not value):
            safe[key] = "none"
        elif isinstance(value, dict):
            safe[key] = _h5_safe(value)
        else:
            safe[key] = value
    return safe
