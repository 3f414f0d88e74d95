"""causalcell's DML side by side with DoubleML: simulated single cells and the 401(k) data.

Two parts, run in one process (DoubleML is a bench-only dependency, never imported by the
package; install it beside causalcell, e.g. ``pip install doubleml`` in a venv under
``bench/_work/``):

1. **1,000 genes.** The simulator's ``population`` preset (``causalcell.sim.simulate``) with
   1,000 genes: donors with cis-eQTL genotypes, cells of three types, ``n_causal`` genes whose
   expression in the disease cell type causes the disease; the cells of the disease cell type
   are analysed. The phenotype is a **per-donor 0/1 case label**, repeated on each of the
   donor's cells. Expression is log1p CP10k of the simulated UMI counts; the confounders are
   the top principal components of all genes, each gene left out of its own adjustment (rank-one
   downdate ``Z - expr_j loadings_j``). Both libraries fit the PLR of the phenotype on every
   gene with ridge nuisance learners (``alpha=1``) on the same donor-grouped 5-fold split:
   causalcell in one vectorised call (``PLR.fit(..., loadings=...)``), DoubleML with one
   ``DoubleMLPLR`` per gene (its design built from the same downdated PCs). Timed: the
   estimation step only (same inputs); the end-to-end ``causalcell.dml.dml`` call on the
   AnnData (normalisation, PCA, donor aggregation, DML with its defaults) is timed too, with
   its null calibration (genes without genetic covariance with the disease, from the truth).
2. **401(k).** ``e401`` on ``net_tfa`` with the DoubleML example's PLR setups (basic covariates;
   lasso: ``StandardScaler + LassoCV(cv=5)`` / ``StandardScaler + L1 LogisticRegressionCV``;
   random forest: ``RandomForestRegressor(500, max_depth=7, max_features=3,
   min_samples_leaf=3)`` / ``RandomForestClassifier(500, max_depth=5, max_features=4,
   min_samples_leaf=7)``; 3 folds, ``n_rep=1``), ours vs the published numbers vs DoubleML run
   here.

Examples
--------
::

    bench/_work/dmlvenv/bin/python bench/dml_vs_doubleml.py            # both parts
    bench/_work/dmlvenv/bin/python bench/dml_vs_doubleml.py --skip-401k
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
from importlib import metadata
from pathlib import Path

# One BLAS thread for both libraries: fair, and stable on a shared machine (must precede numpy).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from causalcell import dml  # noqa: E402
from causalcell._utils import write_text_atomic  # noqa: E402
from causalcell.effects._kernels import log_normalize  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "dml.json"
MARKDOWN = ROOT / "docs" / "benchmarks" / "dml.md"
PENSION = ROOT / "tests" / "data" / "dml" / "pension_401k.csv.gz"
FEATURES_401K = ["age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown"]
PUBLISHED_401K = {  # DoubleML example "Python: Impact of 401(k) on Financial Wealth", PLR
    "lasso": {"estimate": 5722.5, "se": 1380.6},
    "forest": {"estimate": 8909.6, "se": 1321.8},
}


# --- part 1: simulated single cells ---------------------------------------------------------


def simulate(args) -> dict:
    """The AnnData, its log expression, PCs, loadings, phenotype, donors and fold labels."""
    from causalcell import sim

    data = sim.simulate(
        "population",
        rng=args.seed,
        n_genes=args.genes,
        n_donors=args.donors,
        cells_per_donor=args.cells_per_donor,
        n_causal=args.causal,
    )
    truth = data.truth
    disease = str(truth["disease_cell_type"])
    adata = data.adata[data.adata.obs["cell_type"] == disease].copy()
    c = list(truth["cell_types"]).index(disease)
    expr = log_normalize(adata.X).toarray()
    scores, loadings = dml.pca_scores(expr, args.components)
    donors = adata.obs["donor"].astype(str).to_numpy()
    folds = dml.make_folds(len(expr), args.folds, donors, rng=args.seed)
    return {
        "adata": adata,
        "causal": truth["disease_effect"] != 0,
        "null": truth["genetic_cov"][c] == 0,
        "expr": expr,
        "scores": scores,
        "loadings": loadings,
        "y": adata.obs["phenotype"].to_numpy(float),
        "donors": donors,
        "folds": folds,
    }


def run_causalcell(sim: dict, args) -> dict:
    """Vectorised PLR over all genes; also the iid SE from the same residuals."""
    start = time.perf_counter()
    plr = dml.PLR("ridge", "ridge", n_folds=args.folds, random_state=args.seed)
    plr.fit(sim["scores"], sim["y"], sim["expr"], groups=sim["donors"], loadings=sim["loadings"])
    seconds = time.perf_counter() - start
    if not np.array_equal(plr.folds_[0], sim["folds"]):
        raise RuntimeError("causalcell's folds differ from the ones given to DoubleML")
    learner = dml.RidgeLearner(1.0)
    ry, rd = dml.cross_fit_residuals(
        sim["scores"], sim["y"], sim["expr"], sim["folds"], learner, learner, sim["loadings"]
    )
    _, se_iid = dml.plr_score(ry, rd)
    return {"seconds": seconds, "estimate": plr.coef_, "se_cluster": plr.se_, "se_iid": se_iid}


def run_causalcell_end_to_end(sim: dict, args) -> tuple[float, pd.DataFrame]:
    """Seconds and table of ``causalcell.dml.dml`` on the AnnData with its defaults."""
    start = time.perf_counter()
    table = dml.dml(sim["adata"], n_folds=args.folds, rng=args.seed)
    return time.perf_counter() - start, table


def run_doubleml(sim: dict, args) -> dict:
    """One DoubleMLPLR per gene on the same downdated PCs and the same folds."""
    import doubleml
    from sklearn.linear_model import Ridge

    smpls = [
        (np.flatnonzero(sim["folds"] != k), np.flatnonzero(sim["folds"] == k))
        for k in range(args.folds)
    ]
    expr, scores, loadings, y = sim["expr"], sim["scores"], sim["loadings"], sim["y"]
    estimate, se = np.empty(expr.shape[1]), np.empty(expr.shape[1])
    start = time.perf_counter()
    for j in range(expr.shape[1]):
        x_j = scores - np.outer(expr[:, j], loadings[j])
        data = doubleml.DoubleMLData.from_arrays(x_j, y, expr[:, j])
        model = doubleml.DoubleMLPLR(data, Ridge(1.0), Ridge(1.0), draw_sample_splitting=False)
        model.set_sample_splitting(smpls)
        model.fit(store_predictions=False)
        estimate[j], se[j] = model.coef[0], model.se[0]
    return {"seconds": time.perf_counter() - start, "estimate": estimate, "se_iid": se}


def part_genes(args) -> dict:
    sim = simulate(args)
    ours = run_causalcell(sim, args)
    end_to_end, table = run_causalcell_end_to_end(sim, args)
    null = sim["null"]
    theirs = run_doubleml(sim, args)
    causal = sim["causal"]
    z = ours["estimate"] / ours["se_cluster"]
    return {
        "setup": {
            "cells": len(sim["y"]),
            "genes": int(sim["expr"].shape[1]),
            "donors": args.donors,
            "causal_genes": args.causal,
            "data": "sim.simulate('population', n_genes=1000), cells of the disease cell type",
            "phenotype": "per-donor 0/1 case label",
            "confounders": f"top {args.components} PCs of all genes, leave-gene-out downdate",
            "learners": "ridge alpha=1 (both nuisances)",
            "folds": f"{args.folds}, grouped by donor, identical in both libraries",
        },
        "causalcell_seconds": ours["seconds"],
        "causalcell_end_to_end_seconds": end_to_end,
        "doubleml_seconds": theirs["seconds"],
        "speedup": theirs["seconds"] / ours["seconds"],
        "estimate_correlation": float(np.corrcoef(ours["estimate"], theirs["estimate"])[0, 1]),
        "estimate_max_abs_diff": float(np.max(np.abs(ours["estimate"] - theirs["estimate"]))),
        "se_iid_correlation": float(np.corrcoef(ours["se_iid"], theirs["se_iid"])[0, 1]),
        "se_iid_max_rel_diff": float(np.max(np.abs(ours["se_iid"] / theirs["se_iid"] - 1))),
        "median_se_ratio_cluster_vs_iid": float(np.median(ours["se_cluster"] / ours["se_iid"])),
        "causal_genes_median_abs_z": float(np.median(np.abs(z[causal]))),
        "null_genes": int(null.sum()),
        "null_genes_frac_p_below_0.05": float(np.mean(2 * _norm_sf(np.abs(z[null])) < 0.05)),
        "end_to_end_null_frac_p_below_0.05": float(np.mean(table["pval"].to_numpy()[null] < 0.05)),
        "end_to_end_causal_median_abs_z": float(
            np.median(np.abs(table["estimate"] / table["se"]).to_numpy()[causal])
        ),
        "estimates": {
            "causalcell": ours["estimate"].tolist(),
            "doubleml": theirs["estimate"].tolist(),
            "causal": causal.tolist(),
        },
    }


def _norm_sf(z: np.ndarray) -> np.ndarray:
    from scipy import stats

    return stats.norm.sf(z)


# --- part 2: 401(k) ---------------------------------------------------------------------------


def learners_401k(name: str):
    """The DoubleML example's (ml_l, ml_m) for the basic covariates."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LassoCV, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "lasso":
        cs = 0.0001 * np.logspace(0, 4, 10)
        return (
            make_pipeline(StandardScaler(), LassoCV(cv=5, max_iter=10000)),
            make_pipeline(
                StandardScaler(),
                LogisticRegressionCV(cv=5, penalty="l1", solver="liblinear", Cs=cs, max_iter=1000),
            ),
        )
    return (
        RandomForestRegressor(n_estimators=500, max_depth=7, max_features=3, min_samples_leaf=3),
        RandomForestClassifier(n_estimators=500, max_depth=5, max_features=4, min_samples_leaf=7),
    )


def part_401k(args) -> dict:
    import doubleml

    data = pd.read_csv(PENSION)
    x, y, d = data[FEATURES_401K].to_numpy(float), data["net_tfa"], data["e401"]
    out = {}
    for name in ("lasso", "forest"):
        ml_l, ml_m = learners_401k(name)
        start = time.perf_counter()
        plr = dml.PLR(ml_l, ml_m, n_folds=3, random_state=args.seed).fit(x, y, d)
        ours_s = time.perf_counter() - start
        np.random.seed(123)  # noqa: NPY002 - as the DoubleML example (its folds use the global RNG)
        obj = doubleml.DoubleMLData(data, y_col="net_tfa", d_cols="e401", x_cols=FEATURES_401K)
        start = time.perf_counter()
        model = doubleml.DoubleMLPLR(obj, ml_l=ml_l, ml_m=ml_m, n_folds=3).fit()
        theirs_s = time.perf_counter() - start
        published = PUBLISHED_401K[name]
        out[name] = {
            "causalcell": {"estimate": float(plr.coef_[0]), "se": float(plr.se_[0])},
            "doubleml_here": {"estimate": float(model.coef[0]), "se": float(model.se[0])},
            "published": published,
            "causalcell_minus_published_in_se": float(
                (plr.coef_[0] - published["estimate"]) / published["se"]
            ),
            "causalcell_seconds": ours_s,
            "doubleml_seconds": theirs_s,
        }
    return out


# --- report -----------------------------------------------------------------------------------


def machine() -> dict:
    versions = {}
    for pkg in ("causalcell", "doubleml", "numpy", "scipy", "scikit-learn"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
    }


def markdown(res: dict) -> str:
    m, g = res["machine"], res["genes"]
    lines = [
        "# DML: causalcell vs DoubleML",
        "",
        f"Generated by `bench/dml_vs_doubleml.py` on {res['date']}.",
        "",
        f"- Command: `{res['command']}`",
        f"- Machine: {m['platform']}, {m['processor']}, {m['cpus']} CPUs, Python {m['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "- One BLAS thread for both libraries (`OPENBLAS_NUM_THREADS=1`); the machine is shared "
        "with other jobs, so absolute times are indicative.",
        "",
        "## 1,000 genes on simulated single cells",
        "",
        *(f"- {k}: {v}" for k, v in g["setup"].items()),
        "",
        "| metric | value |",
        "|---|---|",
        f"| correlation of estimates (1,000 genes) | {g['estimate_correlation']:.6f} |",
        f"| max abs difference of estimates | {g['estimate_max_abs_diff']:.2e} |",
        f"| correlation of iid SEs | {g['se_iid_correlation']:.6f} |",
        f"| max relative difference of iid SEs | {g['se_iid_max_rel_diff']:.2e} |",
        f"| causalcell wall time, estimation (s) | {g['causalcell_seconds']:.2f} |",
        f"| DoubleML wall time, estimation (s) | {g['doubleml_seconds']:.2f} |",
        f"| speed ratio DoubleML / causalcell | {g['speedup']:.0f}x |",
        f"| causalcell end to end `dml()` incl. normalisation + PCA (s) | "
        f"{g['causalcell_end_to_end_seconds']:.2f} |",
        f"| median donor-clustered SE / iid SE (causalcell) | "
        f"{g['median_se_ratio_cluster_vs_iid']:.2f} |",
        f"| causal genes: median abs z (cell-level Wald, clustered) | "
        f"{g['causal_genes_median_abs_z']:.2f} |",
        f"| {g['null_genes']} null genes: fraction p < 0.05 (cell-level Wald, clustered, normal) | "
        f"{g['null_genes_frac_p_below_0.05']:.3f} |",
        f"| causal genes: median abs z (`dml()` defaults: donors as units, score test) | "
        f"{g['end_to_end_causal_median_abs_z']:.2f} |",
        f"| {g['null_genes']} null genes: fraction p < 0.05 (`dml()` defaults) | "
        f"{g['end_to_end_null_frac_p_below_0.05']:.3f} |",
        "",
        "Null genes: no genetic covariance with the disease in this cell type (simulator",
        "truth `genetic_cov`); the cell-level Wald row uses DoubleML's conventions, the `dml()`",
        "rows causalcell's defaults (see `docs/benchmarks/dml_calibration.md`).",
        "",
        "DoubleML has no one-call path for thousands of treatments with gene-specific",
        "confounders, so it runs one `DoubleMLPLR` per gene; causalcell solves all genes' ridge",
        "normal equations (a rank-two update of the shared Gram matrix per gene) in one batched",
        "call. DoubleML's SEs here are iid (its clustered SEs need its own cluster sample",
        "splitting); causalcell reports donor-clustered SEs, compared above with its iid SEs.",
        "",
    ]
    if "pension" in res:
        lines += [
            "## 401(k): e401 on net_tfa (PLR, basic covariates, 3 folds, n_rep=1)",
            "",
            "| learners | causalcell | DoubleML (run here) | DoubleML (published) | "
            "causalcell - published (in published SEs) |",
            "|---|---|---|---|---|",
        ]
        for name, r in res["pension"].items():
            c, h, p = r["causalcell"], r["doubleml_here"], r["published"]
            lines.append(
                f"| {name} | {c['estimate']:,.1f} ({c['se']:,.1f}) | "
                f"{h['estimate']:,.1f} ({h['se']:,.1f}) | {p['estimate']:,.1f} ({p['se']:,.1f}) | "
                f"{r['causalcell_minus_published_in_se']:+.2f} |"
            )
        lines += [
            "",
            "Estimate (SE). Learners as in DoubleML's example *Python: Impact of 401(k) on",
            "Financial Wealth*. The fold split is random in both libraries (causalcell seeded",
            "with `--seed`, DoubleML with `np.random.seed(123)` as in the example), so estimates",
            "differ by a few hundred dollars between splits; the criterion is agreement within",
            "one published SE. Data: `hdm::pension` (same 9,915 households as `fetch_401K`).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=1000)
    parser.add_argument("--donors", type=int, default=40)
    parser.add_argument("--cells-per-donor", type=int, default=250, help="per cell type")
    parser.add_argument("--causal", type=int, default=10)
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-401k", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)  # sklearn deprecations in peers
    res = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "machine": machine(),
        "genes": part_genes(args),
    }
    if not args.skip_401k:
        res["pension"] = part_401k(args)
    write_text_atomic(RESULTS, json.dumps(res, indent=1))
    write_text_atomic(MARKDOWN, markdown(res))


if __name__ == "__main__":
    main()
