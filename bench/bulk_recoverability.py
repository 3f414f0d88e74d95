"""Bulk recoverability on simulated worlds with exact bulk truth.

For each mechanism (affine, Hill n=2) and seed, one world is simulated twice from the same seed:
as bulk samples of three-cell-type mixtures (preset ``bulk_mixture``: 21 conditions x 4 samples
of 500 cells, Dirichlet(5) compositions) and as single cells (300 per perturbation, 1,500
controls). Measured in the same run:

1. Predicting the exact expected bulk delta from the single cells: causalcell's mixture of
   per-type profiles (:func:`causalcell.bulk.recoverability`) vs the usual shortcut "bulk shows
   the average single-cell effect" (mean log1p CP10k of all perturbed cells minus controls).
2. The verdicts from the cells vs the verdicts computed from the simulator's exact per-type
   expected counts (``truth['type_counts']``).
3. Effects estimated from the bulk samples themselves: plain comparison vs adjusted for
   compositions deconvolved (NNLS) with the single cells as reference, and vs the true
   compositions: error against the exact delta, sensitivity and false discoveries at FDR 0.1.

Writes docs/benchmarks/bulk_recoverability.md and docs/figures/bulk_recoverability.png.
Usage: ``python bench/bulk_recoverability.py [--seeds 0 1]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import causalcell as cc
from causalcell._utils import atomic_path, write_text_atomic
from causalcell.bulk import (
    bulk_effects,
    deconvolve,
    mixture_log1p,
    recoverability,
    type_profiles,
)
from causalcell.bulk._mixture import bulk_delta
from causalcell.bulk._recover import verdicts
from causalcell.effects._kernels import log_normalize
from causalcell.io import validate_cells
from causalcell.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT / "docs" / "benchmarks" / "bulk_recoverability.md"
FIGURE = ROOT / "docs" / "figures" / "bulk_recoverability.png"
MECHANISMS = {"affine": {}, "hill2": {"hill": 2.0}}
CELLS = {"cells_per_perturbation": 300, "n_control": 1500}


def matrix(table: pd.DataFrame, value: str, perts: list[str], genes: list[str]) -> np.ndarray:
    """Perturbations x genes view of a long table."""
    wide = table.pivot(index="perturbation", columns="gene", values=value)
    return wide.loc[perts, genes].to_numpy()


def pooled_cell_delta(cells, perts: list[str]) -> np.ndarray:
    """Baseline: mean log1p CP10k of all cells of each perturbation minus the controls'."""
    logs = log_normalize(cells.adata.X.astype(float))
    labels = cells.adata.obs["perturbation"].astype(str).to_numpy()
    ctrl = np.asarray(logs[labels == "control"].mean(axis=0)).ravel()
    return np.stack([np.asarray(logs[labels == p].mean(axis=0)).ravel() - ctrl for p in perts])


def true_verdicts(bulk, draws: np.ndarray, min_effect: float, samples: int) -> np.ndarray:
    """Verdicts from the exact per-type expected counts (no cell noise)."""
    counts = bulk.truth["type_counts"]  # (control + perturbations, types, genes)
    pure = np.eye(counts.shape[1])
    out = []
    for i in range(1, counts.shape[0]):
        type_delta = mixture_log1p(counts[i], pure) - mixture_log1p(counts[0], pure)
        cell = draws.mean(axis=0) @ type_delta
        delta, var = bulk_delta(counts[0], counts[i], draws)
        strongest = type_delta[np.abs(type_delta).argmax(axis=0), np.arange(type_delta.shape[1])]
        needed = cc.bulk.samples_needed(delta, var)
        responds = np.abs(strongest) >= min_effect
        out.append(verdicts(cell, strongest, responds, delta, needed, samples, min_effect))
    return np.stack(out)


def detection(table: pd.DataFrame, truth: np.ndarray, perts, genes) -> dict[str, float]:
    """Error vs the exact delta, sensitivity (|true| >= 0.1) and false discovery proportion
    (|true| < 0.02) at FDR 0.1."""
    est, fdr = matrix(table, "delta", perts, genes), matrix(table, "fdr", perts, genes)
    called = fdr < 0.1
    null = np.abs(truth) < 0.02
    return {
        "rmse": float(np.sqrt(np.mean((est - truth) ** 2))),
        "sensitivity": float(called[np.abs(truth) >= 0.1].mean()),
        "fdp": float((called & null).sum() / max(called.sum(), 1)),
    }


def run_one(mechanism: str, seed: int) -> tuple[dict, pd.DataFrame, tuple]:
    """All measurements on one world."""
    extra = MECHANISMS[mechanism]
    bulk = simulate("bulk_mixture", rng=seed, **extra)
    cells = simulate("bulk_mixture", rng=seed, mode="cells", **CELLS, **extra)
    perts, genes = list(bulk.truth["perturbations"]), list(bulk.truth["genes"])
    conc = bulk.truth["config"]["bulk"]["proportion_concentration"]
    samples = bulk.truth["config"]["bulk"]["samples_per_condition"]
    draws = np.random.default_rng(seed).dirichlet(np.full(3, conc), 4000)
    valid = validate_cells(cells.adata)
    start = time.perf_counter()
    result = recoverability(valid, proportions=draws, samples=samples)
    seconds = time.perf_counter() - start
    truth = bulk.truth["delta"]
    pred = matrix(result.table, "bulk_delta", perts, genes)
    base = pooled_cell_delta(cells, perts)
    est_verdict = matrix(result.table, "verdict", perts, genes)
    exact_verdict = true_verdicts(bulk, draws, 0.1, samples)
    reference = type_profiles(valid).counts[0]
    props = deconvolve(bulk.adata.X.toarray(), reference)
    samples_data = validate_cells(bulk.adata)
    row = {
        "mechanism": mechanism,
        "seed": seed,
        "r_mixture": np.corrcoef(pred.ravel(), truth.ravel())[0, 1],
        "r_pooled": np.corrcoef(base.ravel(), truth.ravel())[0, 1],
        "rmse_mixture": np.sqrt(np.mean((pred - truth) ** 2)),
        "rmse_pooled": np.sqrt(np.mean((base - truth) ** 2)),
        "seconds": seconds,
        "verdict_agreement": float((est_verdict == exact_verdict).mean()),
        "deconv_r": float(
            np.mean(
                [np.corrcoef(props[:, k], bulk.truth["proportions"][:, k])[0, 1] for k in range(3)]
            )
        ),
    }
    for name, p in [("plain", None), ("deconvolved", props), ("true", bulk.truth["proportions"])]:
        for key, value in detection(bulk_effects(samples_data, p), truth, perts, genes).items():
            row[f"{key}_{name}"] = value
    verdict_rows = pd.DataFrame(
        {
            "mechanism": mechanism,
            "seed": seed,
            "estimated": est_verdict.ravel(),
            "exact": exact_verdict.ravel(),
        }
    )
    return row, verdict_rows, (result.table, truth, pred, perts, genes)


def figure(table: pd.DataFrame, truth, pred) -> None:
    """Recoverability scatter of one Hill world next to predicted vs exact bulk deltas."""
    from causalcell.pl import recoverability_scatter

    fig = recoverability_scatter(table)
    ax = fig.axes[1]
    ax.clear()
    ax.scatter(truth.ravel(), pred.ravel(), s=4, c="#2b8cbe")
    lim = float(np.abs(truth).max())
    ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls="--")
    ax.set(xlabel="exact bulk delta (simulator)", ylabel="predicted from single cells")
    with atomic_path(FIGURE) as tmp:
        fig.savefig(tmp, dpi=130, format="png")


def write_section(rows: pd.DataFrame, verdict_rows: pd.DataFrame, seeds, wall: float) -> None:
    mean = rows.groupby("mechanism").mean(numeric_only=True)
    lines = [
        "## Bulk recoverability: the single-cell model pushed through aggregation",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPUs (shared "
        f"with other jobs); causalcell {cc.__version__}; whole run {wall / 60:.1f} min.",
        f"- Command: `python bench/bulk_recoverability.py --seeds {' '.join(map(str, seeds))}`",
        "- Worlds: preset `bulk_mixture` (300 genes, 20 knockouts, 3 cell types whose programs "
        "differ, 4 bulk samples of 500 cells per condition, Dirichlet(5) compositions), affine or "
        "Hill (n = 2) mechanism; the same world also as single cells (300 per perturbation, "
        "1,500 controls, cell types annotated). Truth: the simulator's exact expected bulk delta "
        "over compositions. Mean over seeds.",
        "",
        "### Predicting the bulk delta from single cells",
        "",
        "| mechanism | r, mixture (causalcell) | r, pooled cells (shortcut) | RMSE mixture | RMSE "
        "pooled | RMSE ratio | verdicts = exact verdicts | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mech, r in mean.iterrows():
        lines.append(
            f"| {mech} | {r.r_mixture:.3f} | {r.r_pooled:.3f} | {r.rmse_mixture:.4f} | "
            f"{r.rmse_pooled:.4f} | {r.rmse_pooled / r.rmse_mixture:.2f}x | "
            f"{r.verdict_agreement:.3f} | {r.seconds:.1f} |"
        )
    lines += [
        "",
        "Verdicts (estimated from cells / exact from the simulator's per-type counts), all seeds:",
        "",
    ]
    counts = pd.concat(
        {
            mech: pd.DataFrame(
                {"estimated": d["estimated"].value_counts(), "exact": d["exact"].value_counts()}
            )
            .fillna(0)
            .astype(int)
            for mech, d in verdict_rows.groupby("mechanism")
        }
    )
    lines += ["| mechanism | verdict | estimated | exact |", "|---|---|---|---|"]
    for (mech, verdict), r in counts.iterrows():
        if verdict != "none":
            lines.append(f"| {mech} | {verdict} | {r.estimated} | {r.exact} |")
    lines += [
        "",
        "### Effects from the bulk samples: composition as a covariate",
        "",
        "| mechanism | deconvolution r | RMSE plain | RMSE deconvolved | RMSE true comp. | "
        "sensitivity plain / deconv. / true | false discoveries plain / deconv. / true |",
        "|---|---|---|---|---|---|---|",
    ]
    for mech, r in mean.iterrows():
        lines.append(
            f"| {mech} | {r.deconv_r:.3f} | {r.rmse_plain:.4f} | {r.rmse_deconvolved:.4f} | "
            f"{r.rmse_true:.4f} | {r.sensitivity_plain:.2f} / {r.sensitivity_deconvolved:.2f} / "
            f"{r.sensitivity_true:.2f} | {r.fdp_plain:.2f} / {r.fdp_deconvolved:.2f} / "
            f"{r.fdp_true:.2f} |"
        )
    lines += [
        "",
        "Sensitivity: share of pairs with |exact delta| >= 0.1 called at FDR 0.1; false "
        "discoveries: share of calls whose |exact delta| < 0.02.",
        "",
        "![bulk recoverability](figures/bulk_recoverability.png)",
        "",
        "### Reading",
        "",
        f"- Mixing the per-type profiles predicts the exact bulk delta "
        f"{(mean.rmse_pooled / mean.rmse_mixture).min():.2f}-"
        f"{(mean.rmse_pooled / mean.rmse_mixture).max():.2f}x more accurately (RMSE) than the "
        "shortcut that bulk shows the average single-cell effect (mean of log vs log of mean).",
        f"- Composition as a covariate (deconvolved from the bulk counts with the cells' "
        f"control profiles) cuts the error of bulk effects "
        f"{(mean.rmse_plain / mean.rmse_deconvolved).min():.1f}-"
        f"{(mean.rmse_plain / mean.rmse_deconvolved).max():.1f}x and lifts sensitivity from "
        f"{mean.sensitivity_plain.mean():.2f} to {mean.sensitivity_deconvolved.mean():.2f}; its "
        f"false-discovery share ({mean.fdp_deconvolved.mean():.2f}) stays above the nominal 0.1: "
        f"deconvolution error, and the log of a mixture is not linear in the proportions (with "
        f"the true compositions: {mean.fdp_true.mean():.2f}).",
        "- These worlds have no cell-type-specific edges (types differ in basal programs only), "
        "so exact dilution is rare; the estimated verdicts are conservative (dilution is judged "
        "at the lower confidence bound of the strongest type). Dilution and sign flips of "
        "opposite-responding types are checked analytically in tests/bulk.",
        "",
    ]
    write_text_atomic(SECTION, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    start = time.perf_counter()
    rows, verdict_rows = [], []
    for mech in MECHANISMS:
        for seed in args.seeds:
            row, verdict_row, shown = run_one(mech, seed)
            rows.append(row)
            verdict_rows.append(verdict_row)
            print(row, flush=True)
            if mech == "hill2" and seed == args.seeds[0]:
                figure(shown[0], shown[1], shown[2])
    write_section(
        pd.DataFrame(rows), pd.concat(verdict_rows), args.seeds, time.perf_counter() - start
    )


if __name__ == "__main__":
    main()
