"""DREAM4 in-silico network challenge (Marbach et al. 2010), size-10 and size-100 networks."""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError

_KINDS = {"knockouts": "ko", "knockdowns": "kd"}
_NETWORKS = {10: (1, 2, 3, 4, 5), 100: (1, 2, 3)}


def _read(size: int, network: int, name: str) -> pd.DataFrame:
    path = (
        resources.files("causalcell.datasets")
        / "data"
        / "dream4"
        / f"size{size}_{network}_{name}.tsv.gz"
    )
    with resources.as_file(path) as p:
        header = None if name.startswith("goldStandard") and "signed" not in name else 0
        return pd.read_csv(p, sep="\t", header=header, compression="gzip")


def dream4(
    network: int = 1, *, size: int = 100, data: tuple[str, ...] = ("knockouts", "knockdowns")
) -> ad.AnnData:
    """DREAM4 steady states: wild type plus single-gene knockouts and/or knockdowns.

    Parameters
    ----------
    network
        Network number (1-3 for size 100, 1-5 for size 10).
    size
        10 or 100 genes.
    data
        Which perturbation sets to include: ``"knockouts"`` (gene set to 0) and/or
        ``"knockdowns"`` (transcription halved).

    Returns
    -------
    AnnData
        One profile per condition, X on the analysis scale (use ``expression="log"``):
        obs ``perturbation`` (the targeted gene, ``"control"`` for the wild type), ``guide``
        (``"G7_ko"``, ``"G7_kd"``: each intervention is its own instrument), ``perturbation_type``;
        ``uns['gold_standard']``: the true directed edges (``source``, ``target``, ``sign`` when known).
    """
    if size not in _NETWORKS or network not in _NETWORKS[size]:
        raise InputError(
            f"DREAM4 has networks {_NETWORKS} (size: networks); got size={size}, network={network}"
        )
    unknown = set(data) - set(_KINDS)
    if unknown or not data:
        raise InputError(f"data must be a subset of {tuple(_KINDS)}, got {data!r}")
    wt = _read(size, network, "wildtype")
    genes = [str(g) for g in wt.columns]
    blocks = [wt.to_numpy()]
    obs = [
        pd.DataFrame(
            {"perturbation": ["control"], "guide": ["wildtype"], "perturbation_type": ["none"]}
        )
    ]
    for kind in data:
        values = _read(size, network, kind)
        blocks.append(values.to_numpy())
        obs.append(
            pd.DataFrame(
                {
                    "perturbation": genes,
                    "guide": [f"{g}_{_KINDS[kind]}" for g in genes],
                    "perturbation_type": kind.rstrip("s"),
                }
            )
        )
    frame = pd.concat(obs, ignore_index=True)
    frame.index = frame["guide"].to_numpy()
    adata = ad.AnnData(
        X=np.vstack(blocks).astype(np.float64), obs=frame, var=pd.DataFrame(index=genes)
    )
    adata.uns["gold_standard"] = _gold_standard(size, network)
    adata.uns["source"] = f"DREAM4 in silico size {size} network {network}"
    return adata


def _gold_standard(size: int, network: int) -> pd.DataFrame:
    gold = _read(size, network, "goldStandard")
    gold.columns = ["source", "target", "edge"]
    gold = gold[gold["edge"] == 1][["source", "target"]].reset_index(drop=True)
    if size == 100:
        signed = _read(size, network, "goldStandard_signed_from_sbml")
        sign = {(a, b): 1 if t == "+" else -1 for a, b, t in signed.itertuples(index=False)}
        gold["sign"] = [
            sign.get((a, b), 0) for a, b in zip(gold["source"], gold["target"], strict=True)
        ]
    return gold
