"""Papalexi et al. 2021 ECCITE-seq CRISPR knockout screen (THP-1 cells), sceptre's subset."""

from __future__ import annotations

from importlib import resources

import anndata as ad
import pandas as pd

from causalcell.io import normalize_labels

_FILE = "papalexi2021_sceptre_lowmoi.h5ad"


def papalexi2021() -> ad.AnnData:
    """Papalexi et al. (Nat Genet 2021) low-MOI CRISPR-KO screen, 20,729 cells x 299 genes.

    26 targeted genes (3-4 guides each) plus 9 non-targeting guides, raw UMI counts, three
    biological replicates. Nine targets are themselves measured (STAT1, JAK2, CMTM6, STAT2,
    UBE2L6, STAT3, TNFRSF14, IFNGR2, NFKBIA), so their knockdown is visible. From the R package
    sceptredata (MIT licence); the guide of a cell is the guide with most UMIs.

    Returns
    -------
    AnnData
        X: int32 CSR counts. obs: ``perturbation`` (target, ``"control"`` for non-targeting),
        ``guide`` (guide id), ``batch`` (biological replicate), and the original columns
        (``grna_top_umi``, ``grna_total_umi``, ``grna_top_frac``, ``target_gene``, ``bio_rep``).
        obsm ``grna_counts``: guide UMI counts (guides in ``uns['grna_ids']``).
    """
    with resources.as_file(resources.files("causalcell.datasets") / "data" / _FILE) as path:
        adata = ad.read_h5ad(path)
    obs = adata.obs
    adata.obs = pd.DataFrame(
        {
            "perturbation": normalize_labels(obs["target_gene"].astype(str)),
            "guide": pd.Categorical(obs["grna_top"].astype(str)),
            "batch": pd.Categorical(obs["bio_rep"].astype(str)),
        },
        index=obs.index,
    ).join(obs)
    return adata
