"""Command-line interface: a thin Typer layer over the library (heavy imports inside commands)."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="causalcell",
    help="Causal models of gene regulation from perturbation and expression data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ExpressionScale(StrEnum):
    counts = "counts"
    log = "log"


Expression = Annotated[
    ExpressionScale,
    typer.Option(
        "--expression", help="counts: raw UMIs in X; log: X already on the analysis scale."
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same output.")]
PerturbationKey = Annotated[
    str, typer.Option("--perturbation-key", help="obs column with perturbation labels.")
]


def _load_cells(
    path: Path, expression: ExpressionScale, perturbation_key: str, *, backed: bool = True
):
    from causalcell.io import read_cells, validate_cells

    adata = read_cells(path, backed=backed and path.suffix == ".h5ad")
    return validate_cells(
        adata, expression=expression.value, perturbation_key=perturbation_key, source=str(path)
    )


@app.command()
def effects(
    cells: Annotated[Path, typer.Argument(help="Cells: .h5ad, 10x folder or CSV table.")],
    out: Annotated[Path, typer.Option("--out", help="Output .h5ad (perturbations x genes).")],
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    responders_only: Annotated[
        bool, typer.Option(help="Recompute effects without escaping cells.")
    ] = False,
    escape: Annotated[bool, typer.Option(help="Fit the escaping-cell mixture model.")] = True,
    min_cells: Annotated[
        int | None,
        typer.Option(help="Drop smaller perturbations/guides (default 3; 1 for --expression log)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Cells read per block.")] = 20_000,
) -> None:
    """Effect of each perturbation on each gene: delta, se, pval, fdr, knockdown, guides, escapers."""
    from causalcell.effects import compute_effects, to_anndata
    from causalcell.io import write_h5ad_atomic

    data = _load_cells(cells, expression, perturbation_key)
    result = compute_effects(
        data,
        min_cells=min_cells,
        escape=escape,
        responders_only=responders_only,
        chunk_size=chunk_size,
        rng=seed,
    )
    write_h5ad_atomic(to_anndata(result), out)
    _done(
        f"effects of {len(result.perturbations)} perturbations on {len(result.genes)} genes -> {out}"
    )


@app.command()
def network(
    cells: Annotated[Path, typer.Argument(help="Cells: .h5ad, 10x folder or CSV table.")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: source,target,weight,score.")],
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    method: Annotated[
        str, typer.Option(help="Inference method (see causalcell.network.list_methods()).")
    ] = "causalcell",
    responders_only: Annotated[
        bool, typer.Option(help="Estimate effects without escaping cells.")
    ] = False,
    prior: Annotated[
        Path | None,
        typer.Option(
            "--prior",
            help="Soft prior network, CSV source,target[,prior|weight|confidence] (DoRothEA's "
            "tf,target,confidence too): reweights scores, never taken as truth.",
        ),
    ] = None,
    prior_strength: Annotated[
        float, typer.Option(help="Log factor on the score of a prior edge of confidence 1.")
    ] = 1.0,
    bootstrap: Annotated[
        int,
        typer.Option(
            help="Bootstrap replicates over guides and cells: score = share of replicates "
            "selecting the edge with its sign (0: the method's own score)."
        ),
    ] = 0,
) -> None:
    """Direct regulatory edges, ranked by confidence (--method time: time-resolved, obs time)."""
    from causalcell.io import write_csv_atomic
    from causalcell.network import infer_network

    data = _load_cells(cells, expression, perturbation_key, backed=bootstrap == 0)
    if bootstrap > 0:
        from causalcell.network._bootstrap import bootstrap_network

        edges = bootstrap_network(data, method=method, n_boot=bootstrap, rng=seed)
        write_csv_atomic(edges, out, index=False)
        _done(f"{len(edges)} edges (bootstrap confidence) -> {out}")
        return
    edges = infer_network(
        data,
        method=method,
        responders_only=responders_only,
        prior=prior,
        prior_strength=prior_strength,
        rng=seed,
    )
    write_csv_atomic(edges, out, index=False)
    _done(f"{len(edges)} edges -> {out}")


@app.command()
def predict(
    cells: Annotated[Path, typer.Argument(help="Cells: .h5ad, 10x folder or CSV table.")],
    perturbations: Annotated[
        str,
        typer.Option("--perturbations", help="Comma-separated list, or a file with one per line."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output CSV (perturbations x genes, delta vs control) or .h5ad (layers delta "
            "and sd).",
        ),
    ],
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    model: Annotated[
        str,
        typer.Option(
            help="auto (cross-validated), causal, module, linear, additive, train_mean, no_change."
        ),
    ] = "auto",
    allow_unknown: Annotated[
        bool, typer.Option(help="Predict the training mean for unknown genes.")
    ] = False,
    uncertainty: Annotated[
        Path | None, typer.Option(help="Also write per-gene standard deviations here.")
    ] = None,
    gene_sets: Annotated[
        str | None,
        typer.Option(
            help="'go' (the bundled human GO biological processes) or a GMT file: targets "
            "that are not measured genes borrow from perturbed genes sharing their annotations."
        ),
    ] = None,
) -> None:
    """Predict responses to perturbations (unseen genes, combinations) from the measured ones."""
    from causalcell.io import write_csv_atomic, write_h5ad_atomic
    from causalcell.predict import predict as run_predict
    from causalcell.predict import predictions_anndata

    spec = Path(perturbations)
    labels = (
        [line.strip() for line in spec.read_text().splitlines()]
        if spec.is_file()
        else perturbations
    )
    data = _load_cells(cells, expression, perturbation_key)
    pred, sd = run_predict(
        data,
        labels,
        model=model,
        allow_unknown=allow_unknown,
        gene_sets=_gene_sets(gene_sets),
        rng=seed,
    )
    if out.suffix == ".h5ad":
        write_h5ad_atomic(predictions_anndata(pred, sd), out)
    else:
        write_csv_atomic(pred, out)
    if uncertainty is not None:
        write_csv_atomic(sd, uncertainty)
    _done(f"predicted {len(pred)} perturbations -> {out}")


@app.command()
def run(
    cells: Annotated[Path, typer.Argument(help="Cells: .h5ad, 10x folder or CSV table.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (report.html and tables).")],
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    gene_sets: Annotated[
        str | None,
        typer.Option(
            help="'go' (bundled human GO biological processes) or a GMT file: the prediction "
            "check also runs auto with these gene sets (targets that are not measured genes)."
        ),
    ] = None,
) -> None:
    """The whole pipeline on one data set, with an HTML report."""
    from causalcell.pipeline import run as run_pipeline

    data = _load_cells(cells, expression, perturbation_key)
    ctx = run_pipeline(data, out, rng=seed, gene_sets=_gene_sets(gene_sets))
    _done(f"wrote {len(ctx.files)} files; report: {out / 'report.html'}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo_out"),
    seed: Seed = 0,
) -> None:
    """`run` on the bundled Papalexi et al. 2021 CRISPR screen (real data), with the bundled
    GO biological processes for the targets that are not measured genes."""
    from causalcell.datasets import go_biological_process, papalexi2021
    from causalcell.io import validate_cells
    from causalcell.pipeline import run as run_pipeline

    data = validate_cells(papalexi2021(), source="papalexi2021 (bundled)")
    run_pipeline(
        data,
        out,
        rng=seed,
        title="causalcell demo: Papalexi et al. 2021 ECCITE-seq screen",
        gene_sets=go_biological_process(),
    )
    _done(f"report: {out / 'report.html'}")


@app.command()
def mr(
    sumstats: Annotated[
        Path, typer.Argument(help="CSV: beta_exposure,se_exposure,beta_outcome,se_outcome[,snp].")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output CSV, one row per method.")],
    seed: Seed = 0,
) -> None:
    """Mendelian randomization on summary statistics (IVW, Egger, weighted median, ...)."""
    from causalcell.io import write_csv_atomic
    from causalcell.mr import mr as run_mr
    from causalcell.mr import read_sumstats

    table = run_mr(read_sumstats(sumstats), rng=seed)
    write_csv_atomic(table, out, index=False)
    _done(f"{len(table)} MR estimates -> {out}")


@app.command()
def dml(
    cells: Annotated[
        Path, typer.Argument(help="Cells with obs phenotype (0/1), donor, cell_type.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: one row per cell type x gene.")],
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    learner: Annotated[str, typer.Option(help="ridge_cv, ridge, lasso or gbm.")] = "ridge_cv",
    confounders: Annotated[
        str, typer.Option(help="pca, autoencoder (needs torch) or an obsm key.")
    ] = "pca",
    n_folds: Annotated[int, typer.Option(help="Cross-fitting folds (whole donors).")] = 5,
    unit: Annotated[
        str, typer.Option(help="auto (donors for a donor-level label), donor or cell.")
    ] = "auto",
) -> None:
    """Gene -> phenotype effects per cell type by double machine learning (donors as units)."""
    from causalcell.dml import dml as run_dml
    from causalcell.io import read_cells, write_csv_atomic

    adata = read_cells(cells)
    table = run_dml(
        adata,
        expression=expression.value,
        learner=learner,
        confounders=confounders,
        n_folds=n_folds,
        unit=unit,
        rng=seed,
    )
    write_csv_atomic(table, out, index=False)
    _done(f"{len(table)} DML estimates -> {out}")


@app.command()
def concordance(
    dml_csv: Annotated[Path, typer.Argument(help="Output of `causalcell dml`.")],
    mr_csv: Annotated[
        Path,
        typer.Argument(
            help="Per-gene MR table (gene,estimate,se,pval) or summary statistics with a gene "
            "column (beta_exposure,se_exposure,beta_outcome,se_outcome,gene)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: one row per cell type.")],
    seed: Seed = 0,
    p_threshold: Annotated[
        float, typer.Option(help="Instrument selection: exposure p-value below this.")
    ] = 1e-6,
    gene_sets: Annotated[
        str | None,
        typer.Option(
            "--gene-sets",
            help="'go' (bundled human GO biological processes) or a GMT file: also write "
            "OUT.gene_sets.csv.",
        ),
    ] = None,
    figure: Annotated[
        Path | None, typer.Option("--figure", help="PNG/PDF: DML vs MR z-scores per cell type.")
    ] = None,
    n_perm: Annotated[int, typer.Option(help="Permutations for the p-values.")] = 2000,
) -> None:
    """Concordance of single-cell DML and MR gene effects, per cell type (and gene set)."""
    import pandas as pd

    from causalcell import concordance as cc
    from causalcell._errors import InputError
    from causalcell.io import write_csv_atomic
    from causalcell.mr import mr_genes

    def read(path: Path) -> pd.DataFrame:
        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the table {path}: {err}") from err

    cells, genes = read(dml_csv), read(mr_csv)
    if "beta_exposure" in genes:
        genes = mr_genes(genes, p_threshold=p_threshold)
    summary = cc.concordance(cells, genes, n_perm=n_perm, rng=seed)
    write_csv_atomic(summary, out, index=False)
    if gene_sets is not None:
        sets = cc.gene_set_concordance(cells, genes, _gene_sets(gene_sets), n_perm=n_perm, rng=seed)
        write_csv_atomic(sets, out.with_suffix(".gene_sets.csv"), index=False)
    if figure is not None:
        from causalcell._utils import atomic_path
        from causalcell.pl import concordance_scatter

        fig = concordance_scatter(cc.merge_effects(cells, genes), summary)
        with atomic_path(figure) as tmp:
            fig.savefig(tmp, dpi=150, format=figure.suffix.lstrip(".") or "png")
    _done(f"concordance of {len(summary)} cell types -> {out}")


@app.command()
def bulk(
    cells: Annotated[Path, typer.Argument(help="Single cells (counts) with obs cell_type.")],
    out: Annotated[
        Path, typer.Option("--out", help="Output CSV: one row per perturbation x gene.")
    ],
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    cell_type_key: Annotated[str, typer.Option(help="obs column of the cell types.")] = "cell_type",
    samples: Annotated[int, typer.Option(help="Planned bulk samples per condition.")] = 4,
    concentration: Annotated[
        float, typer.Option(help="Dirichlet concentration of sample compositions.")
    ] = 20.0,
    min_effect: Annotated[float, typer.Option(help="Smallest effect (log1p CP10k).")] = 0.1,
    bulk_samples: Annotated[
        Path | None,
        typer.Option(
            "--bulk",
            help="Bulk samples (counts, obs perturbation): also write OUT.effects.csv, "
            "effects adjusted for compositions deconvolved with the cells as reference.",
        ),
    ] = None,
    figure: Annotated[
        Path | None, typer.Option("--figure", help="PNG/PDF: bulk vs cell-type deltas.")
    ] = None,
) -> None:
    """Which perturbation effects a bulk experiment of cell-type mixtures can recover."""
    from causalcell import bulk as bk
    from causalcell.io import write_csv_atomic

    data = _load_cells(cells, ExpressionScale.counts, perturbation_key, backed=False)
    result = bk.recoverability(
        data,
        cell_type_key=cell_type_key,
        concentration=concentration,
        samples=samples,
        min_effect=min_effect,
        rng=seed,
    )
    write_csv_atomic(result.table, out, index=False)
    if bulk_samples is not None:
        samples_data = _load_cells(
            bulk_samples, ExpressionScale.counts, perturbation_key, backed=False
        )
        table, _ = bk.composition_adjusted_effects(samples_data, result.profiles)
        write_csv_atomic(table, out.with_suffix(".effects.csv"), index=False)
    if figure is not None:
        from causalcell._utils import atomic_path
        from causalcell.pl import recoverability_scatter

        fig = recoverability_scatter(result.table)
        with atomic_path(figure) as tmp:
            fig.savefig(tmp, dpi=150, format=figure.suffix.lstrip(".") or "png")
    counts = result.table["verdict"].value_counts()
    _done(
        f"{int(counts.get('recoverable', 0))} recoverable, {int(counts.get('diluted', 0))} "
        f"diluted, {int(counts.get('sign_flip', 0))} sign flips -> {out}"
    )


@app.command()
def design(
    cells: Annotated[Path, typer.Argument(help="Cells or effects (.h5ad with layers delta).")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: ranked designs.")],
    target: Annotated[
        Path | None,
        typer.Option(help="CSV gene,delta: the change to reach (ranks perturbations reaching it)."),
    ] = None,
    next_k: Annotated[
        int | None, typer.Option("--next", help="Choose this many unseen genes to perturb next.")
    ] = None,
    candidates: Annotated[
        str | None,
        typer.Option(
            help="Genes that may be perturbed (comma-separated or a file); default: "
            "the perturbed genes (--target) or the measured, unperturbed ones (--next)."
        ),
    ] = None,
    max_order: Annotated[int, typer.Option(help="Most genes perturbed together.")] = 2,
    beam: Annotated[int, typer.Option(help="Designs kept per order in the search.")] = 20,
    risk: Annotated[float, typer.Option(help="Weight of prediction uncertainty.")] = 0.0,
    strategy: Annotated[str, typer.Option(help="--next: uncertainty, effect or random.")] = (
        "uncertainty"
    ),
    model: Annotated[str, typer.Option(help="Predictor (see causalcell predict).")] = "auto",
    expression: Expression = ExpressionScale.counts,
    seed: Seed = 0,
    perturbation_key: PerturbationKey = "perturbation",
    gene_sets: Annotated[
        str | None,
        typer.Option(
            help="'go' (bundled human GO biological processes) or a GMT file: candidates that "
            "are not measured genes are placed by the perturbed genes sharing their annotations."
        ),
    ] = None,
) -> None:
    """Design experiments: perturbations that reach a target state, or the next ones to run."""
    import pandas as pd

    from causalcell import design as ds
    from causalcell._errors import InputError
    from causalcell.io import read_cells, split_label, validate_cells, write_csv_atomic
    from causalcell.predict import as_gene_sets, fit_predictor

    if (target is None) == (next_k is None):
        raise InputError("give exactly one of --target (reach a state) or --next K")
    adata = read_cells(cells)
    data = (
        adata
        if "delta" in adata.layers  # an effects AnnData
        else validate_cells(
            adata,
            expression=expression.value,
            perturbation_key=perturbation_key,
            source=str(cells),
        )
    )
    sets = None if gene_sets is None else as_gene_sets(_gene_sets(gene_sets))
    fitted = fit_predictor(data, model=model, gene_sets=sets, rng=seed)
    perturbed = sorted({g for p in fitted.train_perturbations_ for g in split_label(p)})
    if candidates is not None:
        spec = Path(candidates)
        pool = spec.read_text().split() if spec.is_file() else candidates.split(",")
        pool = [g.strip() for g in pool if g.strip()]
        known = set(fitted.genes_) | set(perturbed) | (sets.genes if sets is not None else set())
        unknown = sorted(set(pool) - known)
        if unknown:
            raise InputError(
                f"unknown candidate genes {unknown[:5]}: neither measured nor perturbed in the "
                "data (nor in the gene sets), so nothing places them; fix the names or pass "
                "--gene-sets"
            )
    elif target is not None:
        pool = perturbed
    else:
        pool = [g for g in fitted.genes_ if g not in set(perturbed)]
    if target is not None:
        try:
            table = pd.read_csv(target)
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the target table {target}: {err}") from err
        if not {"gene", "delta"} <= set(table.columns):
            raise InputError(f"{target}: needs columns gene,delta (has {list(table.columns)})")
        goal = pd.Series(table["delta"].to_numpy(float), index=table["gene"].astype(str))
        result = ds.reach_target(fitted, goal, pool, max_order=max_order, beam=beam, risk=risk)
    else:
        result = ds.next_experiments(fitted, pool, next_k, strategy=strategy, rng=seed)
    write_csv_atomic(result, out)
    _done(f"{len(result)} designs -> {out}")


@app.command()
def simulate(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder: cells.h5ad, truth.npz, truth.json.")
    ],
    preset: Annotated[
        str, typer.Option("--preset", help="Simulator preset (see causalcell.sim.list_presets()).")
    ] = "small",
    seed: Seed = 0,
    edges: Annotated[
        Path | None,
        typer.Option(
            "--edges",
            help="Simulate on this network: CSV with source,target,weight (or DoRothEA's "
            "tf,target,mor); genes are its symbols.",
        ),
    ] = None,
    n_genes: Annotated[
        int | None,
        typer.Option(
            "--n-genes", help="With --edges: keep this many genes, largest regulons first."
        ),
    ] = None,
) -> None:
    """Simulate cells with known causal truth."""
    from causalcell.sim import simulate as sim

    extra = {} if n_genes is None else {"n_genes": n_genes}
    sim(preset, rng=seed, network=edges, **extra).write(out)
    _done(f"simulated preset {preset!r} -> {out}")


def _gene_sets(value: str | None):
    """``--gene-sets``: None, ``go`` (the bundled GO biological processes) or a GMT path."""
    if value is None:
        return None
    if value.lower() == "go":
        from causalcell.datasets import go_biological_process

        return go_biological_process()
    return Path(value)


def _done(message: str) -> None:
    typer.echo(message, err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear error line on bad input, a traceback only with ``--debug``."""
    from causalcell._errors import InputError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    verbose = "--verbose" in args or "-v" in args
    args = [a for a in args if a not in ("--debug", "--verbose", "-v")]
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command = typer.main.get_command(app)
    if not args:
        args = ["--help"]
    try:
        code = command.main(args=args, prog_name="causalcell", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("causalcell: aborted", err=True)
        return 130
    except typer.exceptions.TyperException as exc:  # usage errors (typer >= 0.29 vendors click)
        if getattr(exc, "exit_code", 2) == 0:
            return 0
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"causalcell: error: {message} (see --help)", err=True)
        return 2
    except InputError as exc:
        if debug:
            raise
        typer.echo(f"causalcell: error: {exc}", err=True)
        return 2
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"causalcell: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            err=True,
        )
        return 1
    return code if isinstance(code, int) else 0


def console() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
