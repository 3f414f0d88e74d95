"""Cross-scale concordance end to end on the simulator's population preset at a realistic size.

Per seed, ``sim.simulate("population")`` with 1,000 genes, 200 donors (3 cell types x 20 cells
each, 12,000 cells), 20 causal genes acting in ``type0``, an eQTL study of 2,000 people and a
GWAS of 50,000. Then, as a user would:

1. ``dml.dml`` on the cells (defaults: donors as units, PCA confounders with each gene left out,
   ridge with leave-one-out penalty, score test), against a baseline without confounder
   adjustment (pseudobulk marginal association, same inference);
2. ``mr.mr_genes`` on the summary statistics (IVW on the variants with exposure p < 1e-6);
3. ``concordance.concordance`` per cell type and ``concordance.gene_set_concordance`` with the
   network modules as gene sets.

Recovery is scored against the simulator's truth: AUROC of ``|z|`` for the causal genes
(``disease_effect != 0``), precision of the top-``n_causal`` genes, and for MR also against its
own estimand (total effect ``T alpha != 0``: regulators of causal genes are causal too). The
same is run with every cis variant shared by all cell types (``eqtl_sharing=1``) to show where
cell-type specificity comes from.

Writes ``docs/benchmarks/concordance.md``, ``bench/results/concordance.json`` and
``docs/figures/concordance_scatter.png`` / ``concordance_scatter_shared_eqtls.png``.

Usage: ``python bench/concordance.py [--seeds 5] [--genes 1000] [--donors 200]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from causalcell import concordance, dml, mr, pl, sim
from causalcell._utils import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "concordance.json"
MARKDOWN = ROOT / "docs" / "benchmarks" / "concordance.md"
FIGURES = ROOT / "docs" / "figures"


def _precision_at(score: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(truth[np.argsort(-score, kind="stable")[:k]].mean())


def _save(fig, name: str) -> None:
    path = FIGURES / name
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=130)
    tmp.replace(path)


SCENARIOS = {
    "specific": {"eqtl_sharing": 0.0, "confounder_sd": 0.0},
    "shared": {"eqtl_sharing": 1.0, "confounder_sd": 0.0},
    "confounded": {"eqtl_sharing": 0.0, "confounder_sd": 1.0},
}
"""The preset (cell-type-specific eQTLs), shared eQTLs, and the preset plus a donor-level
environmental confounder of one module and the disease."""

FIGURE_NAMES = {
    "specific": "concordance_scatter.png",
    "shared": "concordance_scatter_shared_eqtls.png",
    "confounded": "concordance_scatter_confounded.png",
}


def run_seed(seed: int, args, scenario: dict, figure: str | None) -> dict:
    start = time.perf_counter()
    data = sim.simulate(
        "population",
        rng=seed,
        n_genes=args.genes,
        n_donors=args.donors,
        cells_per_donor=args.cells,
        n_causal=args.causal,
        n_gwas=args.gwas,
        **scenario,
    )
    sim_s = time.perf_counter() - start
    truth, adata = data.truth, data.adata
    names = list(truth["genes"])
    causal = truth["disease_effect"] != 0
    total = np.abs(truth["disease_effect_total"]) > 1e-12
    disease = str(truth["disease_cell_type"])

    start = time.perf_counter()
    cells = dml.dml(adata, rng=seed)
    dml_s = time.perf_counter() - start
    adata.obsm["none"] = np.zeros((adata.n_obs, 1))
    marginal = dml.dml(adata, confounders="none", rng=seed)
    start = time.perf_counter()
    genes = mr.mr_genes(data.tables["sumstats.csv"], p_threshold=1e-6)
    mr_s = time.perf_counter() - start
    summary = concordance.concordance(cells, genes, rng=seed)
    modules = {
        f"module{m}": adata.var_names[adata.var["module"] == m]
        for m in adata.var["module"].unique()
    }
    sets = concordance.gene_set_concordance(cells, genes, modules, rng=seed)

    out = {"seconds": {"simulate": sim_s, "dml": dml_s, "mr_genes": mr_s}}
    for label, table in (("dml", cells), ("marginal", marginal)):
        sub = table[table["cell_type"] == disease]
        z = np.abs(sub["estimate"] / sub["se"]).to_numpy()
        out[label] = {
            "auroc": float(roc_auc_score(causal, z)),
            "precision_top": _precision_at(z, causal, args.causal),
            "causal_p_below_0.05": float(np.mean(sub["pval"].to_numpy()[causal] < 0.05)),
        }
    tested = np.array([names.index(g) for g in genes["gene"]])
    zm = np.abs(genes["estimate"] / genes["se"]).to_numpy()
    hits = (genes["fdr"] < 0.05).to_numpy()
    out["mr"] = {
        "genes_tested": len(genes),
        "causal_tested": int(causal[tested].sum()),
        "auroc": float(roc_auc_score(causal[tested], zm)),
        "auroc_total_effect": float(roc_auc_score(total[tested], zm)),
        "hits_fdr_0.05": int(hits.sum()),
        "precision_hits_total_effect": float(total[tested][hits].mean()) if hits.any() else None,
        "precision_top": _precision_at(zm, causal[tested], int(causal[tested].sum())),
    }
    out["concordance"] = summary.to_dict(orient="records")
    out["disease_cell_type"] = disease
    top_sets = sets[sets["cell_type"] == disease].head(3)
    out["top_modules"] = top_sets[["gene_set", "n_genes", "score", "pval", "drivers"]].to_dict(
        orient="records"
    )
    out["causal_modules"] = sorted({f"module{m}" for m in adata.var["module"].to_numpy()[causal]})
    if figure:
        merged = concordance.merge_effects(cells, genes)
        fig = pl.concordance_scatter(merged, summary, highlight=truth["causal_genes"])
        _save(fig, figure)
    return out


def _mean(runs, *keys) -> float:
    values = []
    for r in runs:
        v = r
        for k in keys:
            v = v[k]
        values.append(np.nan if v is None else v)
    return float(np.nanmean(values))


def concordance_table(runs: list[dict]) -> list[str]:
    types = [row["cell_type"] for row in runs[0]["concordance"]]
    lines = [
        "| cell type | mean r (z-scores) | data sets with permutation p < 0.05 | mean sign "
        "agreement (MR hits) | mean top-gene overlap / top |",
        "|---|---|---|---|---|",
    ]
    for i, ct in enumerate(types):
        rows = [r["concordance"][i] for r in runs]
        sig = sum(row["pval"] < 0.05 for row in rows)
        mark = " (disease)" if ct == runs[0]["disease_cell_type"] else ""
        lines.append(
            f"| {ct}{mark} | {np.mean([x['r'] for x in rows]):.2f} | {sig} / {len(rows)} | "
            f"{np.nanmean([x['sign_agreement'] for x in rows]):.2f} | "
            f"{np.mean([x['top_overlap'] for x in rows]):.1f} / {rows[0]['top']} |"
        )
    return lines


def markdown(res: dict) -> str:
    m, a = res["machine"], res["args"]
    spec, shared, conf = res["specific"], res["shared"], res["confounded"]
    lines = [
        "# Concordance of single-cell DML and population MR (simulated)",
        "",
        f"Generated by `bench/concordance.py` on {res['date']}.",
        "",
        f"- Command: `{res['command']}`",
        f"- Machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}",
        f"- Data: `sim.simulate('population')` with {a['genes']} genes, {a['donors']} donors, 3 "
        f"cell types x {a['cells']} cells per donor ({3 * a['donors'] * a['cells']:,} cells), "
        f"{a['causal']} causal genes in type0, eQTL study 2,000 people, GWAS {a['gwas']:,}; "
        f"seeds 0...{a['seeds'] - 1}; cell-type-specific cis-eQTLs (`eqtl_sharing=0`).",
        f"- Mean seconds per data set: simulate {_mean(spec, 'seconds', 'simulate'):.1f}, "
        f"`dml.dml` {_mean(spec, 'seconds', 'dml'):.1f}, `mr.mr_genes` "
        f"{_mean(spec, 'seconds', 'mr_genes'):.2f}.",
        "",
        "## Recovery of the causal genes (disease cell type for DML)",
        "",
        "| scenario | method | AUROC (causal genes) | precision of top-k (k = causal genes) "
        "| causal genes p < 0.05 |",
        "|---|---|---|---|---|",
    ]
    for scen, runs in (("preset", spec), ("+ environmental confounder", conf)):
        for key, label in (
            ("dml", "DML (defaults)"),
            ("marginal", "baseline: pseudobulk association, no adjustment"),
        ):
            lines.append(
                f"| {scen} | {label} | {_mean(runs, key, 'auroc'):.3f} | "
                f"{_mean(runs, key, 'precision_top'):.2f} | "
                f"{_mean(runs, key, 'causal_p_below_0.05'):.2f} |"
            )
    lines += [
        "",
        "Without confounding the unadjusted association is valid and DML ranks the genes about",
        "as well. With a donor-level environment that moves one module and the disease",
        "(`confounder_sd=1`), the unadjusted association ranks the environment's genes above",
        "the causal ones (AUROC below 0.5); DML's adjustment for the cells' state keeps most",
        "of its ranking. MR cannot see a non-genetic confounder (its instruments",
        "are independent of the environment by construction). Per gene, DML on a few hundred",
        "donors has little power when 20 genes share the heritability: the disease label of",
        "200 donors carries far less information than a 50,000-person GWAS, which is why the",
        "evidence is combined across genes (concordance) rather than gene by gene.",
        "",
        "| MR (IVW, instruments p < 1e-6) | value |",
        "|---|---|",
        f"| genes with instruments / causal among them | {_mean(spec, 'mr', 'genes_tested'):.0f}"
        f" / {_mean(spec, 'mr', 'causal_tested'):.1f} |",
        f"| AUROC (causal genes, alpha != 0) | {_mean(spec, 'mr', 'auroc'):.3f} |",
        f"| AUROC (MR estimand: total effect T alpha != 0) | "
        f"{_mean(spec, 'mr', 'auroc_total_effect'):.3f} |",
        f"| precision of top-k | {_mean(spec, 'mr', 'precision_top'):.2f} |",
        f"| FDR < 0.05 hits / precision against T alpha != 0 | "
        f"{_mean(spec, 'mr', 'hits_fdr_0.05'):.1f} / "
        f"{_mean(spec, 'mr', 'precision_hits_total_effect'):.2f} |",
        "",
        "## Concordance per cell type",
        "",
        "Cell-type-specific eQTLs (the preset):",
        "",
        *concordance_table(spec),
        "",
        "![DML vs MR z-scores per cell type](figures/concordance_scatter.png)",
        "",
        "Every cis variant acting in every cell type (`eqtl_sharing=1`), same seeds:",
        "",
        *concordance_table(shared),
        "",
        "![shared eQTLs](figures/concordance_scatter_shared_eqtls.png)",
        "",
        "Cell-type-specific eQTLs plus the environmental confounder (`confounder_sd=1`):",
        "",
        *concordance_table(conf),
        "",
        "With cell-type-specific eQTLs the disease cell type is the only one whose expression",
        "carries the genetic signal of the disease, and concordance singles it out. With shared",
        "eQTLs a gene's expression in every cell type tracks its expression in the disease cell",
        "type, so every cell type is concordant: concordance localises the causal cell type only",
        "as far as genetic effects on expression differ between cell types.",
        "",
        "## Pathway view (network modules as gene sets), seed 0, disease cell type",
        "",
        f"Modules holding causal genes: {', '.join(spec[0]['causal_modules'])}.",
        "",
        "| gene set | genes | score (mean z_DML x z_MR) | p (random sets) | drivers |",
        "|---|---|---|---|---|",
    ]
    for row in spec[0]["top_modules"]:
        lines.append(
            f"| {row['gene_set']} | {row['n_genes']} | {row['score']:.2f} | {row['pval']:.3g} "
            f"| {row['drivers'] or '-'} |"
        )
    lines += [
        "",
        "For real data, `gene_set_concordance` reads GMT files such as the GO biological process",
        "sets in `../shared/data/gene_ontology_human_orghsegdb` (`causalcell concordance ...",
        "--gene-sets go_bp_propagated_size5to500.gmt.gz`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--genes", type=int, default=1000)
    parser.add_argument("--donors", type=int, default=200)
    parser.add_argument("--cells", type=int, default=20, help="cells per donor and cell type")
    parser.add_argument("--causal", type=int, default=20)
    parser.add_argument("--gwas", type=int, default=50_000)
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the section from the saved JSON"
    )
    args = parser.parse_args(argv)
    if args.markdown_only:
        write_text_atomic(MARKDOWN, markdown(json.loads(RESULTS.read_text())))
        return
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    FIGURES.mkdir(parents=True, exist_ok=True)
    runs = {name: [] for name in SCENARIOS}
    for seed in range(args.seeds):
        start = time.perf_counter()
        for name, scenario in SCENARIOS.items():
            figure = FIGURE_NAMES[name] if seed == 0 else None
            runs[name].append(run_seed(seed, args, scenario, figure))
        print(f"seed {seed}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    res = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "args": vars(args),
    } | runs
    write_text_atomic(RESULTS, json.dumps(res, indent=1, default=_json))
    write_text_atomic(MARKDOWN, markdown(res))


def _json(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, pd.Index | np.ndarray):
        return list(obj)
    return str(obj)


if __name__ == "__main__":
    main()
