"""Prediction of unseen perturbations on simulator presets ``norman`` and ``perturbseq``.

Every model is fitted and scored on the same splits of the same simulated screens: GEARS'
``simulation`` split (unseen singles; combinations with 0, 1 or 2 genes seen), a random split
of all perturbations, and leave-one-target-out (on a random sample of targets, for time). The
held-out deltas are the measured ones (as in the field); genetic-interaction calls are judged
against the simulator's noise-free truth. Each score is the mean over perturbations pooled over
seeds with a 95% bootstrap interval; the noise ceiling is the score of one half of the cells
"predicting" the other half. GEARS predictions, when ``bench/predict_gears.py`` has written
them, are scored here on the same split.

Usage: ``python bench/predict_simulated.py [--seeds 0,1,2]`` (simulations are cached in
``bench/_work/predict_sim/``; writes docs/benchmarks/predict_simulated.md and
docs/figures/predict_simulated.png).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import causalcell as cc
from causalcell.predict import (
    Responses,
    Split,
    bootstrap_ci,
    control_programs,
    leave_one_target_out,
    make_model,
    score_interactions,
    score_predictions,
    simulation_split,
)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "predict_sim"
GEARS = ROOT / "bench" / "_work" / "gears"
DOROTHEA = ROOT.parent / "shared" / "data" / "prior_networks_dorothea_progeny"
# name -> (preset, simulate() overrides); the *_dorothea screens run on DoRothEA regulons
# (A-C confidence, largest regulons first) so that genes carry real symbols for GEARS' GO graph
VARIANTS = {
    "norman": ("norman", {}),
    "perturbseq": ("perturbseq", {}),
    "norman_dorothea": (
        "norman",
        {"network": DOROTHEA / "dorothea_hs_v1.7.4.csv.gz", "n_genes": 400},
    ),
    "perturbseq_dorothea": (
        "perturbseq",
        {"network": DOROTHEA / "dorothea_hs_v1.7.4.csv.gz", "n_genes": 1000},
    ),
}
PRESETS = ("norman", "perturbseq")
MODELS = ("auto", "causal", "module", "linear", "additive", "train_mean", "no_change")
METRICS = {
    "pearson_delta_top20": ("Pearson delta top-20", True),
    "mse_top20": ("MSE top-20", False),
    "direction_top20": ("direction top-20", True),
    "discrimination": ("discrimination (cell-eval)", True),
    "centroid_accuracy": ("centroid accuracy (Systema)", True),
    "rank": ("rank (PerturBench)", False),
    "gi_correct": ("GI call accuracy", True),
}
N_LOTO = 20


def simulated(name: str, seed: int) -> Path:
    """Cached simulation, effects and split-half effects of variant ``name`` with ``seed``."""
    d = WORK / f"{name}_s{seed}"
    if (d / "effects.h5ad").exists():
        return d
    preset, overrides = VARIANTS[name]
    sim = cc.sim.simulate(preset, rng=seed, **overrides)
    sim.write(d)
    cells = cc.io.validate_cells(sim.adata)
    half = np.random.default_rng(seed).random(cells.n_cells) < 0.5
    for name, mask in (("A", half), ("B", ~half)):
        sub = cells.subset(np.flatnonzero(mask))
        cc.effects.effects(sub, escape=False, rng=seed, progress=False).write_h5ad(
            d / f"half{name}.h5ad"
        )
    eff = cc.effects.effects(sim.adata, escape=False, rng=seed, progress=False)
    eff.write_h5ad(d / "effects.h5ad")
    return d


def load(preset: str, seed: int) -> dict:
    """Responses (with control programs), truth and split-half deltas."""
    d = simulated(preset, seed)
    responses = Responses.from_effects(ad.read_h5ad(d / "effects.h5ad"))
    cells = cc.io.validate_cells(ad.read_h5ad(d / "cells.h5ad"))
    responses.programs, responses.variance = control_programs(cells, rng=seed)
    truth = np.load(d / "truth.npz")
    true = pd.DataFrame(truth["delta"], index=truth["perturbations"], columns=truth["genes"])
    halves = [Responses.from_effects(ad.read_h5ad(d / f"half{h}.h5ad")) for h in ("A", "B")]
    return {"responses": responses, "truth": true, "halves": halves, "folder": d}


def splits_of(responses: Responses, seed: int, folder: Path) -> dict[str, list[Split]]:
    """The three evaluation designs; the simulation split is also written to
    ``folder/split.json`` for the GEARS runner."""
    rng = np.random.default_rng(seed)
    labels = list(responses.perturbations)
    sim = simulation_split(labels, rng=seed)
    (folder / "split.json").write_text(
        json.dumps({"train": sim.train, "test": sim.test, "category": sim.category})
    )
    held = set(rng.choice(labels, size=len(labels) // 4, replace=False))
    random = Split([p for p in labels if p not in held], sorted(held), {p: "random" for p in held})
    loto = leave_one_target_out(labels)
    loto = [loto[i] for i in sorted(rng.choice(len(loto), min(N_LOTO, len(loto)), False))]
    for s in loto:
        s.category = {p: "loto" for p in s.test}
    return {"simulation": [sim], "random": [random], "loto": loto}


def _frame(r: Responses, labels) -> pd.DataFrame:
    return pd.DataFrame(r.subset(list(labels)).delta, index=list(labels), columns=r.genes)


def score(pred: pd.DataFrame, data: dict, categories: dict[str, str]) -> pd.DataFrame:
    """All metrics per held-out perturbation, scored within each category."""
    true = _frame(data["responses"], pred.index)
    singles = data["truth"].loc[[p for p in data["truth"].index if "+" not in p]]
    out = []
    for cat in sorted(set(categories.values())):
        labels = [p for p in pred.index if categories[p] == cat]
        s = score_predictions(pred.loc[labels], true.loc[labels])
        combos = [p for p in labels if "+" in p]
        if combos:
            gi = score_interactions(pred.loc[combos], data["truth"].loc[combos], singles)
            s = s.join(gi[["gi_correct", "true_call", "pred_call"]])
        s["category"] = cat
        out.append(s)
    return pd.concat(out)


def run_model(name: str, data: dict, splits: list[Split], seed: int) -> tuple[pd.DataFrame, float]:
    """Fit once per split, predict its test perturbations; wall time of fit + predict."""
    r, preds, cats = data["responses"], [], {}
    t0 = time.perf_counter()
    for split in splits:
        model = make_model(name, random_state=seed).fit(r.subset(split.train))
        preds.append(model.predict(split.test))
        cats.update(split.category)
    wall = time.perf_counter() - t0
    pred = pd.concat(preds)
    return score(pred[~pred.index.duplicated()], data, cats), wall


def ceiling(data: dict, splits: list[Split]) -> pd.DataFrame:
    """Half A of the cells as the prediction of half B, on the same test perturbations."""
    a, b = data["halves"]
    cats = {p: c for s in splits for p, c in s.category.items()}
    labels = [p for p in cats if p in set(a.perturbations) & set(b.perturbations)]
    data_b = dict(data, responses=b)
    return score(_frame(a, labels), data_b, {p: cats[p] for p in labels})


def gears_scores(preset: str, seed: int, data: dict, splits: list[Split]):
    """Score GEARS' predictions on the simulation split, if they were written."""
    path = GEARS / f"{preset}_s{seed}" / "pred.csv"
    if not path.exists():
        return None, None
    wall = json.loads((path.parent / "wall.json").read_text())
    pred = pd.read_csv(path, index_col=0)
    pred.index = [cc.io.normalize_label(p) for p in pred.index]
    cats = splits[0].category
    pred = pred.loc[[p for p in pred.index if p in cats]].reindex(
        columns=data["responses"].genes, fill_value=0.0
    )
    return score(pred, data, {p: cats[p] for p in pred.index}), wall


def summary(scores: pd.DataFrame, rng_seed: int = 0) -> dict[str, str]:
    """``mean [lo, hi]`` of every metric."""
    out = {}
    for m in METRICS:
        if m not in scores or scores[m].notna().sum() == 0:
            out[m] = "-"
            continue
        v = scores[m].dropna().to_numpy(float)
        lo, hi = bootstrap_ci(v, rng=rng_seed)
        out[m] = f"{v.mean():.3f} [{lo:.3f}, {hi:.3f}]"
    return out


def main() -> None:
    from threadpoolctl import threadpool_limits

    # small dense solves: BLAS threads only oversubscribe the 2 shared cores
    threadpool_limits(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--presets", default=",".join(PRESETS), help=f"of {sorted(VARIANTS)}")
    parser.add_argument(
        "--prepare-only", action="store_true", help="simulate and write splits for GEARS, no fit"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    t_start = time.perf_counter()
    results, walls = [], []
    for preset in args.presets.split(","):
        for seed in seeds:
            data = load(preset, seed)
            if args.prepare_only:
                splits_of(data["responses"], seed, data["folder"])
                continue
            for design, splits in splits_of(data["responses"], seed, data["folder"]).items():
                for name in MODELS:
                    s, wall = run_model(name, data, splits, seed)
                    results.append(s.assign(model=name, preset=preset, seed=seed, design=design))
                    walls.append((preset, seed, design, name, wall))
                    print(preset, seed, design, name, f"{wall:.1f}s", flush=True)
                c = ceiling(data, splits)
                results.append(
                    c.assign(model="noise ceiling", preset=preset, seed=seed, design=design)
                )
                if design == "simulation":
                    g, gw = gears_scores(preset, seed, data, splits)
                    if g is not None:
                        results.append(
                            g.assign(model="GEARS", preset=preset, seed=seed, design=design)
                        )
                        walls.append((preset, seed, design, "GEARS", gw["total_s"]))
    if args.prepare_only:
        return
    table = pd.concat(results)
    wall = pd.DataFrame(walls, columns=["preset", "seed", "design", "model", "wall_s"])
    for preset in table["preset"].unique():  # one file per screen: runs accumulate
        table[table["preset"] == preset].to_csv(WORK / f"scores_{preset}.csv")
        wall[wall["preset"] == preset].to_csv(WORK / f"walls_{preset}.csv", index=False)
    names = [n for n in VARIANTS if (WORK / f"scores_{n}.csv").exists()]
    table = pd.concat([pd.read_csv(WORK / f"scores_{n}.csv", index_col=0) for n in names])
    wall = pd.concat([pd.read_csv(WORK / f"walls_{n}.csv") for n in names])
    write_doc(table, wall, seeds, time.perf_counter() - t_start)
    plot(table)


CATEGORY_ORDER = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "loto", "random")


def write_doc(table: pd.DataFrame, wall: pd.DataFrame, seeds: list[int], elapsed: float) -> None:
    """docs/benchmarks/predict_simulated.md."""
    lines = [
        "## Predicting unseen perturbations on simulated screens (presets `norman`, `perturbseq`)",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs (shared); causalcell "
        f"{cc.__version__}; {elapsed / 60:.0f} min for the whole script.",
        f"- Command: `python bench/predict_simulated.py --seeds {','.join(map(str, seeds))}`",
        f"- Seeds {seeds}; each seed simulates a new screen and a new split. Mean over held-out "
        "perturbations pooled over seeds [95% bootstrap interval over perturbations]; "
        "`frac. ceiling` = Pearson delta / the noise ceiling's.",
        "- Designs: GEARS `simulation` split (25% of single genes held out: unseen singles, and "
        "combinations with 0/1/2 genes seen as singles; half of the fully seen combinations "
        "train), `random` (25% of all perturbations), `loto` (leave one target out, "
        f"{N_LOTO} random targets per seed).",
        "- GI call: a combination's interaction score is the slope of its delta on the sum of "
        "the true single deltas (1 = additive); synergy above 1.2, suppression below 0.8. True "
        "calls from the simulator's noise-free deltas; the perturbed genes themselves are left "
        "out of the score (their change is the intervention, not a response). Lower is better "
        "for MSE and rank.",
        "- The noise ceiling compares two half-data estimates, each with the noise of half the "
        "cells, while the models are scored against the full-data delta: it is the agreement "
        "the data allow between two independent replicates, so a model that pools information "
        "across perturbations can exceed it (`frac. ceiling` > 1).",
        "- GEARS (PyPI cell-gears 0.1.2, torch 2.13.0 CPU, torch_geometric 2.8.1; own venv) runs offline on the `norman_dorothea` screen (the norman preset on DoRothEA regulons, real symbols): gene2go pickles built from the bundled GO BP annotations, `default_pert_graph=False`, same training/test perturbations (a tenth of training held out as its validation set; 114 of 119 test perturbations have GO-annotated genes), `python bench/predict_gears.py --epochs 1`. Only 1 epoch (default 20): one epoch took 18 min of training on the 2 shared cores (load average ~7), so 20 epochs did not fit the session; its wall time (whole run incl. graph building) is in the table, measured without the bench lock while other jobs ran. GEARS is under-trained here, so its scores are a lower bound for GEARS.",
        "- Each screen's section was written by the last run that included it "
        "(`--presets` picks screens; results accumulate in bench/_work/predict_sim/).",
        "",
    ]
    for preset in table["preset"].unique():
        sub = table[table["preset"] == preset]
        lines += [f"### `{preset}`", ""]
        for cat in CATEGORY_ORDER:
            part = sub[sub["category"] == cat]
            if part.empty:
                continue
            lines += [f"**{cat}** ({part[part['model'] == 'auto'].shape[0]} perturbations)", ""]
            cols = [m for m in METRICS if m in part and part[m].notna().any()]
            lines.append(
                "| model | " + " | ".join(METRICS[m][0] for m in cols) + " | frac. ceiling |"
            )
            lines.append("|---|" + "---|" * (len(cols) + 1))
            ceil = part[part["model"] == "noise ceiling"]["pearson_delta_top20"].mean()
            for model in [*MODELS, "GEARS", "noise ceiling"]:
                rows = part[part["model"] == model]
                if rows.empty:
                    continue
                s = summary(rows)
                frac = rows["pearson_delta_top20"].mean() / ceil if ceil else np.nan
                lines.append(f"| {model} | " + " | ".join(s[m] for m in cols) + f" | {frac:.2f} |")
            if "true_call" in part:
                calls = part[part["model"] == "auto"]["true_call"].value_counts().to_dict()
                lines += ["", f"True GI calls: {calls}."]
            lines.append("")
        w = wall[wall["preset"] == preset].groupby(["design", "model"])["wall_s"].sum().unstack(0)
        lines += [
            "Wall time, fit + predict, summed over seeds and splits (s):",
            "",
            "| model | " + " | ".join(w.columns) + " |",
            "|---|" + "---|" * len(w.columns),
            *[f"| {m} | " + " | ".join(f"{v:.1f}" for v in w.loc[m]) + " |" for m in w.index],
            "",
        ]
    lines += [
        "![Pearson delta by category](../figures/predict_simulated.png)",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "predict_simulated.md").write_text("\n".join(lines))


def plot(table: pd.DataFrame) -> None:
    """Bar chart of Pearson delta per category, model and preset, ceiling as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    presets = list(table["preset"].unique())
    models = [
        m
        for m in ("auto", "causal", "module", "linear", "additive", "train_mean", "GEARS")
        if m in set(table["model"])
    ]
    fig, axes = plt.subplots(len(presets), 1, figsize=(10, 3.2 * len(presets)), squeeze=False)
    for ax, preset in zip(axes[:, 0], presets, strict=True):
        sub = table[table["preset"] == preset]
        cats = [c for c in CATEGORY_ORDER if c in set(sub["category"])]
        width = 0.8 / len(models)
        for i, model in enumerate(models):
            means = [
                sub[(sub.category == c) & (sub.model == model)]["pearson_delta_top20"].mean()
                for c in cats
            ]
            ax.bar(np.arange(len(cats)) + i * width, means, width, label=model)
        for j, c in enumerate(cats):
            ceil = sub[(sub.category == c) & (sub.model == "noise ceiling")]["pearson_delta_top20"]
            ax.hlines(ceil.mean(), j - 0.05, j + 0.8, colors="k", linestyles="dashed")
        ax.set_xticks(np.arange(len(cats)) + 0.4 - width / 2, cats)
        ax.set_ylabel("Pearson delta, top-20 DE")
        ax.set_title(f"{preset} (dashed: noise ceiling)")
    axes[0, 0].legend(ncol=len(models), fontsize=7, loc="lower left")
    fig.tight_layout()
    out = ROOT / "docs" / "figures" / "predict_simulated.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
