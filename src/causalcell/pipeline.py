"""``causalcell run``: the whole pipeline on one data set, as a registry of steps.

Each step reads the shared :class:`RunContext`, writes its own output files (atomically) and
adds its section to the report. Later capabilities add steps to :data:`STEPS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from causalcell._utils import RngLike, as_rng
from causalcell.io import CONTROL, Cells, write_csv_atomic, write_h5ad_atomic
from causalcell.report import Report

if TYPE_CHECKING:
    from causalcell.predict import GeneSets

logger = logging.getLogger(__name__)
MAX_HELD_OUT = 30  # targets held out in turn by the report's prediction check


@dataclass
class RunContext:
    """What the steps share: the cells, the output folder, the generator and the results."""

    cells: Cells
    out: Path
    rng: np.random.Generator
    report: Report
    results: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    gene_sets: GeneSets | None = None  # optional prior for targets that are not measured genes


Step = Callable[[RunContext], None]
STEPS: list[tuple[str, Step]] = []


def step(name: str) -> Callable[[Step], Step]:
    """Register a pipeline step (run in registration order)."""

    def register(fn: Step) -> Step:
        STEPS.append((name, fn))
        return fn

    return register


@step("data")
def _data_step(ctx: RunContext) -> None:
    obs = ctx.cells.obs
    sec = ctx.report.section("Data")
    pert = obs["perturbation"].astype(str)
    n_ctrl = int((pert == CONTROL).sum())
    ctx.report.text(
        sec,
        f"{ctx.cells.n_cells:,} cells x {ctx.cells.n_genes:,} genes; {pert.nunique() - (n_ctrl > 0)} "
        f"perturbations; {n_ctrl:,} control cells; expression given as {ctx.cells.expression}; "
        f"batches: {obs['batch'].nunique() if 'batch' in obs else 1}.",
    )
    counts = pert.value_counts().rename("cells").to_frame()
    ctx.report.table(sec, counts.T, max_rows=1)


@step("effects")
def _effects_step(ctx: RunContext) -> None:
    from causalcell import pl
    from causalcell.effects import compute_effects, to_anndata

    result = compute_effects(ctx.cells, rng=ctx.rng)
    eff = to_anndata(result)
    ctx.results["effects"] = eff
    write_h5ad_atomic(eff, ctx.out / "effects.h5ad")
    write_csv_atomic(eff.obs, ctx.out / "perturbations.csv")
    if len(eff.uns["guides"]):
        write_csv_atomic(eff.uns["guides"], ctx.out / "guides.csv")
    ctx.files += [ctx.out / "effects.h5ad", ctx.out / "perturbations.csv"]

    sec = ctx.report.section("Perturbation effects")
    n_sig = (eff.layers["fdr"] < 0.05).sum(axis=1)
    table = eff.obs.assign(n_genes_fdr05=n_sig).sort_values("n_genes_fdr05", ascending=False)
    ctx.report.text(
        sec,
        f"{int(n_sig.sum()):,} perturbation-gene pairs at FDR < 0.05 (Benjamini-Hochberg over all "
        f"{eff.n_obs * eff.n_vars:,} pairs), effects on log1p CP10k, batch-matched.",
    )
    ctx.report.table(sec, table)
    ctx.report.figure(
        sec, pl.volcano(eff), "Volcano plot of all perturbation-gene pairs; circles: on-target."
    )
    ctx.report.figure(
        sec, pl.effect_heatmap(eff), "Effects on the most often changed genes (clustered)."
    )
    if eff.obs["knockdown"].notna().any():
        ctx.report.figure(sec, pl.knockdown(eff), "On-target knockdown of measured targets.")
    if len(eff.uns["guides"]):
        sec = ctx.report.section("Guides and escaping cells")
        ctx.report.text(
            sec,
            "signature ratio: a guide's effect projected on its perturbation's signature (1 = as "
            "strong as the pooled perturbation, 0 = no effect); responder fraction: estimated "
            "share of its cells that respond (escape model with cross-fitted signatures).",
        )
        ctx.report.table(sec, eff.uns["guides"], max_rows=200)
        ctx.report.figure(sec, pl.guide_efficacy(eff), "Per-guide efficacy.")


@step("calibration")
def _calibration_step(ctx: RunContext) -> None:
    from causalcell import pl
    from causalcell.effects import null_calibration

    cal = null_calibration(ctx.cells, rng=ctx.rng)
    sec = ctx.report.section("Calibration")
    if cal is None:
        ctx.report.text(sec, "Too few control cells for a calibration check.", css_class="note")
        return
    ctx.results["calibration"] = cal
    ctx.report.text(
        sec,
        f"Random groups of {cal.group_size} control cells tested against the other controls: "
        f"{cal.fraction_below_05:.3f} of p-values below 0.05 (0.05 expected when calibrated).",
    )
    observed = ctx.results["effects"].layers["pval"].ravel() if "effects" in ctx.results else None
    ctx.report.figure(sec, pl.calibration_qq(cal.pvals.ravel(), observed), "QQ plot of p-values.")


@step("network")
def _network_step(ctx: RunContext) -> None:
    from causalcell import pl
    from causalcell.network import Profiles, infer_network

    eff = ctx.results["effects"]
    sec = ctx.report.section("Direct regulatory network")
    profiles = Profiles.from_effects(eff)
    # fewer trees and evidence-screened candidates keep the report fast; `causalcell network`
    # runs the full default
    edges = infer_network(profiles, options={"n_estimators": 100, "min_z": 2.0}, rng=ctx.rng)
    ctx.results["edges"] = edges
    write_csv_atomic(edges, ctx.out / "edges.csv", index=False)
    ctx.files.append(ctx.out / "edges.csv")
    ctx.report.text(
        sec,
        f"{len(edges):,} candidate edges ranked by score (source: perturbed gene; weight: "
        "total effect per unit of the source, sign = regulation). The score combines the "
        "instrumental-variable total effect with the conditional importance of the source given "
        "the other perturbed genes, to rank direct above indirect edges: it does on DREAM4, not "
        "yet on simulated single-cell screens (docs/benchmarks.md).",
    )
    ctx.report.table(sec, edges.head(30), max_rows=30)
    if len(edges):
        ctx.report.figure(sec, pl.edge_heatmap(edges), "Top edges: signed weights.")


@step("predictions")
def _prediction_step(ctx: RunContext) -> None:
    import pandas as pd

    from causalcell import pl
    from causalcell.predict import (
        Responses,
        bootstrap_ci,
        evaluate_splits,
        leave_one_target_out,
        make_model,
        noise_ceiling,
    )

    responses = Responses.from_effects(ctx.results["effects"])
    splits = leave_one_target_out(responses.perturbations)
    n_targets = len(splits)
    if n_targets > MAX_HELD_OUT:  # each split refits every model (10 s for auto at 500 x 5,000)
        keep = np.sort(ctx.rng.choice(n_targets, MAX_HELD_OUT, replace=False))
        splits = [splits[i] for i in keep]
    sec = ctx.report.section("Predicting unseen perturbations")
    if len(splits) < 4:
        ctx.report.text(
            sec, "Fewer than 4 single-gene perturbations: no leave-one-out check.", css_class="note"
        )
        return
    models = {name: make_model(name) for name in ("auto", "linear", "train_mean", "no_change")}
    if ctx.gene_sets is not None:
        models["auto + gene sets"] = make_model("auto", gene_sets=ctx.gene_sets)
    rows = {}
    for name, model in models.items():
        scores = evaluate_splits(model, responses, splits)
        metric = scores["pearson_delta_top20"].to_numpy()
        rows[name] = (
            metric.mean(),
            *bootstrap_ci(metric, rng=ctx.rng),
            scores["discrimination"].mean(),
        )
    summary = pd.DataFrame(
        rows, index=["pearson_delta_top20", "ci_low", "ci_high", "discrimination"]
    ).T
    ceiling = noise_ceiling(ctx.cells, rng=ctx.rng)
    ceiling_value = float("nan") if ceiling is None else ceiling["pearson_delta_top20"].mean()
    ctx.results["prediction_summary"] = summary
    write_csv_atomic(summary, ctx.out / "prediction_benchmark.csv")
    ctx.files.append(ctx.out / "prediction_benchmark.csv")
    ctx.report.text(
        sec,
        "Leave-one-target-out: each single-gene perturbation is predicted from all the others"
        + (
            f" ({len(splits)} of the {n_targets} targets, drawn at random). "
            if len(splits) < n_targets
            else ". "
        )
        + "Pearson delta on the top-20 DE genes (95% bootstrap interval over perturbations), "
        "beside the noise ceiling (one half of the cells predicting the other): "
        f"{ceiling_value:.3f} (NaN: too few cells per perturbation to split).",
    )
    ctx.report.table(sec, summary)
    fig = pl.prediction_scores(summary, ceiling=ceiling_value)
    ctx.report.figure(sec, fig, "Prediction benchmark.")


def run(
    cells: Cells,
    out: str | Path,
    *,
    rng: RngLike = None,
    title: str | None = None,
    gene_sets=None,
) -> RunContext:
    """Run every registered step on ``cells`` and write ``out/report.html``.

    ``gene_sets`` (a GMT path or a mapping, e.g. :func:`causalcell.datasets.go_biological_process`)
    adds ``auto`` with gene sets to the prediction check: targets that are not measured genes
    borrow from the perturbed genes sharing their annotations.

    Returns
    -------
    RunContext
        The results of each step (``ctx.results``) and the files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(
        cells, out, as_rng(rng), Report(title or f"causalcell run: {cells.source or 'cells'}")
    )
    if gene_sets is not None:
        from causalcell.predict import as_gene_sets

        ctx.gene_sets = as_gene_sets(gene_sets)
    for name, fn in STEPS:
        t0 = time.perf_counter()
        fn(ctx)
        logger.info("step %s finished in %.1fs", name, time.perf_counter() - t0)
    ctx.report.write(out / "report.html")
    ctx.files.append(out / "report.html")
    return ctx
