"""Scale: a 2,000-perturbation x 8,000-gene total-effect matrix to a direct network.

A known sparse signed network G over 8,000 genes (causalcell.sim.random_network, 2,000
regulators, feedback loops, Perron root 0.6) is perturbed at its 2,000 regulators; the per-unit
total effects R = rows of (I - G)^-1 get Gaussian noise of known standard error. The direct
network is recovered by the denoised sparse inverse (`causalcell.network._direct.sparse_inverse`)
in a fresh process limited to 2 threads; wall time and peak resident memory of that process are
reported with AUPR against G, beside the total-effect-as-direct baseline (|z| of R).

Usage: ``python bench/network_scale.py [--noise 0.02]`` (under ``flock /tmp/cc/bench.lock``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "netscale"
N_GENES, N_PERT = 8000, 2000


def make_truth(noise: float, seed: int) -> None:
    """Write G's support, the noisy per-unit total effects R and their se to WORK."""
    from scipy import sparse

    from causalcell.sim import random_network

    rng = np.random.default_rng(seed)
    net = random_network(N_GENES, n_modules=40, regulator_fraction=N_PERT / N_GENES, rng=rng)
    G = net.G
    S = np.flatnonzero((G - np.diag(np.diag(G)) != 0).any(axis=1))
    Gs = sparse.csr_matrix(G)
    T = np.zeros((S.size, N_GENES))
    T[np.arange(S.size), S] = 1.0
    E = T.copy()
    for _ in range(80):  # T_S = E_S (I - G)^-1 by fixed point, |G| has Perron root 0.6
        T = E + np.asarray((Gs.T @ T.T).T)
    R = T / T[np.arange(S.size), S][:, None]
    se = np.full_like(R, noise)
    R = R + noise * rng.standard_normal(R.shape)
    R[np.arange(S.size), S] = 1.0
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(WORK / "R.npy", R)
    np.save(WORK / "se.npy", se)
    np.save(WORK / "cols.npy", S)
    np.save(WORK / "truth.npy", G[S] != 0)


def infer() -> None:
    """Child process: load R, run the sparse inverse, save |z|; print time and peak memory."""
    import resource

    from causalcell.network._direct import sparse_inverse

    R, se, cols = (np.load(WORK / f"{k}.npy") for k in ("R", "se", "cols"))
    t0 = time.perf_counter()
    G, z = sparse_inverse(R, se, cols, z_min=4.0)  # the `inverse` method's default
    seconds = time.perf_counter() - t0
    np.save(WORK / "z.npy", np.abs(z).astype(np.float32))
    np.save(WORK / "G.npy", np.abs(G).astype(np.float32))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(json.dumps({"seconds": seconds, "peak_gib": peak}))


def aupr(score: np.ndarray, truth: np.ndarray, cols: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    mask = np.ones(truth.shape, bool)
    mask[np.arange(len(cols)), cols] = False
    return float(average_precision_score(truth[mask], score[mask]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        infer()
        return
    t0 = time.perf_counter()
    make_truth(args.noise, args.seed)
    t_truth = time.perf_counter() - t0
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    child = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
    )
    run = json.loads(child.stdout.strip().splitlines()[-1])
    R, se, cols, truth = (np.load(WORK / f"{k}.npy") for k in ("R", "se", "cols", "truth"))
    run["aupr_direct"] = aupr(np.load(WORK / "z.npy"), truth, cols)
    run["aupr_direct_effect"] = aupr(np.load(WORK / "G.npy"), truth, cols)
    run["aupr_zscore"] = aupr(np.abs(R) / se, truth, cols)
    run["random_aupr"] = float(truth.mean())
    run["n_true"] = int(truth.sum())
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "network_scale.json").write_text(json.dumps(run, indent=1))
    import causalcell as cc

    lines = [
        "## Direct network at scale: 2,000 perturbations x 8,000 genes",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs (shared), inference "
        f"process limited to 2 BLAS threads; causalcell {cc.__version__}.",
        f"- Command: `flock /tmp/cc/bench.lock python bench/network_scale.py --noise {args.noise}`",
        f"- Truth: random sparse signed network over {N_GENES:,} genes with {len(cols):,} "
        f"regulators, all perturbed; {run['n_true']:,} true edges leave them. Per-unit total "
        f"effects with Gaussian noise, se {args.noise} (truth drawn in {t_truth:.0f} s).",
        "",
        "| step | wall time | peak memory | AUPR | AUPR / zscore |",
        "|---|---|---|---|---|",
        f"| sparse inverse (direct) | {run['seconds']:.0f} s | {run['peak_gib']:.2f} GiB "
        f"| {run['aupr_direct']:.3f} | {run['aupr_direct'] / run['aupr_zscore']:.2f} |",
        f"| same, ranked by abs(G) instead of abs(z) | | | {run['aupr_direct_effect']:.3f} "
        f"| {run['aupr_direct_effect'] / run['aupr_zscore']:.2f} |",
        f"| total effect as direct (abs z) | | | {run['aupr_zscore']:.3f} | 1 |",
        f"| random | | | {truth.mean():.5f} | |",
        "",
        f"Issue target: at most 10 minutes on 2 cores within 8 GB: "
        f"{'met' if run['seconds'] <= 600 and run['peak_gib'] <= 8 else 'NOT met'} "
        "(peak memory is the inference process's maximum resident set, loading included).",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "network_scale.md").write_text("\n".join(lines))
    print(run)


if __name__ == "__main__":
    main()
