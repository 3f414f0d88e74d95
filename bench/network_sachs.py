"""Sachs et al. 2005 phospho-flow cytometry: causalcell's network methods vs correlation.

7,466 single CD4+ T cells, 11 phosphoproteins, 9 conditions (2 observational, 5 inhibitors, 2
activators); log intensities (``expression='log'``). Scored against two published consensus
graphs: benchpress' (17 edges; the primary one here) and the Causal Discovery Toolbox's (18
edges); 13 edges are shared. Candidate pairs: all 110 ordered pairs of the 11 proteins, and the
66 pairs whose source was intervened on (the only sources an interventional method can score).

Usage: ``python bench/network_sachs.py`` (writes docs/benchmarks/network_sachs.md,
docs/figures/network_sachs.png and bench/results/network_sachs.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import causalcell as cc
from causalcell.io import validate_cells
from causalcell.network import METHODS as REGISTRY
from causalcell.network import evaluate, infer_network

ROOT = Path(__file__).resolve().parents[1]
# every registered method that reads condition profiles or cells (not the time-resolved one)
METHODS = tuple(m for m, spec in REGISTRY.items() if not getattr(spec.fn, "needs_time", False))


def observational_correlation(adata) -> pd.DataFrame:
    """Baseline: |Pearson correlation| of log intensities over the observational cells
    (anti-CD3/CD28 with and without ICAM-2), both directions of every pair."""
    x = np.asarray(adata.X)[(adata.obs["perturbation"] == "control").to_numpy()]
    r = np.corrcoef(x, rowvar=False)
    genes = np.asarray(adata.var_names)
    i, j = np.nonzero(~np.eye(len(genes), dtype=bool))
    return pd.DataFrame(
        {"source": genes[i], "target": genes[j], "weight": r[i, j], "score": np.abs(r[i, j])}
    )


def run(seed: int) -> dict:
    adata = cc.datasets.sachs2005()
    cells = validate_cells(adata, expression="log")
    proteins = list(adata.var_names)
    intervened = sorted(set(adata.obs["perturbation"]) - {"control"})
    golds = {c: cc.datasets.sachs_consensus(c) for c in cc.datasets._sachs.CONSENSUS}
    edges, seconds = {}, {}
    for method in METHODS:
        t0 = time.perf_counter()
        edges[method] = infer_network(cells, method=method, rng=seed)
        seconds[method] = time.perf_counter() - t0
    edges["|corr| observational cells (baseline)"] = observational_correlation(adata)
    seconds["|corr| observational cells (baseline)"] = float("nan")
    rows = []
    for consensus, gold in golds.items():
        for scope, sources in (("all 110 pairs", proteins), ("intervened sources", intervened)):
            for method, e in edges.items():
                m = evaluate(e, gold, sources=sources, targets=proteins, k=(5, 10, 17))
                rows.append(
                    {
                        "consensus": consensus,
                        "pairs": scope,
                        "method": method,
                        "seconds": seconds[method],
                        **m,
                    }
                )
    return {"rows": rows, "intervened": intervened, "n_cells": int(adata.n_obs)}


def figure(rows: pd.DataFrame, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (consensus, sub) in zip(axes, rows.groupby("consensus"), strict=True):
        pivot = sub.pivot(index="method", columns="pairs", values="aupr")
        rand = sub.groupby("pairs")["random_aupr"].first()
        pivot.plot.barh(ax=ax)
        for k, (scope, r) in enumerate(rand.items()):
            ax.axvline(r, color=f"C{k}", ls=":", lw=1, label=f"random ({scope})")
        ax.set_xlabel("AUPR")
        ax.set_title(f"Sachs 2005 vs {consensus} consensus")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _table(sub: pd.DataFrame) -> list[str]:
    lines = [
        "| method | pairs | AUPR | AUROC | random AUPR | precision@5 | precision@10 | "
        "precision@17 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in sub.iterrows():
        lines.append(
            f"| {r['method'].replace('|', chr(92) + '|')} | {r['pairs']} | {r['aupr']:.3f} | {r['auroc']:.3f} "
            f"| {r['random_aupr']:.3f} | {r['precision@5']:.2f} | {r['precision@10']:.2f} "
            f"| {r['precision@17']:.2f} |"
        )
    return lines


def write_markdown(res: dict, out: Path, command: str) -> None:
    rows = pd.DataFrame(res["rows"])
    cols = ["method", "pairs", "aupr", "auroc", "random_aupr"]
    cols += ["precision@5", "precision@10", "precision@17"]
    lines = [
        "## Direct networks: Sachs et al. 2005 (real single-cell interventional data)",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs, {platform.system()}; "
        f"Python {platform.python_version()}; causalcell {cc.__version__}.",
        f"- Command: `{command}`",
        f"- Data: {res['n_cells']:,} T cells x 11 phosphoproteins, natural log of intensities "
        "(`expression='log'`); conditions 1-2 are the control, inhibitors and activators are "
        f"interventions on {', '.join(res['intervened'])} (each reagent its own instrument).",
        "- Truth: **the benchpress consensus graph** (17 edges) is the primary one; the cdt "
        "graph (18 edges, 13 shared) is shown as a check. Neither is complete or certain.",
        "",
    ]
    for consensus in ("benchpress", "cdt"):
        sub = rows[rows["consensus"] == consensus][cols]
        lines += [f"### vs the {consensus} consensus", "", *_table(sub), ""]
    bp = rows[(rows["consensus"] == "benchpress") & (rows["pairs"] == "all 110 pairs")]
    a = bp.set_index("method")["aupr"]
    base = a["|corr| observational cells (baseline)"]
    lines += [
        f"Against benchpress, all pairs: causalcell AUPR {a['causalcell']:.3f}, knockout-style "
        f"z-score {a['zscore']:.3f}, observational |corr| {base:.3f} (ratio causalcell / "
        f"|corr| = {a['causalcell'] / base:.2f}); best here: {a.idxmax()} "
        f"({a.max():.3f}). Interventional methods can only score the "
        f"{len(res['intervened'])} intervened sources, so on all 110 pairs they miss the edges "
        "out of the other five proteins. Activity inhibitors (Akt inhibitor, U0126) do not "
        "lower their own target's phospho level (U0126 raises pMek), so the instrument's first "
        "stage (the measured change of the source) does not track the change of activity: the "
        "scores (|z|) are unaffected by its sign but the signed weights of those sources are "
        "not interpretable. PMA and beta2cAMP replace anti-CD3/CD28 rather than add to it, so "
        "their contrast with the control also contains the change of stimulation.",
        "",
        "![sachs](../figures/network_sachs.png)",
        "",
    ]
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    res = run(args.seed)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "network_sachs.json").write_text(json.dumps(res, indent=1))
    (ROOT / "docs" / "figures").mkdir(parents=True, exist_ok=True)
    figure(pd.DataFrame(res["rows"]), ROOT / "docs" / "figures" / "network_sachs.png")
    write_markdown(
        res, ROOT / "docs" / "benchmarks" / "network_sachs.md", "python bench/network_sachs.py"
    )


if __name__ == "__main__":
    main()
