"""Direct networks on the simulator's `perturbseq` preset (known truth), every method, several seeds.

CRISPRi screen of 300 of 1,000 genes with imperfect guides (Beta efficacies, 10% dead),
escapers, off-targets, dropout and three batches; counts, so effects live on the compressive
log1p CP10k scale. Scored over the pairs (perturbed source -> any gene) against the simulator's
direct-effect matrix G. Bootstrap confidence of the default method: share of true edges among
those with score >= 0.9. Writes docs/benchmarks/network_simulated.md and
bench/results/network_simulated.json. Simulations are cached in bench/_work/netsim/.

Usage: ``python bench/network_simulated.py [--seeds 0 1 2] [--n-boot 10]``.
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

import causalcell as cc
from causalcell.io import validate_cells
from causalcell.network import Profiles, evaluate, infer_network, truth_frame
from causalcell.network._bootstrap import bootstrap_network

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "netsim"
METHODS = {
    "causalcell (default: IV total x within-condition conditional)": ("causalcell", {}),
    "zscore (total effect as direct)": ("zscore", {}),
    "observational (within-condition regression, undirected)": ("observational", {}),
    "inverse (denoised sparse inverse of T)": ("inverse", {}),
    "genie3 (ExtraTrees, 500 cells, 20 trees)": (
        "genie3",
        {"max_cells": 500, "n_estimators": 20},
    ),
    "pc (causal-learn, 20 genes, 1000 cells, max_k 1)": ("pc", {"max_cells": 1000, "max_k": 1}),
    "correlation": ("correlation", {}),
}


def load(seed: int):
    """Cells, effects and truth of one seed (simulated and cached on first use)."""
    WORK.mkdir(parents=True, exist_ok=True)
    paths = [
        WORK / f"{k}_{seed}.{e}" for k, e in (("cells", "h5ad"), ("eff", "h5ad"), ("truth", "npz"))
    ]
    if not all(p.exists() for p in paths):
        sim = cc.sim.simulate("perturbseq", rng=seed)
        eff = cc.effects.effects(sim.adata, escape=False, rng=seed, progress=False)
        sim.adata.write_h5ad(paths[0])
        eff.write_h5ad(paths[1])
        arrays = {k: v for k, v in sim.truth.items() if isinstance(v, np.ndarray)}
        np.savez(paths[2], **arrays)
    return ad.read_h5ad(paths[0]), ad.read_h5ad(paths[1]), np.load(paths[2])


def run_seed(seed: int, n_boot: int) -> dict:
    adata, eff, tr = load(seed)
    cells = validate_cells(adata)
    genes = [str(g) for g in tr["genes"]]
    truth = truth_frame(tr["G"], genes)
    sources = sorted({p for p in eff.obs_names if "+" not in p})
    out: dict = {"n_true": int(truth["source"].isin(sources).sum())}
    for label, (method, options) in METHODS.items():
        profiles = Profiles.from_effects(eff)
        profiles.cells = cells
        t0 = time.perf_counter()
        edges = infer_network(profiles, method=method, options=options, rng=seed)
        metrics = evaluate(edges, truth, sources=sources, targets=genes)
        metrics["seconds"] = time.perf_counter() - t0
        out[label] = metrics
        print(seed, label, round(metrics["aupr"], 3), flush=True)
    if n_boot:
        t0 = time.perf_counter()
        boot = bootstrap_network(cells, n_boot=n_boot, rng=seed)
        true = set(zip(truth["source"], truth["target"], strict=True))
        is_true = np.array([e in true for e in zip(boot["source"], boot["target"], strict=True)])
        sure = boot["score"].to_numpy() >= 0.9
        out["bootstrap"] = {
            "n_boot": n_boot,
            "n_confident": int(sure.sum()),
            "precision_confident": float(is_true[sure].mean()) if sure.any() else float("nan"),
            "recall_confident": float(is_true[sure].sum() / out["n_true"]),
            "precision_by_bin": {
                f"{lo:.1f}-{hi:.1f}": float(
                    is_true[(boot["score"] >= lo) & (boot["score"] < hi)].mean()
                )
                for lo, hi in ((0.5, 0.7), (0.7, 0.9), (0.9, 1.01))
                if ((boot["score"] >= lo) & (boot["score"] < hi)).any()
            },
            "aupr": evaluate(boot, truth, sources=sources, targets=genes)["aupr"],
            "seconds": time.perf_counter() - t0,
        }
        print(seed, "bootstrap", out["bootstrap"], flush=True)
    return out


def _ms(values) -> str:
    v = np.asarray(values, float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if v.size > 1 else 0:.3f}"


def write_markdown(results: dict, seeds, n_boot: int, command: str) -> None:
    per = [results[str(s)] for s in seeds]
    zkey = "zscore (total effect as direct)"
    lines = [
        "## Direct networks on simulated Perturb-seq (known truth)",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs shared with other jobs; "
        f"causalcell {cc.__version__}.",
        f"- Command: `{command}`",
        "- Preset `perturbseq` (19,500 cells x 1,000 genes, CRISPRi of 300 genes, 3 guides each "
        "with Beta(6, 1.5) efficacies and 10% dead guides, 5% escapers, 2% off-targets, dropout, "
        "3 batches; affine mechanism on latent log expression, measured as counts so the "
        "log1p CP10k scale compresses knockdowns of weakly expressed genes). "
        f"Seeds {', '.join(map(str, seeds))}: mean ± sd over seeds; "
        f"{_ms([p['n_true'] for p in per])} true direct edges leave a perturbed gene.",
        "- Scored over every pair (perturbed gene -> any other gene), as the issue asks.",
        "",
        "| method | AUPR | AUPR / zscore | AUROC | precision@100 | sign accuracy | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for label in METHODS:
        a = [p[label]["aupr"] for p in per]
        ratio = [p[label]["aupr"] / p[zkey]["aupr"] for p in per]
        lines.append(
            f"| {label} | {_ms(a)} | {np.mean(ratio):.2f} | {_ms([p[label]['auroc'] for p in per])} "
            f"| {_ms([p[label]['precision@100'] for p in per])} "
            f"| {np.nanmean([p[label]['sign_accuracy'] for p in per]):.3f} "
            f"| {np.mean([p[label]['seconds'] for p in per]):.0f} |"
        )
    lines.append(f"| random | {_ms([per[0][zkey]['random_aupr']])} | | 0.5 | | | |")
    if n_boot:
        b = [p["bootstrap"] for p in per]
        lines += [
            "",
            f"Bootstrap confidence of the default method ({n_boot} replicates over guides within "
            "each target and cells within each guide; score = share of replicates selecting the "
            "edge, combined statistic >= 6 (threshold chosen on seed 3, a calibration seed not "
            "reported here), with the full-data sign):",
            "",
            "| seed | edges with score >= 0.9 | of which true | recall of true edges | AUPR of the "
            "score | seconds |",
            "|---|---|---|---|---|---|",
        ]
        for s, x in zip(seeds, b, strict=True):
            lines.append(
                f"| {s} | {x['n_confident']} | {x['precision_confident']:.3f} "
                f"| {x['recall_confident']:.3f} | {x['aupr']:.3f} | {x['seconds']:.0f} |"
            )
    cc_key = next(iter(METHODS))
    ratio = np.mean([p[cc_key]["aupr"] / p[zkey]["aupr"] for p in per])
    others = [k for k in METHODS if k != cc_key]
    best_other = max(others, key=lambda k: np.mean([p[k]["aupr"] for p in per]))
    lines += [
        "",
        "### Reading",
        "",
        f"- Default method vs the knockout z-score baseline: {ratio:.2f}x the AUPR on average "
        f"(issue target 2x: {'met' if ratio >= 2 else 'NOT met'}); best other method: "
        f"{best_other}.",
        f"- Bootstrap confidence: edges with score >= 0.9 are "
        f"{_ms([p['bootstrap']['precision_confident'] for p in per]) if n_boot else 'n/a'} true "
        f"(target >= 0.85: "
        f"{'met' if n_boot and min(p['bootstrap']['precision_confident'] for p in per) >= 0.85 else 'NOT met on every seed'}), "
        "but they are few: the selection threshold that makes them calibrated keeps only the "
        "strongest edges (recall in the table). Below it, systematic errors (measurement "
        "nonlinearity, composition effects of CP10k, off-target guides) are stable across "
        "replicates, so selection frequency alone overstates confidence.",
        "- Why the z-score is hard to beat here: most of its false positives are not indirect "
        "edges but noise (on seed 0, removing every indirect edge from its ranking with the "
        "truth only lifts its AUPR from 0.307 to 0.328), and a third of the direct edges have "
        "|z| < 2. Evidence has to be added, not only indirect edges removed: the within-condition "
        "covariance of the cells (intrinsic noise propagating along direct edges) supplies it.",
        "- Why the inverse of T fails on cells: total effects per unit of the source divide by "
        "the source's own measured knockdown, which the log1p CP10k scale compresses for weakly "
        "expressed genes (median 0.60 measured vs 1.29 latent log units on seed 0; 5% below "
        "0.06); the per-unit rows blow up (off-diagonal entries up to 28) and R[S, S] is "
        "near-singular. Even on noise-free expected deltas the exact inverse scores 0.71 AUPR "
        "on the measured scale vs 1.00 on the latent scale (total effect as direct: 0.86).",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "network_simulated.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-boot", type=int, default=10)
    parser.add_argument(
        "--from-json", action="store_true", help="rewrite the markdown from the saved results"
    )
    args = parser.parse_args()
    path = ROOT / "bench" / "results" / "network_simulated.json"
    if args.from_json:
        results = json.loads(path.read_text())
    else:
        results = {str(s): run_seed(s, args.n_boot) for s in args.seeds}
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
    command = "python bench/network_simulated.py --seeds " + " ".join(map(str, args.seeds))
    write_markdown(results, args.seeds, args.n_boot, command + f" --n-boot {args.n_boot}")


if __name__ == "__main__":
    main()
