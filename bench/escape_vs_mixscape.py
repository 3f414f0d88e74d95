"""Escaping cells: causalcell's escape model side by side with pertpy's Mixscape (Papalexi 2021).

Both methods classify the perturbed cells of the Papalexi et al. (2021) ECCITE-seq CRISPR-KO screen
(sceptre's 299-gene subset bundled with causalcell, 20,729 THP-1 cells) into responders and
escapers. The two run in separate processes and talk through files:

- ``mixscape`` (run with the interpreter of a venv that has pertpy; never the project venv):
  pertpy's tutorial recipe: ``normalize_total`` + ``log1p``, PCA,
  ``Mixscape.perturbation_signature`` (non-targeting cells as control, ``split_by`` =
  biological replicate) and ``Mixscape.mixscape`` (labels = target gene, control =
  non-targeting). Writes one row per cell (class, KO posterior).
- ``causalcell`` (project venv): ``causalcell.effects.effects(papalexi2021(), rng=seed)``; writes
  the per-guide and per-target responder fractions and the per-cell escape probabilities.
- ``compare`` (either venv): responder fractions per guide (fraction of a guide's cells that
  Mixscape calls KO rather than NP; causalcell's ``uns['guides']['responder_fraction']``) and per
  target (causalcell's ``obs['responder_fraction']``), Pearson and Spearman correlations, the
  largest disagreements, the targets each method calls as having no detectable effect and the
  per-cell agreement; writes ``bench/results/escape_mixscape_*.csv|json`` and the markdown section
  ``docs/benchmarks/escape_mixscape.md``.
- ``run``: all three in order, each in its own process.

Usage (from the repository root)::

    python3 -m venv bench/_work/pertpy-venv
    bench/_work/pertpy-venv/bin/pip install pertpy filelock "statsmodels<0.15" "scikit-learn<1.8"
    # optional sensitivity run with the tutorial's HVG subset (raw results only)
    .venv/bin/python bench/escape_vs_mixscape.py run --hvg --work bench/_work/escape_mixscape_hvg
    .venv/bin/python bench/escape_vs_mixscape.py run \
        --pertpy-python bench/_work/pertpy-venv/bin/python
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "causalcell" / "datasets" / "data" / "papalexi2021_sceptre_lowmoi.h5ad"
WORK = ROOT / "bench" / "_work" / "escape_mixscape"
RESULTS = ROOT / "bench" / "results"
SECTION = ROOT / "docs" / "benchmarks" / "escape_mixscape.md"
NT = "non-targeting"
DISAGREE = 0.25  # |difference| of responder fractions counted as a notable disagreement


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _write_csv(df, path: Path, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, **kwargs)
    tmp.replace(path)


# --------------------------------------------------------------------------- mixscape (pertpy venv)
def run_mixscape(data: Path, work: Path, seed: int, hvg: bool) -> None:
    """Run pertpy's Mixscape as its tutorial prescribes; write per-cell classes to ``work``."""
    from importlib.metadata import version

    import anndata as ad
    import numpy as np
    import pandas as pd
    import pertpy as pt
    import scanpy as sc

    t0 = time.perf_counter()
    adata = ad.read_h5ad(data)
    obs = adata.obs
    target = obs["target_gene"].astype(str)
    adata.obs = pd.DataFrame(
        {
            "gene_target": np.where(target == NT, "NT", target),
            "perturbation": np.where(target == NT, "NT", "Perturbed"),
            "replicate": obs["bio_rep"].astype(str).to_numpy(),
            "guide_ID": obs["grna_top"].astype(str).to_numpy(),
        },
        index=obs.index,
    )
    adata.layers["counts"] = adata.X.copy()
    # The tutorial's RNA preprocessing: library-size normalisation (scanpy's default target, the
    # median total) and log1p; its highly-variable-gene subset is optional here (299-gene panel).
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    if hvg:
        sc.pp.highly_variable_genes(adata, subset=True)
    sc.pp.pca(adata, random_state=seed)
    print(f"mixscape: normalised, PCA at {time.perf_counter() - t0:.1f}s", flush=True)
    ms = pt.tl.Mixscape()
    ms.perturbation_signature(
        adata, pert_key="perturbation", control="NT", split_by="replicate", random_state=seed
    )
    print(f"mixscape: signatures at {time.perf_counter() - t0:.1f}s", flush=True)
    ms.mixscape(
        adata=adata, pert_key="gene_target", control="NT", layer="X_pert", random_state=seed
    )
    seconds = time.perf_counter() - t0
    cells = adata.obs[["gene_target", "guide_ID", "replicate", "mixscape_class"]].copy()
    cells["mixscape_class_global"] = adata.obs["mixscape_class_global"].astype(str)
    cells["p_ko"] = adata.obs["mixscape_class_p_ko"].astype(float)
    _write_csv(cells, work / "mixscape_cells.csv", index_label="cell")
    meta = {
        "pertpy": version("pertpy"),
        "scanpy": version("scanpy"),
        "anndata": version("anndata"),
        "numpy": version("numpy"),
        "scikit-learn": version("scikit-learn"),
        "python": platform.python_version(),
        "n_genes_used": int(adata.n_vars),
        "hvg_subset": hvg,
        "seed": seed,
        "seconds": round(seconds, 1),
        "calls": [
            "sc.pp.normalize_total(adata)",
            "sc.pp.log1p(adata)",
            *(["sc.pp.highly_variable_genes(adata, subset=True)"] if hvg else []),
            f"sc.pp.pca(adata, random_state={seed})",
            "pt.tl.Mixscape().perturbation_signature(adata, pert_key='perturbation', "
            f"control='NT', split_by='replicate', random_state={seed})",
            "pt.tl.Mixscape().mixscape(adata, pert_key='gene_target', control='NT', "
            f"layer='X_pert', random_state={seed})",
        ],
    }
    _write_atomic(work / "mixscape_meta.json", json.dumps(meta, indent=2) + "\n")
    print(f"mixscape: {adata.n_obs} cells, {adata.n_vars} genes in {seconds:.1f}s")


# ------------------------------------------------------------------------ causalcell (project venv)
def run_causalcell(work: Path, seed: int) -> None:
    """Run causalcell's effects engine (escape model on); write guides, targets and cells."""
    from importlib.metadata import version

    import numpy as np

    import causalcell as cc
    from causalcell.effects import effects

    t0 = time.perf_counter()
    adata = cc.datasets.papalexi2021()
    eff = effects(adata, rng=seed)
    seconds = time.perf_counter() - t0
    targets = eff.obs.copy()
    targets["n_signature_genes_fdr05"] = (eff.layers["fdr"] < 0.05).sum(axis=1)
    targets["n_genes_fdr10"] = (eff.layers["fdr"] < 0.1).sum(axis=1)
    top = np.nanargmin(np.where(np.isfinite(eff.layers["pval"]), eff.layers["pval"], 2.0), axis=1)
    targets["top_gene"] = eff.var_names[top]
    targets["top_gene_delta"] = eff.layers["delta"][np.arange(eff.n_obs), top]
    _write_csv(targets, work / "causalcell_targets.csv", index_label="perturbation")
    _write_csv(eff.uns["guides"], work / "causalcell_guides.csv", index_label="guide")
    _write_csv(eff.uns["cells"], work / "causalcell_cells.csv", index_label="cell")
    meta = {
        "causalcell": version("causalcell"),
        "numpy": version("numpy"),
        "scipy": version("scipy"),
        "python": platform.python_version(),
        "seed": seed,
        "seconds": round(seconds, 1),
        "n_cells": int(adata.n_obs),
        "n_perturbations": int(eff.n_obs),
        "signature_fdr": float(np.asarray(eff.uns["effects"]["params"]["signature_fdr"])),
        "calls": [f"causalcell.effects.effects(causalcell.datasets.papalexi2021(), rng={seed})"],
    }
    _write_atomic(work / "causalcell_meta.json", json.dumps(meta, indent=2) + "\n")
    print(f"causalcell: {adata.n_obs} cells in {seconds:.1f}s")


def _project(Y, batch_code, n_batches, ctrl_mask, var_ctrl_mask, signature):
    """causalcell's escape score (``_engine._score_pass``), re-implemented on dense arrays.

    Weights ``signature / max(var, q10(var))`` with the control variance from the cells in
    ``var_ctrl_mask``, scaled so that a full responder scores 1; scores are centred on the batch
    mean of the control cells in ``ctrl_mask``. Returns cells x perturbations.
    """
    import numpy as np

    var = np.var(Y[var_ctrl_mask], axis=0, ddof=1)
    floor = np.quantile(var[var > 0], 0.1)
    direction = signature / np.maximum(var, floor)
    norm = (direction * signature).sum(axis=1)
    unit = np.divide(
        direction, norm[:, None], out=np.zeros_like(direction), where=norm[:, None] > 0
    )
    raw = Y @ unit.T
    for b in range(n_batches):
        in_b = batch_code == b
        raw[in_b] -= Y[in_b & ctrl_mask].mean(axis=0) @ unit.T
    return raw


def _responders(scores, null_scores) -> float:
    import numpy as np

    return 1.0 - min(1.0, 2.0 * float(np.mean(scores < np.median(null_scores))))


def run_crossfit(work: Path, seed: int) -> None:
    """Is the escaper fraction biased by scoring cells on a signature fitted to the same cells?

    causalcell estimates a perturbation's signature (genes at FDR < 0.05, effects) from all its
    cells and then scores those same cells on it. This step re-implements the score, checks that it
    reproduces causalcell's responder fractions on all cells, and compares, on random halves of the
    cells, the in-sample estimate (signature and scores from the same half) with the cross-fitted
    one (signature from one half, scores and control null from the other), both ways round.
    """
    import anndata as ad
    import numpy as np
    import pandas as pd

    import causalcell as cc
    from causalcell.effects import effects, log_normalize

    adata = cc.datasets.papalexi2021()
    pert = adata.obs["perturbation"].astype(str).to_numpy()
    batches, batch_code = np.unique(adata.obs["batch"].astype(str), return_inverse=True)
    Y = log_normalize(adata.X.tocsr()).toarray()
    is_ctrl = pert == "control"

    def signature_of(eff):
        sig = np.where(eff.layers["fdr"] < 0.05, eff.layers["delta"], 0.0)
        sig[(sig != 0).sum(axis=1) < 3] = 0.0
        return np.nan_to_num(sig)

    full = effects(adata, rng=seed)
    names = list(full.obs_names)
    rows = {p: {"causalcell_all_cells": full.obs.loc[p, "responder_fraction"]} for p in names}
    sig = signature_of(full)
    s = _project(Y, batch_code, len(batches), is_ctrl, is_ctrl, sig)
    for k, p in enumerate(names):
        if sig[k].any():
            rows[p]["reimplemented_all_cells"] = _responders(s[pert == p, k], s[is_ctrl, k])

    rng = np.random.default_rng(seed)
    fold = np.zeros(len(pert), dtype=int)
    for p in np.unique(pert):  # halves stratified by perturbation
        idx = np.flatnonzero(pert == p)
        fold[rng.permutation(idx)[: len(idx) // 2]] = 1
    for f in (0, 1):
        train, test = fold == f, fold != f
        eff = effects(ad.AnnData(adata.X[train], obs=adata.obs[train], var=adata.var), rng=seed)
        sig = np.zeros((len(names), Y.shape[1]))
        sig_half = signature_of(eff)
        for k, p in enumerate(eff.obs_names):
            sig[names.index(p)] = sig_half[k]
        s = _project(Y, batch_code, len(batches), test & is_ctrl, train & is_ctrl, sig)
        for k, p in enumerate(names):
            if sig[k].any():
                mine = pert == p
                rows[p].setdefault("in_sample_half", []).append(
                    eff.obs.loc[p, "responder_fraction"]
                )
                rows[p].setdefault("cross_fitted_half", []).append(
                    _responders(s[mine & test, k], s[is_ctrl & test, k])
                )
    table = pd.DataFrame(
        {
            p: {k: float(np.mean(v)) if isinstance(v, list) else v for k, v in r.items()}
            for p, r in rows.items()
        }
    ).T
    table["n_cells"] = full.obs["n_cells"]
    _write_csv(table.round(4), work / "causalcell_crossfit.csv", index_label="perturbation")
    print(table.round(3).to_string())


# ------------------------------------------------------------------------------- compare (any venv)
def _corr(x, y) -> dict:
    import numpy as np
    from scipy import stats

    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return {"n": int(ok.sum()), "pearson": None, "spearman": None}
    return {
        "n": int(ok.sum()),
        "pearson": round(float(stats.pearsonr(x[ok], y[ok])[0]), 3),
        "spearman": round(float(stats.spearmanr(x[ok], y[ok])[0]), 3),
    }


def compare(work: Path, results: Path, section: Path, command: str, data: Path = DATA) -> dict:
    """Merge both methods' outputs; write the CSVs, the JSON summary and the markdown section."""
    import pandas as pd

    ms_cells = pd.read_csv(work / "mixscape_cells.csv", index_col="cell")
    cc_cells = pd.read_csv(work / "causalcell_cells.csv", index_col="cell")
    cc_guides = pd.read_csv(work / "causalcell_guides.csv", index_col="guide")
    cc_targets = pd.read_csv(work / "causalcell_targets.csv", index_col="perturbation")
    ms_meta = json.loads((work / "mixscape_meta.json").read_text())
    cc_meta = json.loads((work / "causalcell_meta.json").read_text())

    pert = ms_cells[ms_cells["gene_target"] != "NT"].copy()
    pert["ko"] = (pert["mixscape_class_global"] == "KO").astype(float)
    ms_guides = pert.groupby("guide_ID").agg(
        target=("gene_target", "first"), n_cells=("ko", "size"), mixscape=("ko", "mean")
    )
    ms_targets = pert.groupby("gene_target").agg(n_cells=("ko", "size"), mixscape=("ko", "mean"))

    guides = ms_guides.join(
        cc_guides[["n_cells", "signature_ratio", "responder_fraction"]].rename(
            columns={"n_cells": "n_cells_causalcell", "responder_fraction": "causalcell"}
        ),
        how="outer",
    )
    targets = ms_targets.join(
        cc_targets[
            ["n_cells", "responder_fraction", "n_signature_genes_fdr05", "knockdown", "n_escapers"]
        ].rename(columns={"n_cells": "n_cells_causalcell", "responder_fraction": "causalcell"}),
        how="outer",
    )
    ms_none = sorted(targets.index[targets["mixscape"].fillna(0) == 0])
    cc_none = sorted(targets.index[targets["causalcell"].isna()])
    targets["mixscape_no_effect"] = targets.index.isin(ms_none)
    targets["causalcell_no_effect"] = targets.index.isin(cc_none)
    guides["target_no_effect_mixscape"] = guides["target"].isin(ms_none)
    guides["target_no_effect_causalcell"] = guides["target"].isin(cc_none)
    # Calling "no detectable effect" = 0 responders puts both methods on the same footing.
    for df in (guides, targets):
        df["causalcell_or_0"] = df["causalcell"].fillna(0.0)
        df["difference"] = df["causalcell_or_0"] - df["mixscape"]

    both = guides["causalcell"].notna() & (guides["mixscape"] > 0)
    summary = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {_cpu_count()} CPUs, {platform.system()}",
        "command": command,
        "mixscape": ms_meta,
        "causalcell": cc_meta,
        "guides": {
            "both_call_an_effect": _corr(
                guides.loc[both, "mixscape"].to_numpy(), guides.loc[both, "causalcell"].to_numpy()
            ),
            "all_no_effect_as_0": _corr(
                guides["mixscape"].to_numpy(), guides["causalcell_or_0"].to_numpy()
            ),
        },
        "targets": {
            "both_call_an_effect": _corr(
                targets.loc[
                    targets["causalcell"].notna() & (targets["mixscape"] > 0), "mixscape"
                ].to_numpy(),
                targets.loc[
                    targets["causalcell"].notna() & (targets["mixscape"] > 0), "causalcell"
                ].to_numpy(),
            ),
            "all_no_effect_as_0": _corr(
                targets["mixscape"].to_numpy(), targets["causalcell_or_0"].to_numpy()
            ),
        },
        "no_detectable_effect": {"mixscape": ms_none, "causalcell": cc_none},
        "cells": _cell_agreement(pert, cc_cells),
    }
    summary["marker_check"] = _marker_check(data, pert, cc_cells, cc_targets, targets)
    summary["disagreements_targets"] = _disagreements(targets, "target")
    summary["disagreements_guides"] = _disagreements(guides, "guide")

    results.mkdir(parents=True, exist_ok=True)
    if ms_meta["hvg_subset"]:
        # sensitivity run (the tutorial's HVG subset): raw results only, the section stays
        _write_csv(
            targets.round(4), results / "escape_mixscape_hvg_targets.csv", index_label="target"
        )
        _write_atomic(results / "escape_mixscape_hvg.json", json.dumps(summary, indent=2) + "\n")
        return summary
    _write_csv(guides.round(4), results / "escape_mixscape_guides.csv", index_label="guide")
    _write_csv(targets.round(4), results / "escape_mixscape_targets.csv", index_label="target")
    _write_atomic(results / "escape_mixscape.json", json.dumps(summary, indent=2) + "\n")
    crossfit = work / "causalcell_crossfit.csv"
    cf = pd.read_csv(crossfit, index_col="perturbation") if crossfit.exists() else None
    if cf is not None:
        _write_csv(cf, results / "escape_causalcell_crossfit.csv", index_label="perturbation")
    hvg_file = results / "escape_mixscape_hvg.json"
    hvg = json.loads(hvg_file.read_text()) if hvg_file.exists() else None
    _write_atomic(section, _markdown(summary, targets, guides, cf, hvg))
    return summary


def _marker_check(data: Path, pert, cc_cells, cc_targets, targets) -> list[dict]:
    """Mean log1p CP10k of each target's top gene in the cells each method calls KO / NP.

    For targets both methods call affected: the gene with causalcell's smallest p-value for the
    target, averaged over NT cells, Mixscape's KO and NP cells and causalcell's responders
    (escape probability < 0.5) and escapers. Cells a method calls unperturbed should look like NT.
    """
    import anndata as ad
    import numpy as np

    adata = ad.read_h5ad(data)
    tot = np.asarray(adata.X.sum(axis=1)).ravel()
    is_nt = (adata.obs["target_gene"].astype(str) == NT).to_numpy()
    out = []
    for t, row in targets.iterrows():
        if not (row["mixscape"] > 0 and np.isfinite(row["causalcell"])):
            continue
        gene = cc_targets.loc[t, "top_gene"]
        j = adata.var_names.get_loc(gene)
        y = np.log1p(np.asarray(adata.X[:, j].todense()).ravel() / tot * 1e4)
        y = dict(zip(adata.obs_names, y, strict=True))
        cells = pert[pert["gene_target"] == t]
        esc = cc_cells["escape_prob"].reindex(cells.index)
        item = {
            "target": t,
            "gene": gene,
            "NT": float(np.mean(np.asarray(list(y.values()))[is_nt])),
        }
        groups = {
            "mixscape_KO": cells.index[cells["ko"] > 0],
            "mixscape_NP": cells.index[cells["ko"] == 0],
            "causalcell_responder": esc.index[esc < 0.5],
            "causalcell_escaper": esc.index[esc >= 0.5],
        }
        for name, idx in groups.items():
            item[name] = float(np.mean([y[c] for c in idx])) if len(idx) else None
            item[f"n_{name}"] = len(idx)
        out.append({k: round(v, 3) if isinstance(v, float) else v for k, v in item.items()})
    return out


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _cell_agreement(pert, cc_cells) -> dict:
    """Per-cell agreement where causalcell fitted an escape model (escape_prob not NaN)."""
    import numpy as np

    joined = pert.join(cc_cells[["escape_prob"]], how="inner")
    fitted = joined[joined["escape_prob"].notna()]
    cc_resp = (fitted["escape_prob"] < 0.5).to_numpy()
    ms_ko = (fitted["ko"] > 0).to_numpy()
    return {
        "n_cells_compared": len(fitted),
        "agreement": round(float(np.mean(cc_resp == ms_ko)), 3) if len(fitted) else None,
        "both_responder": int(np.sum(cc_resp & ms_ko)),
        "both_escaper": int(np.sum(~cc_resp & ~ms_ko)),
        "causalcell_responder_mixscape_NP": int(np.sum(cc_resp & ~ms_ko)),
        "causalcell_escaper_mixscape_KO": int(np.sum(~cc_resp & ms_ko)),
    }


def _disagreements(df, kind: str) -> list[dict]:
    import numpy as np

    big = df[np.abs(df["difference"]) > DISAGREE].sort_values("difference", key=np.abs)[::-1]
    cols = ["mixscape", "causalcell", "n_cells"] + (["target"] if kind == "guide" else [])
    out = []
    for name, row in big.iterrows():
        item = {kind: name}
        for c in cols:
            v = row[c]
            item[c] = None if isinstance(v, float) and np.isnan(v) else v
            if isinstance(item[c], float | np.floating):
                item[c] = round(float(item[c]), 3)
            elif isinstance(item[c], np.integer):
                item[c] = int(item[c])
        out.append(item)
    return out


def _fmt(v, digits: int = 2) -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _markdown(s: dict, targets, guides, crossfit=None, hvg=None) -> str:
    ms, cc = s["mixscape"], s["causalcell"]
    g, t = s["guides"], s["targets"]
    lines = [
        "## Escaping cells: causalcell vs pertpy Mixscape (Papalexi et al. 2021)",
        "",
        "Real data: Papalexi et al. 2021 ECCITE-seq CRISPR-KO screen in THP-1 cells, sceptre's",
        "299-gene subset (20,729 cells, 25 targets with cells, 2,386 non-targeting cells, three",
        "biological replicates; the guide of a cell is its top-UMI guide). Both methods see the",
        "same cells and labels; each runs in its own process (pertpy in its own venv).",
        "",
        f"- Date: {s['date']}; machine: {s['machine']}; Python {ms['python']} (pertpy venv), "
        f"{cc['python']} (project venv).",
        f"- Versions: pertpy {ms['pertpy']}, scanpy {ms['scanpy']}, scikit-learn "
        f"{ms['scikit-learn']}; causalcell {cc['causalcell']}. pertpy {ms['pertpy']} from PyPI "
        "needs three pins to import and run: `filelock` (an undeclared dependency), "
        "`statsmodels<0.15` (it imports `statsmodels.sandbox...multipletests`, removed in 0.15) "
        "and `scikit-learn<1.8` (its `MixscapeGaussianMixture._m_step` lacks the `xp` argument "
        "that 1.8 passes).",
        f"- Command: `{s['command']}`",
        f"- Time: Mixscape {ms['seconds']} s (normalisation, PCA, signature, classification); "
        f"causalcell {cc['seconds']} s (all effects, tests, escape model).",
        "- Mixscape recipe (pertpy tutorial): " + "; ".join(f"`{c}`" for c in ms["calls"]) + ".",
        f"  Genes used: {ms['n_genes_used']} (the tutorial's highly-variable-gene subset is "
        f"{'on' if ms['hvg_subset'] else 'off: the panel is already a 299-gene selection'}).",
        "- causalcell: `" + cc["calls"][0] + "`; responder fraction = 1 - escaper fraction of "
        "the escape model (perturbation level: `obs['responder_fraction']`; guide level: "
        "`uns['guides']['responder_fraction']`). Mixscape: fraction of a guide's (target's) "
        "cells classified KO rather than NP.",
        "- Raw results: `bench/results/escape_mixscape_guides.csv`, "
        "`bench/results/escape_mixscape_targets.csv`, `bench/results/escape_mixscape.json`.",
        "",
        "### Agreement",
        "",
        "| level | pairs compared | Pearson | Spearman |",
        "|---|---|---|---|",
        f"| guides, both methods call the target affected | {g['both_call_an_effect']['n']} | "
        f"{_fmt(g['both_call_an_effect']['pearson'])} | "
        f"{_fmt(g['both_call_an_effect']['spearman'])} |",
        f"| guides, all (no detectable effect = 0) | {g['all_no_effect_as_0']['n']} | "
        f"{_fmt(g['all_no_effect_as_0']['pearson'])} | "
        f"{_fmt(g['all_no_effect_as_0']['spearman'])} |",
        f"| targets, both methods call an effect | {t['both_call_an_effect']['n']} | "
        f"{_fmt(t['both_call_an_effect']['pearson'])} | "
        f"{_fmt(t['both_call_an_effect']['spearman'])} |",
        f"| targets, all (no detectable effect = 0) | {t['all_no_effect_as_0']['n']} | "
        f"{_fmt(t['all_no_effect_as_0']['pearson'])} | "
        f"{_fmt(t['all_no_effect_as_0']['spearman'])} |",
        "",
    ]
    c = s["cells"]
    if c["n_cells_compared"]:
        lines += [
            f"Per cell (the {c['n_cells_compared']:,} cells of targets causalcell fits): same call "
            f"for {100 * c['agreement']:.1f}% (both responder {c['both_responder']:,}, both "
            f"escaper {c['both_escaper']:,}, causalcell responder / Mixscape NP "
            f"{c['causalcell_responder_mixscape_NP']:,}, causalcell escaper / Mixscape KO "
            f"{c['causalcell_escaper_mixscape_KO']:,}).",
            "",
        ]
    nd = s["no_detectable_effect"]
    lines += [
        "No detectable effect (Mixscape: every cell NP, i.e. fewer than 5 DE genes; causalcell: "
        "fewer than 3 signature genes at FDR 0.05, so no escape model is fitted):",
        "",
        f"- Mixscape ({len(nd['mixscape'])}): {', '.join(nd['mixscape']) or 'none'}",
        f"- causalcell ({len(nd['causalcell'])}): {', '.join(nd['causalcell']) or 'none'}",
        "",
        "### Per target",
        "",
        "| target | cells | Mixscape KO fraction | causalcell responder fraction | "
        "causalcell signature genes (FDR 0.05) | knockdown |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in targets.sort_values("mixscape", ascending=False).iterrows():
        lines.append(
            f"| {name} | {int(row['n_cells'])} | {_fmt(row['mixscape'])} | "
            f"{_fmt(row['causalcell'])} | {int(row['n_signature_genes_fdr05'])} | "
            f"{_fmt(row['knockdown'])} |"
        )
    lines += [
        "",
        "### Spot check on each target's top gene",
        "",
        "Mean log1p CP10k of the target's most significant gene (causalcell) in the cells each "
        "method calls perturbed or not; cells called unperturbed should look like NT cells. "
        "(The gene enters both methods' scores, so this is a consistency check, not ground "
        "truth.)",
        "",
        "| target | gene | NT | Mixscape KO | Mixscape NP | causalcell responder | "
        "causalcell escaper |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in s["marker_check"]:
        lines.append(
            f"| {m['target']} | {m['gene']} | {m['NT']:.2f} | {m['mixscape_KO']:.2f} "
            f"({m['n_mixscape_KO']}) | {_fmt(m['mixscape_NP'])} ({m['n_mixscape_NP']}) | "
            f"{_fmt(m['causalcell_responder'])} ({m['n_causalcell_responder']}) | "
            f"{_fmt(m['causalcell_escaper'])} ({m['n_causalcell_escaper']}) |"
        )
    if crossfit is not None:
        lines += [
            "",
            "### In-sample bias of causalcell's responder fraction",
            "",
            "causalcell fits a perturbation's signature on its cells and scores the same cells on "
            "it. `crossfit` re-implements the score (it reproduces causalcell's fractions exactly "
            "on all cells) and compares, on random halves (stratified by perturbation, both ways "
            "round, averaged), the in-sample estimate with a cross-fitted one (signature from one "
            "half; scores and the control null from the other). Raw: "
            "`bench/results/escape_causalcell_crossfit.csv`.",
            "",
            "| target | cells | causalcell (all cells) | in-sample (half) | cross-fitted (half) |",
            "|---|---|---|---|---|",
        ]
        fitted = crossfit[
            crossfit["in_sample_half"].notna() | crossfit["causalcell_all_cells"].notna()
        ]
        for name, row in fitted.sort_values("n_cells", ascending=False).iterrows():
            lines.append(
                f"| {name} | {int(row['n_cells'])} | {_fmt(row['causalcell_all_cells'])} | "
                f"{_fmt(row['in_sample_half'])} | {_fmt(row['cross_fitted_half'])} |"
            )
    lines += ["", "### Reading the figures", ""]
    both = targets[(targets["mixscape"] > 0) & targets["causalcell"].notna()]
    higher = both.index[both["causalcell"] > both["mixscape"]]
    lines.append(
        f"- Where both call an effect, causalcell's responder fraction is the higher one for "
        f"{len(higher)} of {len(both)} targets. The two numbers are not the same estimand: "
        "Mixscape's is the share of cells whose KO posterior exceeds 0.5 (a classification), "
        "causalcell's is the estimated mixing proportion (Storey-type, from the share of cells "
        "scoring below the control median)."
    )
    np_like = [
        m["target"]
        for m in s["marker_check"]
        if m["mixscape_NP"] is not None and m["NT"] - m["mixscape_NP"] > 0.3
    ]
    esc_like = [
        m["target"]
        for m in s["marker_check"]
        if m["causalcell_escaper"] is not None and m["NT"] - m["causalcell_escaper"] > 0.3
    ]
    lines.append(
        "- Top-gene check: cells Mixscape calls NP are more than 0.3 log units below NT on "
        f"the target's top gene for {', '.join(np_like) or 'no target'} (they still carry the "
        "perturbation); causalcell's escapers are that far below NT for "
        f"{', '.join(esc_like) or 'no target'}."
    )
    if crossfit is not None:
        cf = crossfit.dropna(subset=["in_sample_half", "cross_fitted_half"])
        gap = cf["in_sample_half"] - cf["cross_fitted_half"]
        inflated = cf[gap > 0.1]
        rest = gap.drop(inflated.index).abs().max()
        lines.append(
            "- In-sample bias: cross-fitting lowers causalcell's fraction by more than 0.1 for "
            + (
                ", ".join(
                    f"{p} ({r['in_sample_half']:.2f} -> {r['cross_fitted_half']:.2f}, "
                    f"{int(r['n_cells'])} cells)"
                    for p, r in inflated.iterrows()
                )
                or "no target"
            )
            + "; for the other "
            + f"{len(cf) - len(inflated)} fitted targets the two differ by at most "
            + f"{rest:.2f}"
            + ". Small or weak perturbations are where causalcell's figure is inflated by scoring "
            "cells on a signature fitted to them."
        )
    if hvg is not None:
        hg, ht = hvg["guides"], hvg["targets"]
        lines.append(
            f"- Sensitivity (the tutorial's `highly_variable_genes(subset=True)` before PCA, which "
            f"keeps {hvg['mixscape']['n_genes_used']} of the 299 genes; "
            "`bench/results/escape_mixscape_hvg.json`): Pearson/Spearman "
            f"{_fmt(hg['all_no_effect_as_0']['pearson'])}/"
            f"{_fmt(hg['all_no_effect_as_0']['spearman'])} across guides and "
            f"{_fmt(ht['all_no_effect_as_0']['pearson'])}/"
            f"{_fmt(ht['all_no_effect_as_0']['spearman'])} across targets (no detectable effect "
            f"= 0); Mixscape calls no detectable effect for "
            f"{len(hvg['no_detectable_effect']['mixscape'])} targets"
            + (
                " (the same ones)."
                if hvg["no_detectable_effect"]["mixscape"] == s["no_detectable_effect"]["mixscape"]
                else f": {', '.join(hvg['no_detectable_effect']['mixscape'])}."
            )
        )
    lines += ["", f"### Disagreements (|difference| > {DISAGREE}, no detectable effect = 0)", ""]
    dis_t, dis_g = s["disagreements_targets"], s["disagreements_guides"]
    if dis_t:
        lines.append(
            "Targets: "
            + "; ".join(
                f"{d['target']} (Mixscape {_fmt(d['mixscape'])}, causalcell "
                f"{_fmt(d['causalcell'])})"
                for d in dis_t
            )
            + "."
        )
    lines.append("")
    if dis_g:
        lines.append(
            f"Guides ({len(dis_g)}): "
            + "; ".join(
                f"{d['guide']} ({_fmt(d['mixscape'])} vs {_fmt(d['causalcell'])}, "
                f"{d['n_cells']} cells)"
                for d in dis_g
            )
            + "."
        )
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    for name in ("run", "mixscape", "causalcell", "crossfit", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--work", type=Path, default=WORK, help="intermediate files")
        p.add_argument("--seed", type=int, default=0)
        if name in ("run", "mixscape"):
            p.add_argument("--data", type=Path, default=DATA, help="Papalexi h5ad (for pertpy)")
            p.add_argument("--hvg", action="store_true", help="tutorial's HVG subset")
        if name in ("run", "compare"):
            p.add_argument("--results", type=Path, default=RESULTS)
            p.add_argument("--section", type=Path, default=SECTION)
        if name == "run":
            p.add_argument(
                "--pertpy-python",
                type=Path,
                default=ROOT / "bench" / "_work" / "pertpy-venv" / "bin" / "python",
                help="interpreter of the venv that has pertpy",
            )
            p.add_argument(
                "--causalcell-python",
                type=Path,
                default=ROOT / ".venv" / "bin" / "python",
                help="interpreter of the project venv",
            )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    me = str(Path(__file__).resolve())
    if args.step == "mixscape":
        run_mixscape(args.data, args.work, args.seed, args.hvg)
    elif args.step == "causalcell":
        run_causalcell(args.work, args.seed)
    elif args.step == "crossfit":
        run_crossfit(args.work, args.seed)
    elif args.step == "compare":
        # the command that produced the work files (written by ``run``), else this one
        made_by = args.work / "command.txt"
        command = made_by.read_text().strip() if made_by.exists() else " ".join(sys.argv)
        compare(args.work, args.results, args.section, command)
    else:
        command = (
            ".venv/bin/python bench/escape_vs_mixscape.py run "
            "--pertpy-python bench/_work/pertpy-venv/bin/python"
            + (" --hvg --work bench/_work/escape_mixscape_hvg" if args.hvg else "")
        )
        _write_atomic(args.work / "command.txt", command + "\n")
        common = ["--work", str(args.work), "--seed", str(args.seed)]
        mix = [str(args.pertpy_python), me, "mixscape", *common, "--data", str(args.data)]
        subprocess.run(mix + (["--hvg"] if args.hvg else []), check=True)
        subprocess.run([str(args.causalcell_python), me, "causalcell", *common], check=True)
        subprocess.run([str(args.causalcell_python), me, "crossfit", *common], check=True)
        summary = compare(args.work, args.results, args.section, command)
        print(json.dumps({k: summary[k] for k in ("guides", "targets")}, indent=1))


if __name__ == "__main__":
    main()
