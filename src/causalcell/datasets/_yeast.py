"""Yeast TF perturbations two ways (Kemmeren 2014 deletions, Hackett 2020 15-min induction) and
reference TF -> target networks (Tchourine 2018 gold standard; YEASTRACT 2019 from a local copy).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError

_FILES = {
    "deletion": "kemmeren2014_tfko_log2fc_573genes_x_180samples.csv.gz",
    "induction": "hackett2020_zev15min_log2fc_573genes_x_180samples.csv.gz",
}
_TCHOURINE = "tchourine2018_gold_standard.tsv.gz"
_YEASTRACT = "YEASTRACT_20190713_BOTH.tsv.gz"
REFERENCES = ("tchourine2018", "yeastract")


def _open(name: str):
    return resources.as_file(resources.files("causalcell.datasets") / "data" / "yeast" / name)


def yeast_tf_perturbation(kind: str = "deletion") -> ad.AnnData:
    """179 yeast TFs perturbed by deletion or by 15-minute induction, 573 target genes.

    Microarray log2 fold changes vs wild type, the same TFs and genes in both (Ma & Brent 2021's
    matched subset of Kemmeren et al. 2014 and Hackett et al. 2020; MIT licence). The perturbed
    TFs are not among the measured genes, so effects are per perturbation (no first stage).

    Parameters
    ----------
    kind
        ``"deletion"`` (steady state after gene deletion) or ``"induction"`` (15 min after
        estradiol induction of the TF with the ZEV system: early, mostly direct responses).

    Returns
    -------
    AnnData
        One row per TF plus a ``"control"`` row of zeros (the wild-type reference), X = log2
        fold change (use ``expression="log"``); obs ``perturbation`` (systematic name of the
        TF), ``guide`` (``"<TF>_deletion"``), ``perturbation_type``; var: systematic names.
    """
    if kind not in _FILES:
        raise InputError(f"kind must be one of {tuple(_FILES)}, got {kind!r}")
    with _open(_FILES[kind]) as p:
        table = pd.read_csv(p, index_col=0, compression="gzip")
    tfs = [str(c) for c in table.columns]
    labels = ["control" if tf == "WT" else tf for tf in tfs]
    obs = pd.DataFrame(
        {
            "perturbation": labels,
            "guide": [f"{tf}_{kind}" for tf in tfs],
            "perturbation_type": ["none" if tf == "WT" else kind for tf in tfs],
        }
    )
    obs.index = obs["guide"].to_numpy()
    adata = ad.AnnData(
        X=table.to_numpy(float).T, obs=obs, var=pd.DataFrame(index=table.index.astype(str))
    )
    adata.uns["source"] = {
        "deletion": "Kemmeren et al. 2014 Cell (TF deletions), subset of Ma & Brent 2021",
        "induction": "Hackett et al. 2020 Mol Syst Biol (ZEV induction, 15 min), subset of "
        "Ma & Brent 2021",
    }[kind]
    return adata


def yeast_tf_targets(
    reference: str = "tchourine2018", path: str | Path | None = None
) -> pd.DataFrame:
    """Documented direct TF -> target edges of yeast, independent of the perturbation data.

    Parameters
    ----------
    reference
        ``"tchourine2018"``: the gold standard of Tchourine et al. 2018 (Cell Rep 23:376; binding
        and perturbation evidence, signed; shipped, from the Inferelator repository, BSD);
        ``"yeastract"``: YEASTRACT (13 July 2019) regulations with DNA-binding and expression
        evidence. YEASTRACT is free for academic use but not redistributed here: pass ``path``
        to ``YEASTRACT_20190713_BOTH.tsv.gz`` (targets x TFs, 0/1).
    path
        A file to read instead of the shipped one (same layout: targets x TFs, tab-separated).

    Returns
    -------
    DataFrame
        ``source`` (TF), ``target``, ``sign`` (+1/-1; 0 where the reference has no sign).
    """
    if reference not in REFERENCES:
        raise InputError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if path is None and reference == "yeastract":
        raise InputError(
            "YEASTRACT is not shipped (academic-use licence): pass path= to "
            f"{_YEASTRACT} (e.g. from ../shared/data/yeast_tf_target_references)"
        )
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file (a targets x TFs table, tab-separated)")
        table = pd.read_csv(path, sep="\t", index_col=0)
    else:
        with _open(_TCHOURINE) as p:
            table = pd.read_csv(p, sep="\t", index_col=0)
    values = table.to_numpy()
    tgt, src = np.nonzero(values != 0)
    sign = np.sign(values[tgt, src]).astype(int) if reference == "tchourine2018" else 0
    edges = pd.DataFrame(
        {
            "source": table.columns[src].astype(str),
            "target": table.index[tgt].astype(str),
            "sign": sign,
        }
    )
    return edges.sort_values(["source", "target"], ignore_index=True)
