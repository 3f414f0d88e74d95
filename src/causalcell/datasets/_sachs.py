"""Sachs et al. 2005 single-cell phospho-flow cytometry with interventions (CD4+ T cells)."""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError

PROTEINS = ("Akt", "Erk", "Jnk", "Mek", "P38", "PIP2", "PIP3", "PKA", "PKC", "Plcg", "Raf")
# cdt's names of the proteins (consensus_graph_cdt_edges.csv)
_CDT_NAMES = {
    "praf": "Raf",
    "pmek": "Mek",
    "plcg": "Plcg",
    "p44/42": "Erk",
    "pakts473": "Akt",
    "pjnk": "Jnk",
}
CONSENSUS = ("benchpress", "cdt")


def _open(name: str):
    return resources.as_file(resources.files("causalcell.datasets") / "data" / "sachs2005" / name)


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    with _open(f"{name}.gz") as p:
        return pd.read_csv(p, compression="gzip", **kwargs)


def sachs2005(consensus: str = "benchpress") -> ad.AnnData:
    """Sachs et al. (Science 2005): 11 phosphoproteins in 7,466 single T cells, 9 conditions.

    Conditions 1-2 (anti-CD3/CD28, with or without ICAM-2) are the observational baseline
    (``"control"``); conditions 3-7 add an inhibitor to anti-CD3/CD28 (Akt inhibitor, G06976 on
    PKC, psitectorigenin on PIP2, U0126 on Mek, LY294002 on PIP3); conditions 8-9 activate PKC
    (PMA) or PKA (beta2cAMP) instead of anti-CD3/CD28, so their baseline differs. Activity
    inhibitors (Akt inhibitor, U0126) need not lower the measured phospho level of their own
    target (U0126 raises pMek): the target's own change is not a valid first stage there.

    Parameters
    ----------
    consensus
        Which published consensus graph to attach as ``uns['gold_standard']``:
        ``"benchpress"`` (17 edges, the adjacency of the benchpress benchmark) or ``"cdt"``
        (18 edges, the Causal Discovery Toolbox's). The two differ in 9 edges; neither is
        complete (see the data's SOURCE.md).

    Returns
    -------
    AnnData
        X: natural log of the intensities (all >= 1; use ``expression="log"``);
        ``layers['intensity']``: the raw intensities. obs: ``perturbation`` (the intervened
        node or ``"control"``), ``guide`` (the condition: each reagent its own instrument),
        ``condition``, ``reagent``, ``intervention_type``; ``uns['gold_standard']`` (``source``,
        ``target``), ``uns['consensus']``.
    """
    if consensus not in CONSENSUS:
        raise InputError(f"consensus must be one of {CONSENSUS}, got {consensus!r}")
    table = _read_csv("interventions.csv")
    frames, obs = [], []
    for row in table.itertuples(index=False):
        values = _read_csv(row.file)[list(PROTEINS)]
        frames.append(values.to_numpy(float))
        node = row.intervened_node if isinstance(row.intervened_node, str) else "control"
        obs.append(
            pd.DataFrame(
                {
                    "perturbation": node,
                    "guide": row.condition,
                    "condition": row.condition,
                    "reagent": row.reagent,
                    "intervention_type": row.intervention_type,
                },
                index=[f"{row.condition}_{k}" for k in range(len(values))],
            )
        )
    intensity = np.vstack(frames)
    adata = ad.AnnData(
        X=np.log(intensity), obs=pd.concat(obs), var=pd.DataFrame(index=list(PROTEINS))
    )
    adata.layers["intensity"] = intensity
    adata.uns["gold_standard"] = sachs_consensus(consensus)
    adata.uns["consensus"] = consensus
    adata.uns["source"] = "Sachs et al. 2005 Science 308:523 (via benchpress)"
    return adata


def sachs_consensus(consensus: str = "benchpress") -> pd.DataFrame:
    """A published consensus graph of the Sachs network as ``source, target`` edges.

    ``"benchpress"``: benchpress' adjacency matrix (row = cause); ``"cdt"``: the Causal
    Discovery Toolbox's edge list, its protein names mapped to :data:`PROTEINS`.
    """
    if consensus == "benchpress":
        adj = _read_csv("consensus_graph_benchpress_adjmat.csv")
        adj.index = adj.columns
        src, tgt = np.nonzero(adj.to_numpy() != 0)
        edges = pd.DataFrame({"source": adj.index[src], "target": adj.columns[tgt]})
    elif consensus == "cdt":
        edges = _read_csv("consensus_graph_cdt_edges.csv")
        edges.columns = ["source", "target"]
        edges = edges.replace(_CDT_NAMES)
    else:
        raise InputError(f"consensus must be one of {CONSENSUS}, got {consensus!r}")
    return edges.sort_values(["source", "target"], ignore_index=True)
