"""Papalexi et al. 2021, leave-one-target-out prediction: causalcell's models beside the baselines.

Every model predicts each single-gene perturbation from all the others, in one run; scores with
95% bootstrap intervals over perturbations, beside the split-half noise ceiling.
Usage: ``python bench/predict_papalexi.py`` (writes docs/benchmarks/predict_papalexi.md).
"""

from __future__ import annotations

import platform
import time
from datetime import date
from pathlib import Path

import causalcell as cc
from causalcell.predict import (
    Responses,
    bootstrap_ci,
    control_programs,
    evaluate_splits,
    leave_one_target_out,
    make_model,
    noise_ceiling,
)

ROOT = Path(__file__).resolve().parents[1]
METRICS = (
    "pearson_delta_top20",
    "mse_top20",
    "direction_top20",
    "discrimination",
    "centroid_accuracy",
    "rank",
)


def main() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # tiny matrices: BLAS threads only oversubscribe the shared cores
    t0 = time.perf_counter()
    adata = cc.datasets.papalexi2021()
    eff = cc.effects.effects(adata, escape=False, rng=0, progress=False)
    responses = Responses.from_effects(eff)
    valid = cc.io.validate_cells(adata)
    responses.programs, responses.variance = control_programs(valid, rng=0)
    splits = leave_one_target_out(responses.perturbations)
    rows = []
    for name in ("auto", "causal", "module", "linear", "train_mean", "no_change"):
        scores = evaluate_splits(make_model(name), responses, splits)
        cells = []
        for m in METRICS:
            lo, hi = bootstrap_ci(scores[m].to_numpy(), rng=0)
            cells.append(f"{scores[m].mean():.3f} [{lo:.3f}, {hi:.3f}]")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    ceiling = noise_ceiling(valid, rng=0)
    rows.append(
        "| noise ceiling (split halves) | "
        + " | ".join(f"{ceiling[m].mean():.3f}" for m in METRICS)
        + " |"
    )
    lines = [
        "## Predicting unseen perturbations: Papalexi et al. 2021, leave one target out",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs; causalcell {cc.__version__}; "
        f"{time.perf_counter() - t0:.0f} s for the whole script.",
        "- Command: `python bench/predict_papalexi.py`",
        f"- {len(splits)} single-gene perturbations, each predicted from the other {len(splits) - 1}; "
        "mean over perturbations [95% bootstrap interval].",
        "",
        "| model | Pearson delta (top-20 DE) | MSE (top-20 DE) | direction (top-20 DE) "
        "| discrimination (cell-eval) | centroid accuracy (Systema) | rank (PerturBench, lower "
        "is better) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "`linear`: Ahlmann-Eltze, Huber & Anders (2025) as published (K=10, l=0.1); `module`: "
        "program-level model with control-cell co-expression programs; `causal`: propagation "
        "with saturation over `module`'s singles (same as `module` on single genes); `auto`: "
        "chosen by cross-validation among train mean, linear and module. Only 9 of the 25 targets are measured genes, so "
        "the linear model can embed few perturbations; the gap to the noise ceiling is what is left.",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "predict_papalexi.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
