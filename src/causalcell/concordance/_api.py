"""Concordance of single-cell DML and population MR effects, per cell type and per gene set."""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng, logger
from causalcell.concordance._kernels import (
    permutation_correlation,
    set_scores,
    sign_agreement,
    top_enrichment,
)
from causalcell.effects._kernels import bh_fdr

SUMMARY_COLUMNS = [
    "cell_type",
    "n_genes",
    "r",
    "pval",
    "r_estimate",
    "spearman",
    "n_mr_hits",
    "sign_agreement",
    "sign_pval",
    "top",
    "top_overlap",
    "top_fold",
    "top_pval",
    "fdr",
]
"""Columns of :func:`concordance`."""

SET_COLUMNS = ["cell_type", "gene_set", "name", "n_genes", "score", "pval", "fdr", "drivers"]
"""Columns of :func:`gene_set_concordance`."""


def _check(table: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(
            f"{name} table lacks column(s) {missing} (has {list(table.columns)}); give the "
            f"output of causalcell.{'dml.dml' if name == 'DML' else 'mr.mr_genes'}"
        )


def merge_effects(dml_table: pd.DataFrame, mr_table: pd.DataFrame) -> pd.DataFrame:
    """Per cell type and gene, the DML and MR effects side by side (genes in both tables).

    Returns
    -------
    pandas.DataFrame
        ``cell_type, gene`` and, for ``dml`` and ``mr``, ``*_estimate, *_se, *_z, *_pval``
        plus ``mr_fdr``; ``z = estimate / se``.
    """
    _check(dml_table, "DML", ["cell_type", "gene", "estimate", "se", "pval"])
    _check(mr_table, "MR", ["gene", "estimate", "se", "pval"])
    if mr_table["gene"].duplicated().any():
        raise InputError("MR table has a gene twice; give one MR estimate per gene")
    cols = ["estimate", "se", "pval"]
    left = dml_table[["cell_type", "gene", *cols]].rename(columns={c: f"dml_{c}" for c in cols})
    mr_cols = cols + (["fdr"] if "fdr" in mr_table else [])
    right = mr_table[["gene", *mr_cols]].rename(columns={c: f"mr_{c}" for c in mr_cols})
    merged = left.merge(right, on="gene", how="inner")
    if "mr_fdr" not in merged:
        merged["mr_fdr"] = bh_fdr(merged["mr_pval"].to_numpy(float))
    for side in ("dml", "mr"):
        with np.errstate(divide="ignore", invalid="ignore"):
            merged[f"{side}_z"] = merged[f"{side}_estimate"] / merged[f"{side}_se"]
    ok = np.isfinite(merged[["dml_z", "mr_z"]]).all(axis=1)
    return merged[ok].reset_index(drop=True)


def _one_cell_type(sub: pd.DataFrame, top: int | None, mr_fdr: float, n_perm, rng) -> dict:
    a, b = sub["dml_z"].to_numpy(), sub["mr_z"].to_numpy()
    r, pval = permutation_correlation(a, b, n_perm=n_perm, rng=rng)
    hits = (sub["mr_fdr"] < mr_fdr).to_numpy()
    agree, _, sign_p = sign_agreement(a[hits], b[hits])
    k = top if top is not None else max(5, len(sub) // 10)
    overlap, top_p, fold = top_enrichment(-np.log10(sub["dml_pval"].to_numpy()), hits, k)
    return {
        "n_genes": len(sub),
        "r": r,
        "pval": pval,
        "r_estimate": sub["dml_estimate"].corr(sub["mr_estimate"]),
        "spearman": sub["dml_z"].corr(sub["mr_z"], method="spearman"),
        "n_mr_hits": int(hits.sum()),
        "sign_agreement": agree,
        "sign_pval": sign_p,
        "top": min(k, len(sub)),
        "top_overlap": overlap,
        "top_fold": fold,
        "top_pval": top_p,
    }


def concordance(
    dml_table: pd.DataFrame,
    mr_table: pd.DataFrame,
    *,
    top: int | None = None,
    mr_fdr: float = 0.05,
    n_perm: int = 2000,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Per cell type, do single-cell DML and population MR tell the same causal story?

    For the genes estimated by both (output of :func:`causalcell.dml.dml` and
    :func:`causalcell.mr.mr_genes`), per cell type:

    - ``r``: Pearson correlation across genes of the DML and MR z-scores (estimate / SE; the
      two effects are on different scales, z-scores weigh each gene by its precision) and
      ``pval``, its one-sided permutation p-value (MR values permuted across genes), with
      ``fdr`` across cell types; ``r_estimate`` (Pearson of the raw estimates) and
      ``spearman`` (of the z-scores) for reference;
    - ``sign_agreement``: among the ``n_mr_hits`` MR-significant genes (BH ``fdr < mr_fdr``),
      the fraction whose DML effect has the same sign, and ``sign_pval`` (one-sided binomial);
    - ``top_overlap``: how many of the ``top`` DML genes (smallest p-values; default a tenth of
      the genes, at least 5) are MR-significant, ``top_fold`` (observed / expected) and
      ``top_pval`` (hypergeometric).

    Parameters
    ----------
    dml_table
        Columns ``cell_type, gene, estimate, se, pval``.
    mr_table
        One row per gene: ``gene, estimate, se, pval`` (``fdr`` optional).
    top
        Number of top DML genes for the enrichment.
    mr_fdr
        FDR level defining MR-significant genes.
    n_perm
        Permutations for the correlation p-value.
    rng
        Seed or Generator of the permutations.

    Returns
    -------
    pandas.DataFrame
        One row per cell type with columns :data:`SUMMARY_COLUMNS`.
    """
    start = time.perf_counter()
    rng = as_rng(rng)
    merged = merge_effects(dml_table, mr_table)
    if merged.empty:
        raise InputError(
            "no gene is in both the DML and the MR table; check that both use the same gene "
            "names (e.g. symbols)"
        )
    rows = [
        {"cell_type": ct} | _one_cell_type(sub, top, mr_fdr, n_perm, rng)
        for ct, sub in merged.groupby("cell_type", sort=True, observed=True)
    ]
    out = pd.DataFrame(rows)
    out["fdr"] = bh_fdr(out["pval"].to_numpy(float))
    logger.info(
        "concordance: %d cell types, %d genes in %.1f s",
        len(out),
        merged["gene"].nunique(),
        time.perf_counter() - start,
    )
    return out[SUMMARY_COLUMNS]


def read_gmt(path: str | os.PathLike) -> dict[str, tuple[str, frozenset[str]]]:
    """Gene sets of a GMT file (plain or ``.gz``): ``{id: (name, genes)}``.

    Lines are ``id <tab> name/description <tab> gene <tab> gene ...`` (MSigDB, and the GO
    biological-process sets in ``../shared/data/gene_ontology_human_orghsegdb``).
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    sets = {}
    try:
        with opener(path, "rt") as fh:
            for number, line in enumerate(fh, 1):
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 3:
                    raise InputError(
                        f"{path}: line {number} has {len(fields)} field(s); a GMT line is "
                        "id<TAB>name<TAB>gene<TAB>gene..."
                    )
                sets[fields[0]] = (fields[1], frozenset(g for g in fields[2:] if g))
    except OSError as err:
        raise InputError(f"cannot read gene sets {path}: {err.strerror or err}") from err
    return sets


def _as_sets(gene_sets) -> dict[str, tuple[str, frozenset[str]]]:
    if isinstance(gene_sets, str | os.PathLike):
        return read_gmt(gene_sets)
    if not isinstance(gene_sets, Mapping):
        raise InputError("gene_sets must be a GMT path or a mapping of set id -> genes")
    out = {}
    for key, value in gene_sets.items():
        name, genes = value if isinstance(value, tuple) and len(value) == 2 else (key, value)
        out[str(key)] = (str(name), frozenset(map(str, genes)))
    return out


def gene_set_concordance(
    dml_table: pd.DataFrame,
    mr_table: pd.DataFrame,
    gene_sets,
    *,
    min_size: int = 3,
    max_size: int = 500,
    n_perm: int = 2000,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Pathway view: per cell type and gene set, concordant evidence among the set's genes.

    The score of a set is the mean over its genes (those in both tables) of ``z_dml * z_mr``:
    positive when DML and MR agree in sign and are both strong. Its one-sided p-value compares
    it with random gene sets of the same size (``n_perm`` draws); ``fdr`` is BH within the cell
    type. ``drivers`` lists the set's genes with both ``p < 0.05`` and the same sign.

    Parameters
    ----------
    dml_table, mr_table
        As in :func:`concordance`.
    gene_sets
        A GMT path (e.g. GO biological process, ``read_gmt``) or a mapping ``id -> genes`` or
        ``id -> (name, genes)``.
    min_size, max_size
        Sets with fewer or more genes among the tested ones are skipped.
    n_perm
        Random sets per set size.
    rng
        Seed or Generator of the random sets.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SET_COLUMNS`, sorted by cell type and p-value.
    """
    rng = as_rng(rng)
    sets = _as_sets(gene_sets)
    merged = merge_effects(dml_table, mr_table)
    frames = []
    for ct, sub in merged.groupby("cell_type", sort=True, observed=True):
        frames.append(_sets_one_cell_type(ct, sub, sets, min_size, max_size, n_perm, rng))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SET_COLUMNS)
    return out.sort_values(["cell_type", "pval"], kind="stable").reset_index(drop=True)


def _sets_one_cell_type(ct, sub, sets, min_size, max_size, n_perm, rng) -> pd.DataFrame:
    index = {g: i for i, g in enumerate(sub["gene"])}
    ids, members = [], []
    for key, (_, genes) in sets.items():
        idx = np.array(sorted(index[g] for g in genes if g in index), dtype=int)
        if min_size <= len(idx) <= max_size:
            ids.append(key)
            members.append(idx)
    product = (sub["dml_z"] * sub["mr_z"]).to_numpy()
    scores, pvals = set_scores(product, members, n_perm=n_perm, rng=rng)
    agree = (
        (sub["dml_pval"] < 0.05)
        & (sub["mr_pval"] < 0.05)
        & (np.sign(sub["dml_z"]) == np.sign(sub["mr_z"]))
    ).to_numpy()
    genes = sub["gene"].to_numpy()
    return pd.DataFrame(
        {
            "cell_type": ct,
            "gene_set": ids,
            "name": [sets[k][0] for k in ids],
            "n_genes": [len(m) for m in members],
            "score": scores,
            "pval": pvals,
            "fdr": bh_fdr(pvals) if len(ids) else [],
            "drivers": [",".join(genes[m[agree[m]]]) for m in members],
        },
        columns=SET_COLUMNS,
    )
