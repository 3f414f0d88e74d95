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
    GeneSetNeighbours,
    Responses,
    as_gene_sets,
    bootstrap_ci,
    control_programs,
    evaluate_splits,
    leave_one_target_out,
    make_model,
    noise_ceiling,
)

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("auto", "causal", "module", "linear", "train_mean", "no_change")
WITH_GO = ("auto", "module")  # the models with a module-inductive part, with GO gene sets
METRICS = (
    "pearson_delta_top20",
    "mse_top20",
    "direction_top20",
    "discrimination",
    "centroid_accuracy",
    "rank",
    "coverage95_top20",
    "coverage95_pred_top20",
    "coverage95_all",
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
    go = as_gene_sets(cc.datasets.go_biological_process())
    runs = [(name, make_model(name)) for name in MODELS]
    runs += [(f"{name} + GO", make_model(name, gene_sets=go)) for name in WITH_GO]
    rows, scores, walls = [], {}, {}
    for name, model in runs:
        t = time.perf_counter()
        scores[name] = evaluate_splits(model, responses, splits)
        walls[name] = time.perf_counter() - t
        cells = []
        for m in METRICS:
            lo, hi = bootstrap_ci(scores[name][m].to_numpy(), rng=0)
            cells.append(f"{scores[name][m].mean():.3f} [{lo:.3f}, {hi:.3f}]")
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {walls[name]:.1f} |")
    paired = []
    for name in ("auto", "auto + GO", "module + GO"):
        cells = []
        for m in ("pearson_delta_top20", "discrimination"):
            diff = (scores[name][m] - scores["train_mean"][m]).to_numpy()
            lo, hi = bootstrap_ci(diff, rng=0)
            verdict = "better" if lo > 0 else "worse" if hi < 0 else "tie"
            cells.append(f"{diff.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] {verdict}")
        paired.append(f"| {name} | " + " | ".join(cells) + " |")
    neighbours = GeneSetNeighbours(go).fit(responses)
    q = neighbours.sharpness_
    loo_q = neighbours.loo_mse_[q, neighbours.strength_]
    loo_1 = min(v for (qq, _), v in neighbours.loo_mse_.items() if qq == 1.0)
    sim_pair = float(neighbours.similarity(["IFNGR1"])[0, neighbours.train_genes_.index("IFNGR2")])
    n_measured = sum(p in set(responses.genes) for p in responses.perturbations)
    ceiling = noise_ceiling(valid, rng=0)
    rows.append(
        "| noise ceiling (split halves) | "
        + " | ".join(f"{ceiling[m].mean():.3f}" if m in ceiling else "-" for m in METRICS)
        + " | |"
    )
    lines = [
        "## Predicting unseen perturbations: Papalexi et al. 2021, leave one target out",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs; causalcell {cc.__version__}; "
        f"{time.perf_counter() - t0:.0f} s for the whole script.",
        "- Command: `python bench/predict_papalexi.py`; `s`: wall time of the 25 fits and "
        "predictions of each model.",
        f"- {len(splits)} single-gene perturbations, each predicted from the other {len(splits) - 1}; "
        "mean over perturbations [95% bootstrap interval].",
        "",
        "| model | Pearson delta (top-20 DE) | MSE (top-20 DE) | direction (top-20 DE) "
        "| discrimination (cell-eval) | centroid accuracy (Systema) | rank (PerturBench, lower "
        "is better) | 95% coverage (top-20 DE) | 95% coverage (top-20 predicted) | 95% coverage "
        "(all genes) | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Paired difference from `train_mean` over the same 25 held-out targets [95% bootstrap "
        "interval]; `better` when the interval excludes 0:",
        "",
        "| model | Pearson delta (top-20 DE) | discrimination (cell-eval) |",
        "|---|---|---|",
        *paired,
        "",
        "`linear`: Ahlmann-Eltze, Huber & Anders (2025) as published (K=10, l=0.1); `module`: "
        "program-level model with control-cell co-expression programs; `causal`: propagation "
        "with saturation over `module`'s singles (same as `module` on single genes); `auto`: "
        "chosen by cross-validation among train mean, linear, module and their average. "
        f"Only {n_measured} of the {len(splits)} targets are measured genes: the linear model "
        "can embed only those, and without gene sets the module model predicts the others as "
        "the mean response. `+ GO`: the module model (alone, or inside `auto`) with the GO "
        f"biological-process sets bundled as `causalcell.datasets.go_biological_process()` "
        f"({len(go)} sets, from `shared/data/gene_ontology_human_orghsegdb`), "
        "so that a target that is not a measured gene is predicted from the perturbed genes "
        "sharing its annotations (`GeneSetNeighbours`, shrinkage and kernel sharpness chosen "
        "by leave-one-out). "
        "The gap to the noise ceiling is what is left. `95% coverage`: share of each held-out "
        "target's top-20 measured changes (or of all genes) inside the model's prediction +- "
        "1.96 sd (0.95 = calibrated per-gene uncertainty). The top-20 DE genes are chosen for "
        "their large measured change, so they are where errors are largest: their coverage "
        "reads low for any model whose sd does not grow with the predicted change. The top-20 "
        "predicted genes are those the model says change most (what a user looks at).",
        "",
        "History on this script (`auto + GO` unless named; paired against `train_mean`): (1) commit "
        "7cdd838, deltas shrunk toward zero: Pearson 0.392, +0.048 [-0.027, +0.141] tie; "
        "discrimination 0.525, +0.045 [+0.008, +0.093] better. (2) commit 546349f, deltas "
        "shrunk toward the programs shared across perturbations: Pearson 0.412, +0.068 "
        "[-0.006, +0.163] tie; discrimination 0.517, +0.037 [-0.000, +0.087] tie. (3) "
        "the gene-set neighbours' kernel sharpened: GO similarities are low and dense "
        f"(IFNGR1-IFNGR2 {sim_pair:.2f}, most pairs 0-0.1), so with weights proportional to "
        "the similarity a target's few close neighbours were outweighed by the sum of dozens "
        "of remote ones (held-out IFNGR1 was predicted at 0.14 of its measured deviation from "
        "the mean, at cosine 0.95); the weights are now the similarity to a power q chosen "
        f"with the shrinkage by the exact leave-one-out error (on all 25: q = {q:g}, "
        f"leave-one-out MSE {loo_q:.5f} vs {loo_1:.5f} at q = 1). The gains between versions "
        "are inside the noise of 25 targets, and the lower ends of the intervals above are "
        "near 0: the margin over `train_mean` excludes 0, thinly. (4) A fix: a target the "
        "module model cannot place (not a measured gene, and without gene sets or "
        "annotations) was predicted as the mean response of the perturbations on measured "
        "genes only (8 or 9 of the 24 here; zero when there are none) instead of all 24 training "
        "perturbations; it now gets the mean of all. `auto` without GO moved from Pearson "
        "0.401, +0.057 [-0.018, +0.152] tie and discrimination 0.505, +0.025 [-0.015, "
        "+0.077] tie to the figures above; `auto + GO` barely moved (only ETV7 and MARCH8 "
        "lack GO annotations). Tried and not adopted "
        "(measured on version 3): averaging `auto`'s module + linear ensemble only over the "
        "members that cover a target (the linear model predicts the training mean for the 16 "
        "targets that are not measured genes, which halves the module's prediction): Pearson "
        "0.404, +0.061 [-0.010, +0.150]; discrimination 0.532, +0.052 [-0.013, +0.138]; "
        "both ties, no gain.",
        "",
    ]
    (ROOT / "docs" / "benchmarks" / "predict_papalexi.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
