"""Fit plus predict at scale: 300,000 cells x 5,000 genes, 500 perturbations, on 2 cores.

The whole ``causalcell predict`` path on a synthetic screen made by ``bench/make_synthetic.py``:
read the file backed (X stays on disk), estimate every perturbation's effects, learn the
control-cell programs, choose the model by cross-validation (``auto``), and predict 100 unseen
single genes and 100 combinations. Goal: at most 10 minutes.

Usage::

    flock /tmp/cc/bench.lock python bench/make_synthetic.py --n-cells 300000 --n-genes 5000 \\
        --n-perts 500
    flock /tmp/cc/bench.lock python bench/predict_scale.py

Writes docs/benchmarks/predict_scale.md.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from datetime import date
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import causalcell as cc
from causalcell.effects import compute_effects, to_anndata
from causalcell.predict import AutoPredictor, Responses, control_programs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "_work" / "synthetic_300000x5000_p500_s0.h5ad"


def main() -> None:
    threadpool_limits(2)
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    adata = cc.io.read_cells(DATA, backed=True)
    cells = cc.io.validate_cells(adata, source=str(DATA))
    t_read = time.perf_counter() - t0
    perturbed = sorted(set(cells.obs["perturbation"].astype(str)) - {"control"})
    unseen = [g for g in cells.var_names if g not in set(perturbed)]
    rng = np.random.default_rng(0)
    singles = list(rng.choice(unseen, 100, replace=False))
    combos = {"+".join(sorted(rng.choice(perturbed, 2, replace=False))) for _ in range(100)}
    t1 = time.perf_counter()
    responses = Responses.from_effects(
        to_anndata(compute_effects(cells, escape=False, rng=0, progress=False))
    )
    t_eff = time.perf_counter() - t1
    t2 = time.perf_counter()
    responses.programs, responses.variance = control_programs(cells, rng=0)
    t_prog = time.perf_counter() - t2
    t3 = time.perf_counter()
    model = AutoPredictor(random_state=0).fit(responses)
    t_model = time.perf_counter() - t3
    t4 = time.perf_counter()
    pred = model.predict(singles + sorted(combos))
    sd = model.uncertainty_
    t_pred = time.perf_counter() - t4
    t_fit = time.perf_counter() - t1
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    ok = np.isfinite(pred.to_numpy()).all() and np.isfinite(sd.to_numpy()).all()
    lines = [
        "## Prediction at scale: 300,000 cells x 5,000 genes",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs (BLAS limited to 2 "
        f"threads); causalcell {cc.__version__}.",
        "- Command: `python bench/predict_scale.py` (under `flock /tmp/cc/bench.lock` when other benchmarks share the machine) on "
        f"`{DATA.name}` (bench/make_synthetic.py: {cells.n_cells:,} cells, {cells.n_genes:,} "
        f"genes, {len(perturbed)} perturbations).",
        "- Work: effects of every perturbation, control-cell programs, model choice by 5-fold "
        "cross-validation among train mean / linear / module / their average, causal "
        "combination model, "
        f"prediction of {len(singles)} unseen single genes and {len(combos)} combinations with "
        "per-gene uncertainty.",
        "",
        "| step | wall time |",
        "|---|---|",
        f"| open backed + validate | {t_read:.1f} s |",
        f"| effects of {len(perturbed)} perturbations | {t_eff:.1f} s |",
        f"| control-cell programs | {t_prog:.1f} s |",
        f"| model choice + fit (`auto`, chose `{model.chosen_}`) | {t_model:.1f} s |",
        f"| predict {len(pred)} perturbations | {t_pred:.1f} s |",
        f"| **fit + predict, total** (what `causalcell predict` does) | **{t_fit:.1f} s "
        f"({t_fit / 60:.1f} min)** |",
        "| goal | 600 s |",
        "",
        f"Peak resident memory {peak_gb:.1f} GB; all predictions and uncertainties finite: {ok}. "
        f"1-minute load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at "
        "the end (2 cores shared with other jobs).",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "predict_scale.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
