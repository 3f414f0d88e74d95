"""Direct networks on the simulator's `perturbseq` preset (known truth), every method in one run.

CRISPRi screen of 300 of 1,000 genes with imperfect guides, escapers, off-targets and dropout.
Scored over the pairs (perturbed source -> any gene) against the simulator's direct-effect
matrix G. Writes docs/benchmarks/network_simulated.md and bench/results/network_simulated.json.

Usage: ``python bench/network_simulated.py [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import causalcell as cc
from causalcell.network import Profiles, evaluate, infer_network, truth_frame

ROOT = Path(__file__).resolve().parents[1]
METHODS = {
    "causalcell (100 trees, candidates abs(z) >= 2)": (
        "causalcell",
        {"n_estimators": 100, "min_z": 2.0},
    ),
    "zscore": ("zscore", {}),
    "inverse": ("inverse", {}),
    "correlation": ("correlation", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    sim = cc.sim.simulate("perturbseq", rng=args.seed)
    t_sim = time.perf_counter() - t0
    genes = [str(g) for g in sim.truth["genes"]]
    truth = truth_frame(sim.truth["G"], genes)
    eff = cc.effects.effects(sim.adata, escape=False, rng=args.seed, progress=False)
    profiles = Profiles.from_effects(eff)
    sources = sorted({p for p in eff.obs_names if "+" not in p})
    results = {}
    for label, (method, options) in METHODS.items():
        t0 = time.perf_counter()
        edges = infer_network(profiles, method=method, options=options, rng=args.seed)
        metrics = evaluate(edges, truth, sources=sources, targets=genes)
        metrics["seconds"] = time.perf_counter() - t0
        results[label] = metrics
    (ROOT / "bench" / "results" / "network_simulated.json").write_text(
        json.dumps(results, indent=1)
    )
    lines = [
        "## Direct networks on simulated Perturb-seq (known truth)",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs; causalcell {cc.__version__}; "
        f"simulation {t_sim:.0f} s.",
        f"- Command: `python bench/network_simulated.py --seed {args.seed}`",
        f"- Preset `perturbseq`: {sim.adata.n_obs:,} cells x {sim.adata.n_vars:,} genes, "
        f"{len(sources)} perturbed genes; {int(truth['source'].isin(sources).sum())} true direct "
        "edges leave a perturbed gene.",
        "",
        "| method | AUPR | AUROC | precision@100 | sign accuracy | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for label, m in results.items():
        lines.append(
            f"| {label} | {m['aupr']:.3f} | {m['auroc']:.3f} | {m['precision@100']:.2f} "
            f"| {m['sign_accuracy']:.3f} | {m['seconds']:.0f} |"
        )
    lines += [
        f"| random | {results['zscore']['random_aupr']:.3f} | 0.5 | | | |",
        "",
        "Honest reading: on these noisy single-cell data the knockout z-score (total effect as "
        "direct) ranks direct edges best; the conditional step that wins on DREAM4 adds noise "
        "here, and the linear inverse amplifies it (it also scores only edges among perturbed genes, "
        "while most true edges reach unperturbed ones). Separating direct from indirect effects on "
        "single-cell screens is open work (issue 4).",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "network_simulated.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
