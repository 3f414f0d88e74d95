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
import hashlib
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import causalcell as cc
from causalcell.io import validate_cells
from causalcell.network import Profiles, evaluate, infer_network, total_effects, truth_frame
from causalcell.network._bootstrap import bootstrap_network

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "netsim"
METHODS = {
    "causalcell (default: IV total z with a source prior, within-condition conditional t "
    "learned given it, direct share 0.9)": (
        "causalcell",
        {},
    ),
    "zscore (total effect as direct)": ("zscore", {}),
    "zscore_eb (total effect, empirical Bayes source prior, no conditional evidence)": (
        "zscore_eb",
        {},
    ),
    "causalcell, combine='naive' (naive Bayes, direct share 1)": (
        "causalcell",
        {"combine": "naive"},
    ),
    "causalcell, combine='geometric' (sqrt(z x t), previous default)": (
        "causalcell",
        {"combine": "geometric"},
    ),
    "observational (within-condition regression, undirected)": ("observational", {}),
    "inverse (denoised sparse inverse of T)": ("inverse", {}),
    "genie3 (ExtraTrees, 500 cells, 20 trees)": (
        "genie3",
        {"max_cells": 500, "n_estimators": 20},
    ),
    "genie3 on condition profiles (ExtraTrees across interventional profiles, 100 trees)": (
        "conditional",
        {"n_estimators": 100},
    ),
    "pc (causal-learn, 20 genes, 1000 cells, max_k 1)": ("pc", {"max_cells": 1000, "max_k": 1}),
    "correlation": ("correlation", {}),
}


# other regimes (not the preset; reported apart, clearly labelled): name -> simulate() overrides
REGIMES = {
    "c200": {"cells_per_perturbation": 200},
    "sr95": {"spectral_radius": 0.95},
}
REGIME_METHODS = ["zscore", "zscore_eb", "causalcell"]


def _effects_stamp() -> str:
    """Hash of the effects engine's source: cached effects are recomputed when it changes."""
    src = ROOT / "src" / "causalcell" / "effects"
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(src.glob("*.py")))).hexdigest()


def load(seed: int, regime: str = ""):
    """Cells, effects and truth of one seed (simulated and cached on first use).

    The simulation cache is keyed by the preset's config, the effects cache by the effects
    engine's source, so a changed preset is simulated again and changed effects recomputed.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"{regime}_" if regime else ""
    cells_path, eff_path, truth_path = (
        WORK / f"{k}_{tag}{seed}.{e}"
        for k, e in (("cells", "h5ad"), ("eff", "h5ad"), ("truth", "npz"))
    )
    overrides = REGIMES.get(regime, {})
    key = repr((cc.sim.get_preset("perturbseq"), sorted(overrides.items())))
    stamp = WORK / f"config_{tag}{seed}.txt"
    if not (cells_path.exists() and truth_path.exists() and stamp.exists()) or (
        stamp.read_text() != key
    ):
        sim = cc.sim.simulate("perturbseq", rng=seed, **overrides)
        sim.adata.write_h5ad(cells_path)
        arrays = {k: v for k, v in sim.truth.items() if isinstance(v, np.ndarray)}
        np.savez(truth_path, **arrays)
        stamp.write_text(key)
        eff_path.unlink(missing_ok=True)
    adata = ad.read_h5ad(cells_path)
    eff_stamp, engine = WORK / f"effects_{tag}{seed}.txt", _effects_stamp()
    if not (eff_path.exists() and eff_stamp.exists()) or eff_stamp.read_text() != engine:
        eff = cc.effects.effects(adata, escape=False, rng=seed, progress=False)
        eff.write_h5ad(eff_path)
        eff_stamp.write_text(engine)
    return adata, ad.read_h5ad(eff_path), np.load(truth_path)


def _seed_data(seed: int, regime: str = ""):
    """Effects, validated cells, gene names, truth edges and perturbed sources of one seed."""
    adata, eff, tr = load(seed, regime)
    genes = [str(g) for g in tr["genes"]]
    truth = truth_frame(tr["G"], genes)
    sources = sorted({p for p in eff.obs_names if "+" not in p})
    return eff, tr, validate_cells(adata), genes, truth, sources


def _n_true(truth: pd.DataFrame, sources) -> int:
    return int(truth["source"].isin(sources).sum())


def run_seed(seed: int, n_boot: int) -> dict:
    eff, tr, cells, genes, truth, sources = _seed_data(seed)
    out: dict = {"n_true": _n_true(truth, sources)}
    profiles = Profiles.from_effects(eff)  # one object: the covariance of cells is cached
    profiles.cells = cells
    for label, (method, options) in METHODS.items():
        t0 = time.perf_counter()
        edges = infer_network(profiles, method=method, options=options, rng=seed)
        metrics = evaluate(edges, truth, sources=sources, targets=genes)
        metrics["seconds"] = time.perf_counter() - t0
        if label == next(iter(METHODS)):  # the default's posterior, without bootstrap
            out["posterior"] = _confident(edges, truth, out["n_true"])
        out[label] = metrics
        print(seed, label, round(metrics["aupr"], 3), flush=True)
    out["anatomy"] = anatomy(eff, tr)
    print(seed, "anatomy", out["anatomy"], flush=True)
    if n_boot:
        out["bootstrap"] = run_bootstrap(seed, n_boot)
    return out


def run_bootstrap(seed: int, n_boot: int) -> dict:
    """Bootstrap confidence of the default method on one seed."""
    _, _, cells, genes, truth, sources = _seed_data(seed)
    n_true = _n_true(truth, sources)
    t0 = time.perf_counter()
    boot = bootstrap_network(cells, n_boot=n_boot, rng=seed)
    is_true = _is_true(boot, truth)
    score = boot["score"]
    out = {
        "n_boot": n_boot,
        **_confident(boot, truth, n_true),
        "precision_by_bin": {
            f"{lo:.1f}-{hi:.1f}": float(is_true[(score >= lo) & (score < hi)].mean())
            for lo, hi in ((0.5, 0.7), (0.7, 0.9), (0.9, 1.01))
            if ((score >= lo) & (score < hi)).any()
        },
        "aupr": evaluate(boot, truth, sources=sources, targets=genes)["aupr"],
        "seconds": time.perf_counter() - t0,
    }
    print(seed, "bootstrap", out, flush=True)
    return out


def _is_true(edges: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    true = set(zip(truth["source"], truth["target"], strict=True))
    return np.array([e in true for e in zip(edges["source"], edges["target"], strict=True)])


def _confident(edges: pd.DataFrame, truth: pd.DataFrame, n_true: int) -> dict:
    """Edges with score >= 0.9: how many, the share that is true, the recall of true edges."""
    is_true = _is_true(edges, truth)
    sure = edges["score"].to_numpy() >= 0.9
    return {
        "n_confident": int(sure.sum()),
        "precision_confident": float(is_true[sure].mean()) if sure.any() else float("nan"),
        "recall_confident": float(is_true[sure].sum() / n_true),
    }


def anatomy(eff, tr) -> dict:
    """What limits the z-score: noise or indirect edges (with the simulator's truth).

    ``oracle_no_indirect``: AUPR of |z| once every indirect pair (no direct edge, expected
    delta above 0.02) is removed from the ranking; ``noise_free``: AUPR of the true expected
    |delta| (no sampling noise), the ceiling of any total-effect ranking; ``weak_direct``: share
    of direct edges with |z| < 2.
    """
    from sklearn.metrics import average_precision_score

    te = total_effects(Profiles.from_effects(eff))
    genes = pd.Index([str(g) for g in tr["genes"]])
    rows = genes.get_indexer(te.sources)
    direct = tr["G"][rows] != 0
    pert = pd.Index([str(p) for p in tr["perturbations"]])
    delta = np.abs(tr["delta"][pert.get_indexer(te.sources)])
    off = np.ones_like(direct)
    off[np.arange(len(rows)), rows] = False
    z = np.abs(te.z)
    indirect = ~direct & (delta > 0.02)

    def ap(score):
        return float(average_precision_score(direct[off], score[off]))

    return {
        "zscore": ap(z),
        "oracle_no_indirect": ap(np.where(indirect, 0.0, z)),
        "noise_free": ap(delta),
        "weak_direct": float(np.mean(z[direct & off] < 2)),
    }


def run_regime(regime: str, seed: int) -> dict:
    """AUPR of :data:`REGIME_METHODS` on one seed of a regime other than the preset."""
    eff, _, cells, genes, truth, sources = _seed_data(seed, regime)
    out: dict = {"n_true": _n_true(truth, sources), "n_cells": cells.X.shape[0]}
    for method in REGIME_METHODS:
        profiles = Profiles.from_effects(eff)
        profiles.cells = cells
        edges = infer_network(profiles, method=method, rng=seed)
        out[method] = evaluate(edges, truth, sources=sources, targets=genes)["aupr"]
        print(regime, seed, method, round(out[method], 3), flush=True)
    return out


def _ms(values) -> str:
    v = np.asarray(values, float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if v.size > 1 else 0:.3f}"


def _regime_lines(results: dict, regimes: dict, seeds) -> list[str]:
    """Table: AUPR of zscore / zscore_eb / causalcell and the ratio to zscore per regime."""
    rows = [("preset perturbseq (50 cells per perturbation)", {s: results[str(s)] for s in seeds})]
    keys = {
        "zscore": "zscore (total effect as direct)",
        "zscore_eb": next(k for k in METHODS if k.startswith("zscore_eb")),
        "causalcell": next(iter(METHODS)),
    }
    base = {s: {m: results[str(s)][k]["aupr"] for m, k in keys.items()} for s in seeds}
    rows = [("preset `perturbseq` (50 cells per perturbation)", base)]
    labels = {
        "c200": "`cells_per_perturbation=200` (NOT the preset)",
        "sr95": "`spectral_radius=0.95` (stronger network, NOT the preset)",
    }
    for r, per in regimes.items():
        rows.append((labels.get(r, r), {int(s): v for s, v in per.items()}))
    lines = [
        "",
        "### Regimes: cells per perturbation and network strength",
        "",
        "Same seeds and networks as above (a seed draws the same network in every regime); "
        "`python bench/network_simulated.py --seeds 0 1 2 --regimes c200 sr95`.",
        "",
        "| regime | seeds | zscore AUPR | zscore_eb AUPR | causalcell AUPR | causalcell / zscore "
        "| zscore_eb / zscore |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, per in rows:
        ss = sorted(per)
        z = [per[s]["zscore"] for s in ss]
        e = [per[s]["zscore_eb"] for s in ss]
        c = [per[s]["causalcell"] for s in ss]
        lines.append(
            f"| {label} | {', '.join(map(str, ss))} | {_ms(z)} | {_ms(e)} | {_ms(c)} "
            f"| {np.mean(np.divide(c, z)):.2f} | {np.mean(np.divide(e, z)):.2f} |"
        )
    return lines


def _regime_reading(results: dict, regimes: dict, seeds) -> str:
    """One paragraph on the regimes, from the numbers."""
    parts = []
    for r, per in regimes.items():
        c = np.mean([v["causalcell"] for v in per.values()])
        z = np.mean([v["zscore"] for v in per.values()])
        e = np.mean([v["zscore_eb"] for v in per.values()])
        above = all(v["causalcell"] > max(v["zscore"], v["zscore_eb"]) for v in per.values())
        parts.append(
            f"{r}: default {c:.3f} vs zscore {z:.3f} ({c / z:.2f}x) and zscore_eb {e:.3f}, "
            f"above both on {'every' if above else 'not every'} seed"
        )
    return (
        "Reading: " + "; ".join(parts) + ". The ratio to the z-score shrinks as the z-score "
        "gains power (more cells): fewer direct edges hide in noise. A stronger network "
        "(spectral radius 0.95, same topology) adds few detectable trans effects (trans pairs "
        "at FDR < 0.05: 0.13% on seed 0 against 0.09% for the preset and 0.78% for Papalexi et "
        "al. 2021 at 50 cells per perturbation, docs/benchmarks/sim_realism.md). Neither regime "
        "is the preset."
    )


def write_markdown(
    results: dict, seeds, n_boot: int, command: str, regimes: dict | None = None
) -> None:
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
        "- Seconds: wall time on the shared machine (seeds run in parallel, other jobs running); "
        "the within-condition covariance of the cells is computed once per seed, by the first "
        "method that needs it (the default), and reused by the others.",
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
            "each target and cells within each guide): score = min(full-data posterior, share of "
            "replicates whose posterior is >= 0.5 with the full-data sign); the rule was chosen "
            "on seed 3, a calibration seed not reported here (selection frequency alone, at "
            "posterior >= 0.8, was 0.91 true there but 0.74 on seed 1 in an earlier run). For "
            "comparison, the default's full-data posterior >= 0.9 without bootstrap:",
            "",
            "| seed | bootstrap: edges with score >= 0.9 | of which true | recall of true edges "
            "| AUPR of the score | seconds | posterior >= 0.9: edges | of which true | recall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s, x, p in zip(seeds, b, per, strict=True):
            q = p.get("posterior", {})
            lines.append(
                f"| {s} | {x['n_confident']} | {x['precision_confident']:.3f} "
                f"| {x['recall_confident']:.3f} | {x['aupr']:.3f} | {x['seconds']:.0f} "
                f"| {q.get('n_confident', '')} | {q.get('precision_confident', float('nan')):.3f} "
                f"| {q.get('recall_confident', float('nan')):.3f} |"
            )
    cc_key = next(iter(METHODS))
    eb_key = next(k for k in METHODS if k.startswith("zscore_eb"))

    def mean_ratio(a, b):
        return np.mean([p[a]["aupr"] / p[b]["aupr"] for p in per])

    ratio = mean_ratio(cc_key, zkey)
    others = [k for k in METHODS if k != cc_key]
    best_other = max(others, key=lambda k: np.mean([p[k]["aupr"] for p in per]))
    beats_all = all(
        np.mean([p[cc_key]["aupr"] for p in per]) > np.mean([p[k]["aupr"] for p in per])
        for k in others
    )
    an = [p["anatomy"] for p in per]
    per_seed = ", ".join(f"{p[cc_key]['aupr'] / p[zkey]['aupr']:.2f}" for p in per)
    naive_key = next(k for k in METHODS if "'naive'" in k)
    naive_seed = ", ".join(f"{p[naive_key]['aupr'] / p[zkey]['aupr']:.2f}" for p in per)
    lines += [
        "",
        "### Reading",
        "",
        f"- Default method vs the knockout z-score baseline: {ratio:.2f}x the AUPR on average "
        f"(per seed: {per_seed}; "
        f"issue target 2x: {'met' if ratio >= 2 else 'NOT met'}); above every other method: "
        f"{'yes' if beats_all else 'no'} (best other: {best_other}).",
        f"- Where the gain comes from: the empirical-Bayes prior per source alone (zscore_eb, "
        f"total effects only) gives {mean_ratio(eb_key, zkey):.2f}x the z-score; adding the "
        f"within-condition conditional evidence gives {mean_ratio(cc_key, eb_key):.2f}x more. "
        "Two thirds of the perturbed genes regulate nothing, and a regulator's many weak "
        "targets move together: a |z| of 3 is likely real in a hub's row and noise in a "
        "non-regulator's, which a per-edge z-score cannot know.",
        f"- Direct share: naive Bayes of the same statistics (`combine='naive'`, direct share "
        f"1) reaches {mean_ratio(naive_key, zkey):.2f}x the z-score (per seed: {naive_seed}), "
        f"{mean_ratio(cc_key, naive_key):.2f}x of it for the default; the default's share 0.9 "
        "keeps a strong total effect without conditional association an indirect candidate, "
        "which the chain tests of tests/network need (a -> c through b has a large total z).",
        "- The conditional t is not given its own two-group model: its densities in direct "
        "edges and in the rest are learned given the total-effect evidence "
        "(`causalcell.network._ebayes.conditional_fit`). Fitted on its own (the previous "
        "default), t called every conditional association an edge and the default fell below "
        "the z-score with 200 cells per perturbation (regime table below, previous run: 0.418 "
        "vs 0.499).",
        f"- Noise, not indirect edges, limits the z-score here: removing every indirect pair "
        f"from its ranking with the truth lifts its AUPR only from {_ms([a['zscore'] for a in an])} "
        f"to {_ms([a['oracle_no_indirect'] for a in an])}, while the noise-free expected deltas "
        f"rank the direct edges at {_ms([a['noise_free'] for a in an])}; "
        f"{np.mean([a['weak_direct'] for a in an]):.0%} of the direct edges have |z| < 2. "
        "Direct-vs-indirect disentangling alone (what the 2x target was meant to reward) is "
        "worth a few percent in this regime; evidence has to be added.",
        f"- Bootstrap confidence: edges with score >= 0.9 are "
        f"{_ms([p['bootstrap']['precision_confident'] for p in per]) if n_boot else 'n/a'} true "
        f"(target >= 0.85: "
        f"{'met' if n_boot and min(p['bootstrap']['precision_confident'] for p in per) >= 0.85 else 'NOT met on every seed'}); "
        "recall in the table; the full-data posterior >= 0.9 alone is "
        f"{_ms([p['posterior']['precision_confident'] for p in per])} true with more recall. "
        "Systematic errors (measurement nonlinearity, composition effects of CP10k, "
        "off-target guides) are stable across replicates, so the bootstrap cannot see them.",
        "- GENIE3-style trees and PC on single cells are near random here (1,000 genes, "
        "weak edges, a few hundred cells per fit); trees across the interventional condition "
        "profiles (`conditional`) do better but stay far below the total-effect methods.",
        "- Why the inverse of T fails on cells: total effects per unit of the source divide by "
        "the source's own measured knockdown, which the log1p CP10k scale compresses for weakly "
        "expressed genes; the per-unit rows blow up and R[S, S] is near-singular.",
        "- Effects are recomputed whenever the effects engine changes (cache keyed by its "
        "source); guide profiles come only from cells of their own perturbation (combination "
        "cells used to mix the partner's effects into each guide's delta).",
    ]
    if regimes:
        lines += _regime_lines(results, regimes, seeds)
        lines += [
            "",
            _regime_reading(results, regimes, seeds),
        ]
    lines.append("")
    (ROOT / "docs" / "benchmarks" / "network_simulated.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-boot", type=int, default=10)
    parser.add_argument(
        "--from-json", action="store_true", help="rewrite the markdown from the saved results"
    )
    parser.add_argument(
        "--bootstrap-only", action="store_true", help="rerun only the bootstrap, keep the rest"
    )
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel")
    parser.add_argument(
        "--regimes",
        nargs="*",
        default=None,
        help="only run these other regimes (" + ", ".join(REGIMES) + ") and keep the rest",
    )
    args = parser.parse_args()
    path = ROOT / "bench" / "results" / "network_simulated.json"
    rpath = ROOT / "bench" / "results" / "network_simulated_regimes.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    regimes = json.loads(rpath.read_text()) if rpath.exists() else {}
    if args.regimes is not None and not args.from_json:
        for r in args.regimes:
            regimes[r] = {str(s): run_regime(r, s) for s in args.seeds}
        rpath.write_text(json.dumps(regimes, indent=1))
    elif args.bootstrap_only:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            boots = pool.map(run_bootstrap, args.seeds, [args.n_boot] * len(args.seeds))
            for seed, boot in zip(args.seeds, boots, strict=True):
                results[str(seed)]["bootstrap"] = boot
        path.write_text(json.dumps(results, indent=1))
    elif not args.from_json:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            runs = pool.map(run_seed, args.seeds, [args.n_boot] * len(args.seeds))
            results = {str(s): r for s, r in zip(args.seeds, runs, strict=True)}
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
    seeds = [int(s) for s in results]
    command = f"python bench/network_simulated.py --jobs {args.jobs} --seeds " + " ".join(
        map(str, seeds)
    )
    write_markdown(results, seeds, args.n_boot, command + f" --n-boot {args.n_boot}", regimes)


if __name__ == "__main__":
    main()
