"""Early vs steady-state perturbations as evidence of direct regulation: simulator and yeast.

1. Simulator (preset ``degron_timecourse``, truth ``G`` known): direct-edge AUPR of the
   effect z-score at each time point (15 min to 8 h), of the z-score pooled over time, and of
   the time-resolved estimator (``method="time"``); the noiseless expected effects per time
   point show what early sampling buys without noise.
2. Yeast (real): the same 179 TFs deleted (Kemmeren 2014, steady state) or induced for 15 min
   (Hackett 2020), 573 target genes, scored against documented direct targets that do not come
   from these data (Tchourine et al. 2018 gold standard, shipped; YEASTRACT 2019 DNA-binding +
   expression evidence, read from ../shared/data when present). Which recovers documented
   targets better; what fraction of documented targets respond; how many TFs act in both
   directions.

Usage: ``python bench/network_yeast.py [--seeds 0 1 2]`` (writes docs/benchmarks/network_yeast.md,
docs/figures/network_yeast_*.png and bench/results/network_yeast.json).
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
from sklearn.metrics import precision_recall_curve

import causalcell as cc
from causalcell.network import evaluate, infer_network, truth_frame

ROOT = Path(__file__).resolve().parents[1]
FIG = ROOT / "docs" / "figures"
YEASTRACT = ROOT.parent / "shared" / "data" / "yeast_tf_target_references"
YEASTRACT = YEASTRACT / "YEASTRACT_20190713_BOTH.tsv.gz"
THRESHOLDS = (np.log2(1.5), 1.0)  # |log2 fold change| called a response


# ---------------------------------------------------------------- simulator: degron time course
def degron(seed: int) -> dict:
    """Direct-edge AUPR per time point and of the time-resolved estimator, one simulated set."""
    sim = cc.sim.simulate("degron_timecourse", rng=seed)
    a, truth_npz = sim.adata, sim.truth
    genes, perts = list(truth_npz["genes"]), list(truth_npz["perturbations"])
    truth = truth_frame(truth_npz["G"], genes)
    truth = truth[truth["source"].isin(perts)]

    def aupr(edges):
        return evaluate(edges, truth, sources=perts, targets=genes)["aupr"]

    times = np.asarray(truth_npz["times"], float)
    out: dict = {"times": times.tolist(), "per_time": [], "noiseless": [], "noiseless_obs": []}
    for k, t in enumerate(times):
        sub = a[a.obs["time"].to_numpy() == t].copy()
        out["per_time"].append(aupr(infer_network(sub, method="zscore", level="perturbation")))
        # noiseless expected effects (perturbations x genes): on latent log expression, and on
        # the analysis scale (log1p CP10k, which compresses low-expressed genes)
        for key, name in (
            ("delta_latent_by_time", "noiseless"),
            ("delta_by_time", "noiseless_obs"),
        ):
            expected = np.abs(truth_npz[key][:, k])
            out[name].append(aupr(_frame(expected, truth_npz["perturbations"], genes)))
    t0 = time.perf_counter()
    out["time_method"] = aupr(infer_network(a, method="time", rng=seed))
    out["time_seconds"] = time.perf_counter() - t0
    out["pooled_zscore"] = aupr(infer_network(a, method="zscore", level="perturbation"))
    out["random"] = len(truth) / (len(perts) * (len(genes) - 1))
    return out


def _frame(score: np.ndarray, sources, genes) -> pd.DataFrame:
    i, j = np.nonzero(score > 0)
    src, tgt = np.asarray(sources)[i], np.asarray(genes)[j]
    keep = src != tgt
    return pd.DataFrame(
        {"source": src[keep], "target": tgt[keep], "weight": 0.0, "score": score[i, j][keep]}
    )


# ------------------------------------------------------------------------------- yeast
def yeast_data() -> dict:
    data = {}
    for kind in ("deletion", "induction"):
        a = cc.datasets.yeast_tf_perturbation(kind)
        tfs = a.obs["perturbation"] != "control"
        data[kind] = pd.DataFrame(
            a.X[tfs.to_numpy()], index=a.obs.loc[tfs, "perturbation"], columns=a.var_names
        )
    return data


def references() -> dict[str, pd.DataFrame]:
    refs = {"Tchourine 2018": cc.datasets.yeast_tf_targets("tchourine2018")}
    if YEASTRACT.is_file():
        refs["YEASTRACT 2019"] = cc.datasets.yeast_tf_targets("yeastract", path=YEASTRACT)
    return refs


def universe(lfc: pd.DataFrame, ref: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Candidate pairs: TFs of the data with documented targets x genes named in the reference."""
    sources = [t for t in lfc.index if t in set(ref["source"])]
    targets = [g for g in lfc.columns if g in set(ref["target"])]
    return sources, targets


def edge_scores(data: dict) -> dict[str, pd.DataFrame]:
    """Edge lists per method: |log2FC|, the package's knockout z-score (``expression='log'``),
    and the rank average of deletion and induction z-scores."""
    out = {}
    for kind in ("deletion", "induction"):
        a = cc.datasets.yeast_tf_perturbation(kind)
        cells = cc.io.validate_cells(a, expression="log")
        edges = infer_network(cells, method="zscore")
        if kind == "induction":  # the perturbation raises its TF: flip to the regulation's sign
            edges["weight"] = -edges["weight"]
        out[f"{kind} z-score"] = edges
        lfc = data[kind].stack()
        out[f"{kind} |log2FC|"] = pd.DataFrame(
            {
                "source": lfc.index.get_level_values(0),
                "target": lfc.index.get_level_values(1),
                "weight": lfc.to_numpy() * (-1 if kind == "deletion" else 1),
                "score": np.abs(lfc.to_numpy()),
            }
        )
    both = out["deletion z-score"].merge(
        out["induction z-score"], on=["source", "target"], how="outer", suffixes=("_d", "_i")
    )
    both = both.fillna(0.0)
    rank = both[["score_d", "score_i"]].rank(pct=True).mean(axis=1)
    out["deletion + induction (rank mean)"] = pd.DataFrame(
        {
            "source": both["source"],
            "target": both["target"],
            "weight": np.where(
                both["score_i"] >= both["score_d"], both["weight_i"], both["weight_d"]
            ),
            "score": rank,
        }
    )
    return out


def recovery(edges: dict, refs: dict, data: dict) -> pd.DataFrame:
    rows = []
    for ref_name, ref in refs.items():
        sources, targets = universe(data["deletion"], ref)
        for method, e in edges.items():
            m = evaluate(e, ref, sources=sources, targets=targets, k=(50, 200))
            rows.append({"reference": ref_name, "method": method, **m})
    return pd.DataFrame(rows)


def responses(data: dict, refs: dict) -> pd.DataFrame:
    """Fraction of documented targets that respond, vs the other pairs of the same TFs."""
    rows = []
    for ref_name, ref in refs.items():
        sources, targets = universe(data["deletion"], ref)
        documented = pd.MultiIndex.from_frame(ref[["source", "target"]])
        for kind, lfc in data.items():
            sub = lfc.loc[sources, targets].stack()
            is_doc = sub.index.isin(documented)
            for thr in THRESHOLDS:
                hit = np.abs(sub.to_numpy()) >= thr
                rows.append(
                    {
                        "reference": ref_name,
                        "data": kind,
                        "threshold |log2FC|": round(float(thr), 3),
                        "documented pairs": int(is_doc.sum()),
                        "documented responding": float(hit[is_doc].mean()),
                        "other responding": float(hit[~is_doc].mean()),
                        "enrichment": float(hit[is_doc].mean() / hit[~is_doc].mean()),
                    }
                )
    return pd.DataFrame(rows)


def directions(data: dict, ref: pd.DataFrame, thr: float = float(np.log2(1.5))) -> pd.DataFrame:
    """Per data set: TFs whose responding documented targets move both up and down; sign
    agreement with the reference's signs (activation +, repression -)."""
    rows = []
    for kind, lfc in data.items():
        sources, targets = universe(lfc, ref)
        doc = ref[ref["source"].isin(sources) & ref["target"].isin(targets)]
        values = lfc.stack().reindex(pd.MultiIndex.from_frame(doc[["source", "target"]]))
        doc = doc.assign(lfc=values.to_numpy())
        resp = doc[np.abs(doc["lfc"]) >= thr]
        # regulation sign implied by the data: deletion lowers an activator's targets
        implied = np.sign(resp["lfc"]) * (-1 if kind == "deletion" else 1)
        signed = resp["sign"] != 0
        per_tf = resp.groupby("source")["lfc"].agg(
            up=lambda x: int((x > 0).sum()), down=lambda x: int((x < 0).sum())
        )
        enough = per_tf[(per_tf["up"] + per_tf["down"]) >= 3]
        minority = enough.min(axis=1) / enough.sum(axis=1)
        rows.append(
            {
                "data": kind,
                "TFs with >= 3 responding documented targets": len(enough),
                "both directions (>= 1 each)": int((enough.min(axis=1) >= 1).sum()),
                "both directions (minority >= 25%)": int((minority >= 0.25).sum()),
                "sign agreement with reference": float(
                    (implied[signed] == resp.loc[signed, "sign"]).mean()
                ),
                "responding signed edges": int(signed.sum()),
            }
        )
    return pd.DataFrame(rows)


def agreement(data: dict, ref: pd.DataFrame, thr: float = float(np.log2(1.5))) -> dict:
    """Do the two perturbations call the same documented targets?"""
    sources, targets = universe(data["deletion"], ref)
    idx = pd.MultiIndex.from_frame(ref[["source", "target"]])
    d = data["deletion"].loc[sources, targets].stack().reindex(idx).dropna()
    i = data["induction"].loc[sources, targets].stack().reindex(d.index)
    hd, hi = np.abs(d) >= thr, np.abs(i) >= thr
    all_d = data["deletion"].to_numpy().ravel()
    all_i = data["induction"].to_numpy().ravel()
    return {
        "documented pairs": len(d),
        "respond to deletion only": int((hd & ~hi).sum()),
        "respond to induction only": int((~hd & hi).sum()),
        "respond to both": int((hd & hi).sum()),
        "respond to neither": int((~hd & ~hi).sum()),
        "pearson r (all entries)": float(np.corrcoef(all_d, all_i)[0, 1]),
    }


# ------------------------------------------------------------------------------- figures
def figure_degron(sims: list[dict], path: Path) -> None:
    times = sims[0]["times"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label, style in (
        ("per_time", "z-score at this time point (one time point's cells)", "o-"),
        ("noiseless", "expected latent effect at this time (noiseless)", "s--"),
        ("noiseless_obs", "expected effect on log1p CP10k (noiseless)", "^--"),
    ):
        vals = np.array([s[key] for s in sims])
        ax.errorbar(times, vals.mean(0), yerr=vals.std(0), fmt=style, label=label, capsize=3)
    for key, label, color in (
        ("time_method", "time-resolved estimator (all time points)", "C3"),
        ("pooled_zscore", "z-score pooled over time (all cells)", "C2"),
    ):
        ax.axhline(np.mean([s[key] for s in sims]), color=color, ls=":", label=label)
    ax.set_xscale("log")
    ax.set_xticks(times, [f"{t:g}" for t in times])
    ax.minorticks_off()
    ax.set_xlabel("hours after degron")
    ax.set_ylabel("direct-edge AUPR")
    ax.set_title(f"Simulated degron time course ({len(sims)} seeds)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def figure_yeast(edges: dict, refs: dict, data: dict, resp: pd.DataFrame, path: Path) -> None:
    fig, axes = plt.subplots(1, 1 + len(refs), figsize=(5 * (1 + len(refs)), 4))
    for ax, (ref_name, ref) in zip(axes[:-1], refs.items(), strict=True):
        sources, targets = universe(data["deletion"], ref)
        pairs = pd.MultiIndex.from_product([sources, targets])
        labels = pairs.isin(pd.MultiIndex.from_frame(ref[["source", "target"]]))
        for method in ("deletion z-score", "induction z-score", "deletion + induction (rank mean)"):
            e = edges[method]
            s = pd.Series(
                e["score"].to_numpy(), index=pd.MultiIndex.from_frame(e[["source", "target"]])
            )
            s = s[~s.index.duplicated()].reindex(pairs).fillna(0).to_numpy()
            prec, rec, _ = precision_recall_curve(labels, s)
            ax.plot(rec, prec, label=method)
        ax.axhline(labels.mean(), color="grey", ls=":", label="random")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(f"vs {ref_name}")
        ax.legend(fontsize=7)
    ax = axes[-1]
    sub = resp[np.isclose(resp["threshold |log2FC|"], round(float(THRESHOLDS[0]), 3))]
    x = np.arange(len(sub))
    ax.bar(x - 0.2, sub["documented responding"], 0.4, label="documented targets")
    ax.bar(x + 0.2, sub["other responding"], 0.4, label="other genes")
    ax.set_xticks(x, [f"{r.data}\n{r.reference}" for r in sub.itertuples()], fontsize=7)
    ax.set_ylabel("fraction with |log2FC| >= log2(1.5)")
    ax.set_title("Documented targets that respond")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------- report
def _md(frame: pd.DataFrame) -> str:
    """A markdown table (floats to 3 decimals)."""

    def cell(v) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v).replace("|", "\\|")

    rows = [" | ".join(map(cell, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join(cell(v) for v in row) for row in frame.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows)


def write_markdown(res: dict, out: Path, command: str) -> None:
    sims = res["degron"]
    per_time = np.array([s["per_time"] for s in sims]).mean(0)
    noiseless = np.array([s["noiseless"] for s in sims]).mean(0)
    time_m = np.mean([s["time_method"] for s in sims])
    pooled = np.mean([s["pooled_zscore"] for s in sims])
    noiseless_obs = np.array([s["noiseless_obs"] for s in sims]).mean(0)
    tab = pd.DataFrame(
        {
            "hours": sims[0]["times"],
            "z-score AUPR (cells of this time)": per_time,
            "noiseless latent effect AUPR": noiseless,
            "noiseless log1p CP10k effect AUPR": noiseless_obs,
        }
    )
    per_seed = "; ".join(
        f"seed {seed}: {s['time_method']:.3f} vs {s['per_time'][-1]:.3f} vs {s['pooled_zscore']:.3f}"
        for seed, s in zip(res["seeds"], sims, strict=True)
    )
    best = int(np.argmax(per_time))
    wins = sum(s["time_method"] > s["per_time"][-1] for s in sims)
    rec = pd.DataFrame(res["recovery"])
    rec = rec[
        [
            "reference",
            "method",
            "aupr",
            "auroc",
            "random_aupr",
            "precision@50",
            "precision@200",
            "sign_accuracy",
        ]
    ]
    lines = [
        "## Early vs steady-state perturbations: degron simulator and yeast TFs",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs, {platform.system()}; "
        f"Python {platform.python_version()}; causalcell {cc.__version__}.",
        f"- Command: `{command}`",
        "",
        "### Simulator: degron time course (truth G known)",
        "",
        f"Preset `degron_timecourse` (200 genes, 20 degraded regulators, 40 cells per "
        f"perturbation and time, 6 time points), seeds {res['seeds']}; direct-edge AUPR over "
        "the 20 perturbed regulators x 199 genes (mean over seeds; random "
        f"{np.mean([s['random'] for s in sims]):.3f}).",
        "",
        _md(tab),
        "",
        f"| estimator | direct-edge AUPR |\n|---|---|\n"
        f"| time-resolved (`method='time'`, all time points) | {time_m:.3f} |\n"
        f"| z-score at the last time point (8 h, steady-state-like) | {per_time[-1]:.3f} |\n"
        f"| z-score at the first time point (15 min) | {per_time[0]:.3f} |\n"
        f"| z-score pooled over all time points (time ignored) | {pooled:.3f} |",
        "",
        f"Time-resolved / late z-score AUPR ratio: {time_m / per_time[-1]:.2f} (per seed, "
        f"time-resolved vs late z-score vs pooled: {per_seed}). Without noise the earliest "
        "time point ranks direct targets best on latent expression (the noiseless latent column "
        f"goes from {noiseless[0]:.3f} at {sims[0]['times'][0]:g} h to {noiseless[-1]:.3f} at "
        f"{sims[0]['times'][-1]:g} h as indirect effects build up); on the log1p CP10k scale the "
        "expected effects of low-expressed genes are compressed, which blurs that ranking "
        f"({noiseless_obs[0]:.3f} to {noiseless_obs[-1]:.3f}). With 40 cells per perturbation "
        "and time point the earliest responses are too small to detect, and the best single "
        f"time point is {sims[0]['times'][best]:g} h. The time-resolved estimator (the direct, "
        "no-lag response shape fitted over all time points) beats the late z-score on average, "
        f"in {wins} of {len(sims)} seeds (where it loses, the late responses alone rank better "
        "than any weighting of the time points tried, including pooling); pooling all "
        "time points and ignoring time is about as good here (it also uses every cell): at "
        "this noise level the gain of a time course is mostly more cells, and the shape term "
        "(which separates direct from lagged responses) matters little because this preset's "
        "indirect effects are weak next to the noise.",
        "",
        "![degron](../figures/network_yeast_degron.png)",
        "",
        "### Yeast: TF deletion (steady state) vs 15-minute induction (early)",
        "",
        "Data: log2 fold changes of 573 genes for the same 179 TFs, deleted (Kemmeren et al. "
        "2014) or induced for 15 min with the ZEV system (Hackett et al. 2020), Ma & Brent's "
        "matched subset; one profile per TF, `expression='log'`. References (independent of "
        "these data): Tchourine et al. 2018 gold standard (signed) and YEASTRACT 2019 "
        "(DNA-binding and expression evidence). NOT the DE-derived 50-TF network of the same "
        "folder (built from the deletion data). Candidate pairs: TFs with documented targets x "
        "genes named in the reference. `z-score`: the package's knockout z-score "
        "(`infer_network(method='zscore')`, |delta| / sd of the gene over TFs); "
        "`|log2FC|` reproduces the baseline documented in the data's SOURCE.md (0.173 / 0.198 vs "
        "Tchourine). Caveat: both references count expression evidence, which for many TFs "
        "comes from earlier TF-deletion experiments, so they may favour the deletion data (not "
        "verified here); binding-only references (ChIP) were not available.",
        "",
        _md(rec),
        "",
        "Fraction of documented targets that respond (|log2FC| above the threshold), against "
        "the other genes of the same TFs:",
        "",
        _md(pd.DataFrame(res["responses"])),
        "",
        "Direction of the responses of documented targets (Tchourine 2018, |log2FC| >= "
        "log2(1.5)); sign agreement: the regulation implied by the data (deletion: minus the "
        "response; induction: the response) vs the reference's sign:",
        "",
        _md(pd.DataFrame(res["directions"])),
        "",
        "Do deletion and induction call the same documented targets (Tchourine 2018, "
        "|log2FC| >= log2(1.5))? "
        + ", ".join(
            f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}"
            for k, v in res["agreement"].items()
        )
        + ".",
        "",
        "![yeast](../figures/network_yeast_recovery.png)",
        "",
        res["verdict"],
        "",
    ]
    out.write_text("\n".join(lines))


def verdict(rec: pd.DataFrame, resp: pd.DataFrame, dirs: pd.DataFrame) -> str:
    parts = []
    for ref, sub in rec.groupby("reference"):
        a = sub.set_index("method")["aupr"]
        parts.append(
            f"vs {ref}: induction z-score AUPR {a['induction z-score']:.3f}, deletion "
            f"{a['deletion z-score']:.3f} (ratio {a['induction z-score'] / a['deletion z-score']:.2f}), "
            f"both combined {a['deletion + induction (rank mean)']:.3f}"
        )
    r = resp[np.isclose(resp["threshold |log2FC|"], round(float(THRESHOLDS[0]), 3))]
    frac = ", ".join(
        f"{x.data} {x['documented responding']:.0%} ({x.reference})" for _, x in r.iterrows()
    )
    both = ", ".join(
        f"{x['data']}: {x['both directions (>= 1 each)']} of "
        f"{x['TFs with >= 3 responding documented targets']}"
        for _, x in dirs.iterrows()
    )
    return (
        "**Summary.** Which recovers documented direct targets better: "
        + "; ".join(parts)
        + f". Fraction of documented targets that respond at 1.5-fold: {frac}. "
        f"TFs whose responding documented targets go both up and down: {both}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    sims = [degron(s) for s in args.seeds]
    data, refs = yeast_data(), references()
    edges = edge_scores(data)
    rec, resp = recovery(edges, refs, data), responses(data, refs)
    dirs = directions(data, refs["Tchourine 2018"])
    res = {
        "seeds": args.seeds,
        "degron": sims,
        "recovery": rec.to_dict("records"),
        "responses": resp.to_dict("records"),
        "directions": dirs.to_dict("records"),
        "agreement": agreement(data, refs["Tchourine 2018"]),
        "verdict": verdict(rec, resp, dirs),
    }
    FIG.mkdir(parents=True, exist_ok=True)
    figure_degron(sims, FIG / "network_yeast_degron.png")
    figure_yeast(edges, refs, data, resp, FIG / "network_yeast_recovery.png")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "network_yeast.json").write_text(json.dumps(res, indent=1))
    seeds = " ".join(map(str, args.seeds))
    write_markdown(
        res,
        ROOT / "docs" / "benchmarks" / "network_yeast.md",
        f"python bench/network_yeast.py --seeds {seeds}",
    )


if __name__ == "__main__":
    main()
