"""Run GEARS (PyPI ``cell-gears``) offline on the simulated screens of
``bench/predict_simulated.py``, on the same split, and write its predicted deltas.

Runs in its own environment (never imports causalcell)::

    python3.11 -m venv bench/_work/gears-venv
    bench/_work/gears-venv/bin/pip install /path/to/torch-2.13.0+cpu-*.whl cell-gears torch_geometric
    flock /tmp/cc/bench.lock bench/_work/gears-venv/bin/python bench/predict_gears.py

Offline: GEARS downloads ``gene2go_all.pkl`` unless it exists in its data path, so the script
builds it (and ``gene2go.pkl``) from the Gene Ontology BP annotations in
``../shared/data/gene_ontology_human_orghsegdb`` (gene symbol -> set of GO ids), and uses
``default_pert_graph=False`` (GO graph built from these genes, no download). For each folder
``bench/_work/predict_sim/<name>/`` that holds ``split.json`` (written by
predict_simulated.py), GEARS is trained on the split's training perturbations (a tenth of them
held out as GEARS' validation set) and predicts the test ones; ``pred.csv`` (perturbations x
genes, predicted mean log1p CP10k minus the control mean) and ``wall.json`` go to
``bench/_work/gears/<name>/``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os

os.environ.setdefault("TQDM_DISABLE", "1")
import pickle
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "bench" / "_work" / "predict_sim"
OUT = ROOT / "bench" / "_work" / "gears"
GO = ROOT.parent / "shared" / "data" / "gene_ontology_human_orghsegdb"


def build_gene2go(data_path: Path) -> dict[str, set[str]]:
    """GEARS' gene2go pickles from the bundled GO BP annotations."""
    gene2go: dict[str, set[str]] = {}
    with gzip.open(GO / "go_bp_direct_annotations.tsv.gz", "rt") as fh:
        next(fh)
        for line in fh:
            _, symbol, go_id, _ = line.rstrip("\n").split("\t")
            gene2go.setdefault(symbol, set()).add(go_id)
    data_path.mkdir(parents=True, exist_ok=True)
    for name in ("gene2go_all.pkl", "gene2go.pkl"):
        with open(data_path / name, "wb") as fh:
            pickle.dump(gene2go, fh)
    return gene2go


def _series_indexable_csr():
    import scipy.sparse as sp

    class SeriesIndexableCSR(sp.csr_matrix):
        """GEARS indexes X with a boolean pandas Series, which current scipy refuses; this
        adapter hands scipy the Series' numpy values (nothing else changes)."""

        def __getitem__(self, key):
            if isinstance(key, pd.Series):
                key = key.to_numpy()
            return super().__getitem__(key)

    return SeriesIndexableCSR


def _series_csr(X):
    return _series_indexable_csr()(X)


def gears_condition(label: str) -> str:
    """Our label -> GEARS' (``A`` -> ``A+ctrl``, ``control`` -> ``ctrl``)."""
    if label == "control":
        return "ctrl"
    parts = label.split("+")
    return label if len(parts) > 1 else f"{label}+ctrl"


def gears_adata(cells_path: Path, keep: set[str], cells_per_pert: int | None = None, seed: int = 0):
    """Log1p CP10k cells in GEARS' format, perturbations restricted to ``keep``; with
    ``cells_per_pert``, at most that many cells of each perturbation (drawn at random; all
    control cells are kept: they are GEARS' inputs)."""
    import anndata as ad
    import scanpy as sc

    adata = ad.read_h5ad(cells_path)
    labels = adata.obs["perturbation"].astype(str)
    mask = labels.isin(keep | {"control"}).to_numpy()
    if cells_per_pert:
        rng = np.random.default_rng(seed)
        for p, idx in labels.groupby(labels).indices.items():
            if p != "control" and len(idx) > cells_per_pert:
                drop = rng.choice(idx, len(idx) - cells_per_pert, replace=False)
                mask[drop] = False
    adata = adata[mask].copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    adata.obs["condition"] = [gears_condition(p) for p in adata.obs["perturbation"].astype(str)]
    adata.obs["cell_type"] = "sim"
    adata.var["gene_name"] = adata.var_names.astype(str)
    adata.obs = adata.obs[["condition", "cell_type"]]
    adata.var = adata.var[["gene_name"]]
    return adata


def run_one(name: str, epochs: int, seed: int, cells_per_pert: int | None, threads: int) -> None:
    import torch
    from gears import GEARS, PertData

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    folder = SIM / name
    split = json.loads((folder / "split.json").read_text())
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    data_path = OUT / "data"
    gene2go = build_gene2go(data_path)
    genes_ok = lambda p: all(g in gene2go for g in p.split("+"))  # noqa: E731
    train = [p for p in split["train"] if genes_ok(p)]
    test = [p for p in split["test"] if genes_ok(p)]
    rng = np.random.default_rng(seed)
    val = set(rng.choice(train, size=max(1, len(train) // 10), replace=False))
    adata = gears_adata(folder / "cells.h5ad", set(train) | set(test), cells_per_pert, seed)
    t0 = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(out)  # GEARS writes ./data/go_essential_<name>.csv
    (out / "data").mkdir(exist_ok=True)
    try:
        pert_data = PertData(str(data_path), default_pert_graph=False)
        pert_data.new_data_process(dataset_name=name, adata=adata)
        custom = {
            "train": [gears_condition(p) for p in train if p not in val],
            "val": [gears_condition(p) for p in sorted(val)],
            "test": [gears_condition(p) for p in test],
        }
        with open(out / "custom_split.pkl", "wb") as fh:
            pickle.dump(custom, fh)
        pert_data.prepare_split(split="custom", split_dict_path=str(out / "custom_split.pkl"))
        pert_data.get_dataloader(batch_size=32, test_batch_size=128)
        pert_data.adata.X = _series_csr(pert_data.adata.X)
        model = GEARS(pert_data, device="cpu")
        model.model_initialize(hidden_size=64)
        t_fit = time.perf_counter()
        model.train(epochs=epochs)
        fit_s = time.perf_counter() - t_fit
        t_pred = time.perf_counter()
        # the test perturbations, and the singles of the test combinations (GEARS' own
        # predictions of them, for its genetic-interaction calls as in gears.utils.get_GI_params)
        singles = sorted(
            {g for p in test if "+" in p for g in p.split("+")} - set(test),
        )
        wanted = test + [g for g in singles if genes_ok(g)]
        pred = model.predict([p.split("+") for p in wanted])
        pred_s = time.perf_counter() - t_pred
    finally:
        os.chdir(cwd)
    ctrl = np.asarray(adata[adata.obs["condition"] == "ctrl"].X.mean(axis=0)).ravel()
    rows = {p: np.asarray(pred["_".join(p.split("+"))]).ravel() - ctrl for p in wanted}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=adata.var_names)
    frame.to_csv(out / "pred.csv")
    wall = {
        "total_s": time.perf_counter() - t0,
        "train_s": fit_s,
        "predict_s": pred_s,
        "epochs": epochs,
        "n_train": len(custom["train"]),
        "n_val": len(custom["val"]),
        "n_test": len(test),
        "n_test_requested": len(split["test"]),
        "torch_threads": torch.get_num_threads(),
        "cells_per_pert": cells_per_pert,
        "n_cells": int(adata.n_obs),
        "versions": {m: version(m) for m in ("cell-gears", "torch", "torch_geometric")},
    }
    (out / "wall.json").write_text(json.dumps(wall, indent=1))
    print(name, wall, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", default="", help="comma-separated folders (default: all)")
    parser.add_argument("--epochs", type=int, default=20, help="GEARS' default: 20")
    parser.add_argument(
        "--cells-per-pert", type=int, default=0, help="subsample cells per perturbation (0: all)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    names = (
        args.names.split(",")
        if args.names
        else sorted(p.parent.name for p in SIM.glob("*/split.json"))
    )
    for name in names:
        run_one(name, args.epochs, 0, args.cells_per_pert or None, args.threads)


if __name__ == "__main__":
    main()
