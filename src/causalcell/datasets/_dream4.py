"""DREAM4 in-silico network challenge (Marbach et al. 2010), size-10 and size-100 networks.

Five kinds of data, all steady states or trajectories of GeneNetWeaver's models with values in
[0, 1] (used as they are: ``expression='log'``):

- ``wildtype``: the unperturbed steady state (always included where it exists, as the control);
- ``knockouts`` / ``knockdowns``: one steady state per gene, the gene deleted / its
  transcription halved;
- ``multifactorial``: steady states under small random perturbations of all genes at once
  (observational-like samples, labelled ``"control"``). For size 100 the multifactorial
  sub-challenge relabelled the genes, so these data come alone with their own gold standard;
- ``timeseries``: 5 (size 10) or 10 (size 100) trajectories of 21 time points; an unknown
  perturbation of about a third of the genes is applied from t = 0 to 500 and removed at 500.
"""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError

_TAGS = {"knockouts": "ko", "knockdowns": "kd"}
_KINDS = ("knockouts", "knockdowns", "multifactorial", "timeseries")
_NETWORKS = {10: (1, 2, 3, 4, 5), 100: (1, 2, 3)}


def _path(size: int, network: int, name: str):
    return (
        resources.files("causalcell.datasets") / "data" / "dream4" / f"size{size}_{network}_{name}"
    )


def _read(size: int, network: int, name: str) -> pd.DataFrame:
    with resources.as_file(_path(size, network, f"{name}.tsv.gz")) as p:
        header = None if name.startswith("goldStandard") and "signed" not in name else 0
        return pd.read_csv(p, sep="\t", header=header, compression="gzip")


def _check(size: int, network: int, data: tuple[str, ...]) -> None:
    if size not in _NETWORKS or network not in _NETWORKS[size]:
        raise InputError(
            f"DREAM4 has networks {_NETWORKS} (size: networks); got size={size}, network={network}"
        )
    unknown = set(data) - set(_KINDS)
    if unknown or not data:
        raise InputError(f"data must be a non-empty subset of {_KINDS}, got {data!r}")
    if size == 100 and "multifactorial" in data and len(data) > 1:
        raise InputError(
            "size-100 multifactorial data use other gene labels than the other DREAM4 size-100 "
            "data; load data=('multifactorial',) on its own"
        )


def _obs(n: int, perturbation, guide, kind: str, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"perturbation": perturbation, "guide": guide, "perturbation_type": [kind] * n, **extra}
    )


def _block(size: int, network: int, kind: str, genes: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Values and obs of one kind of data."""
    if kind in _TAGS:
        values = _read(size, network, kind).to_numpy()
        obs = _obs(len(genes), genes, [f"{g}_{_TAGS[kind]}" for g in genes], kind.rstrip("s"))
        return values, obs
    if kind == "multifactorial":
        values = _read(size, network, kind).to_numpy()
        n = len(values)
        return values, _obs(n, ["control"] * n, [f"mf{k}" for k in range(n)], "multifactorial")
    series = _timeseries(size, network)
    n = len(series)
    obs = _obs(
        n,
        [f"ts{s}" for s in series["series"]],
        [f"ts{s}_t{int(t)}" for s, t in zip(series["series"], series["Time"], strict=True)],
        "timeseries",
        series=series["series"].to_numpy(),
        time=series["Time"].to_numpy(float),
    )
    return series[genes].to_numpy(), obs


def _timeseries(size: int, network: int) -> pd.DataFrame:
    """Time series with a ``series`` number (a new series starts wherever Time falls back to 0)."""
    ts = _read(size, network, "timeseries").dropna(how="all").reset_index(drop=True)
    ts["series"] = np.cumsum(ts["Time"].to_numpy() == 0)
    return ts


def dream4(
    network: int = 1, *, size: int = 100, data: tuple[str, ...] = ("knockouts", "knockdowns")
) -> ad.AnnData:
    """DREAM4 data of one network in contract form, with its gold standard.

    Parameters
    ----------
    network
        Network number (1-3 for size 100, 1-5 for size 10).
    size
        10 or 100 genes.
    data
        Which data to include besides the wild type: any of ``"knockouts"`` (gene set to 0),
        ``"knockdowns"`` (transcription halved), ``"multifactorial"`` (observational-like
        samples; for size 100 only on its own, see the module docstring) and ``"timeseries"``.

    Returns
    -------
    AnnData
        One profile per row, X on the analysis scale (use ``expression="log"``): obs
        ``perturbation`` (the targeted gene; ``"control"`` for the wild type and multifactorial
        samples; ``"tsK"`` for time series K, whose targets are unknown), ``guide`` (one id per
        row: ``"G7_ko"``, ``"G7_kd"``: each intervention is its own instrument),
        ``perturbation_type``, and for time series ``series`` and ``time``;
        ``uns['gold_standard']``: the true directed edges (``source``, ``target``, ``sign`` when
        known); ``uns['source']``: a description.
    """
    data = tuple(data)
    _check(size, network, data)
    multifactorial100 = size == 100 and data == ("multifactorial",)
    if multifactorial100:
        values, obs = _block(size, network, "multifactorial", [])
        genes = [f"G{k + 1}" for k in range(values.shape[1])]
        blocks, frames = [values], [obs]
    else:
        wt = _read(size, network, "wildtype")
        genes = [str(g) for g in wt.columns]
        blocks = [wt.to_numpy()]
        frames = [_obs(1, ["control"], ["wildtype"], "none")]
        for kind in data:
            values, obs = _block(size, network, kind, genes)
            blocks.append(values)
            frames.append(obs)
    frame = pd.concat(frames, ignore_index=True)
    if "series" in frame:  # 0 = not a time series
        frame["series"] = frame["series"].fillna(0).astype(int)
    frame.index = frame["guide"].to_numpy()
    adata = ad.AnnData(
        X=np.vstack(blocks).astype(np.float64), obs=frame, var=pd.DataFrame(index=genes)
    )
    gold = _multifactorial_gold(network) if multifactorial100 else _gold_standard(size, network)
    adata.uns["gold_standard"] = gold
    label = " multifactorial" if multifactorial100 else ""
    adata.uns["source"] = f"DREAM4 in silico size {size}{label} network {network}"
    return adata


def _gold_standard(size: int, network: int) -> pd.DataFrame:
    gold = _read(size, network, "goldStandard")
    gold.columns = ["source", "target", "edge"]
    gold = gold[gold["edge"] == 1][["source", "target"]].reset_index(drop=True)
    signed = _read(size, network, "goldStandard_signed_from_sbml") if size == 100 else None
    if signed is not None:
        sign = {(a, b): 1 if t == "+" else -1 for a, b, t in signed.itertuples(index=False)}
        gold["sign"] = [
            sign.get((a, b), 0) for a, b in zip(gold["source"], gold["target"], strict=True)
        ]
    return gold


def _multifactorial_gold(network: int) -> pd.DataFrame:
    with resources.as_file(_path(100, network, "multifactorial_goldStandard.csv.gz")) as p:
        gold = pd.read_csv(p, compression="gzip")
    gold.columns = ["source", "target"]
    return gold
