"""DML null calibration on the simulator's population preset: why donors are the units and the
score test is the inference, measured against the previous defaults in one run.

For each seed, ``sim.simulate("population")`` draws donors with cis-eQTL genotypes, cells of three
types and a donor-level case label caused by a few genes in one cell type. Four variants of
``causalcell.dml.dml`` are run on the same data:

- ``cell, Wald`` (the previous default): cells as rows, donor-clustered sandwich SE at the
  estimate, normal reference, ridge ``alpha=1``, 20 PCs;
- ``cell, score``: cells as rows with the null-imposed score SE and t(donors - 1);
- ``donor, Wald``: donors as rows (pseudobulk), Wald SE, normal reference;
- ``donor, score`` (the current default): donors as rows, score SE, t(donors - 1), ridge with
  leave-one-out penalty, 10 PCs.

Null genes are those with no genetic covariance with the disease in a cell type (simulator truth
``genetic_cov == 0``: every gene of the non-disease cell types, most genes of the disease one);
their fraction of ``p < 0.05`` should be 0.05. Genes are correlated through the network, so the
per-dataset fraction is clumpy; the SE is over datasets. A second null draws random balanced
donor labels (independent of everything) on one cell type. Power: fraction of the causal genes
with ``p < 0.05`` in the disease cell type.

Writes ``docs/benchmarks/dml_calibration.md``, ``bench/results/dml_calibration.json`` and
``docs/figures/dml_calibration_qq.png``.

Usage: ``python bench/dml_calibration.py [--seeds 30] [--donors 40]``.
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

from causalcell import dml, sim
from causalcell._utils import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "dml_calibration.json"
MARKDOWN = ROOT / "docs" / "benchmarks" / "dml_calibration.md"
FIGURE = ROOT / "docs" / "figures" / "dml_calibration_qq.png"

VARIANTS = {
    "cell, Wald (previous default)": {
        "unit": "cell",
        "inference": "wald",
        "learner": "ridge",
        "n_components": 20,
    },
    "cell, score": {"unit": "cell", "inference": "score"},
    "donor, Wald": {"unit": "donor", "inference": "wald"},
    "donor, score (default)": {"unit": "donor", "inference": "score"},
}


def one_seed(seed: int, args) -> dict:
    """p-values of null and causal genes for every variant on one simulated data set."""
    data = sim.simulate("population", rng=seed, n_donors=args.donors)
    truth, adata = data.truth, data.adata
    disease = str(truth["disease_cell_type"])
    types = list(truth["cell_types"])
    causal = truth["disease_effect"] != 0
    rng = np.random.default_rng(seed)
    out = {}
    for name, kw in VARIANTS.items():
        start = time.perf_counter()
        table = dml.dml(adata, rng=seed, **kw)
        seconds = time.perf_counter() - start
        null_p, disease_null_p = [], []
        for c, ct in enumerate(types):
            p = table.loc[table["cell_type"] == ct, "pval"].to_numpy()
            null = truth["genetic_cov"][c] == 0
            (disease_null_p if ct == disease else null_p).append(p[null])
        p_dis = table.loc[table["cell_type"] == disease, "pval"].to_numpy()
        out[name] = {
            "null_p": np.concatenate(null_p + disease_null_p),
            "disease_null_p": np.concatenate(disease_null_p),
            "causal_p": p_dis[causal],
            "random_label_p": random_labels(adata, types[-1], kw, rng, args.random_labels),
            "seconds": seconds,
        }
    return out


def random_labels(adata, cell_type, kw, rng, n_draws) -> np.ndarray:
    """p-values of all genes under random balanced donor labels on one cell type."""
    sub = adata[adata.obs["cell_type"] == cell_type].copy()
    codes = sub.obs["donor"].cat.codes.to_numpy()
    n_donors = codes.max() + 1
    ps = []
    for _ in range(n_draws):
        sub.obs["phenotype"] = rng.permutation(np.arange(n_donors) % 2)[codes]
        ps.append(dml.dml(sub, rng=rng, **kw)["pval"].to_numpy())
    return np.concatenate(ps)


def summarise(runs: list[dict]) -> dict:
    """Per variant: null rates (mean over data sets and its SE), power, time."""
    summary = {}
    for name in VARIANTS:
        rates = {}
        for key in ("null_p", "disease_null_p", "random_label_p"):
            per = np.array([np.mean(r[name][key] < 0.05) for r in runs if r[name][key].size])
            rates[key] = {
                "rate": float(per.mean()),
                "se": float(per.std(ddof=1) / np.sqrt(len(per))),
            }
        summary[name] = rates | {
            "power": float(np.mean(np.concatenate([r[name]["causal_p"] for r in runs]) < 0.05)),
            "seconds": float(np.mean([r[name]["seconds"] for r in runs])),
            "n_null_tests": int(sum(r[name]["null_p"].size for r in runs)),
        }
    return summary


def figure(runs: list[dict]) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for name in VARIANTS:
        p = np.sort(np.concatenate([r[name]["null_p"] for r in runs]))
        expected = -np.log10((np.arange(1, p.size + 1) - 0.5) / p.size)
        ax.plot(expected, -np.log10(p), ".", ms=2, label=name)
    lim = ax.get_xlim()[1]
    ax.plot([0, lim], [0, lim], "k--", lw=0.8)
    ax.set_xlabel("expected -log10 p (uniform)")
    ax.set_ylabel("observed -log10 p, null genes")
    ax.legend(frameon=False, fontsize=7, markerscale=4)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    tmp = FIGURE.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=150)
    tmp.replace(FIGURE)


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# DML null calibration on the population preset",
        "",
        f"Generated by `bench/dml_calibration.py` on {res['date']}.",
        "",
        f"- Command: `{res['command']}`",
        f"- Machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}",
        f"- Data: `sim.simulate('population', n_donors={res['donors']})`, seeds 0..."
        f"{res['seeds'] - 1} (200 genes, 3 cell types x 30 cells per donor, 5 causal genes "
        "in type0, cell-type-specific cis-eQTLs); every variant on the same data.",
        "- Null genes: `genetic_cov == 0` in the cell type (no genetic covariance with the "
        "disease). Random labels: balanced donor labels drawn independently of the data, "
        f"{res['random_labels']} draws per seed on one cell type.",
        "",
        "| variant | null genes p<0.05 (all types) | null genes p<0.05 (disease type) | "
        "random labels p<0.05 | power (causal genes, p<0.05) | s per data set |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in res["summary"].items():
        cells = [
            f"{s[k]['rate']:.3f} ({s[k]['se']:.3f})"
            for k in ("null_p", "disease_null_p", "random_label_p")
        ]
        lines.append(f"| {name} | {' | '.join(cells)} | {s['power']:.2f} | {s['seconds']:.2f} |")
    lines += [
        "",
        "Rate (SE over data sets). Target 0.05.",
        "",
        "![QQ plot of null-gene p-values](figures/dml_calibration_qq.png)",
        "",
        "What the table shows. (1) The Wald sandwich evaluates the score at the fitted effect;",
        "with a few dozen donors and heavy-tailed donor-level expression (a donor homozygous",
        "for a strong eQTL is a high-leverage point) it underestimates the variance, so even",
        "random labels come out significant 8-10% of the time, with cells or donors as rows.",
        "The null-imposed score test (`dml.plr_score_test`, t with donors - 1 df) is the main",
        "fix: it brings every null rate to 0.05-0.06. (2) A case label is a donor property;",
        "with cells as rows the outcome regression learns between-donor associations from the",
        "few training donors while the treatment regression learns within-donor ones, and the",
        "null genes of the disease cell type (the ones sharing network neighbours with causal",
        "genes) stay slightly high; donors as rows (pseudobulk expression, donor-mean",
        "confounders, ridge penalty by leave-one-out error) bring them to 0.05 and run about",
        "three times faster. The price of calibration is power: the Wald variants reject more",
        "often everywhere, causal genes included.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--donors", type=int, default=40)
    parser.add_argument("--random-labels", type=int, default=4)
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the section from the saved JSON"
    )
    args = parser.parse_args(argv)
    if args.markdown_only:
        write_text_atomic(MARKDOWN, markdown(json.loads(RESULTS.read_text())))
        return
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    runs = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        runs.append(one_seed(seed, args))
        print(f"seed {seed}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    res = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "seeds": args.seeds,
        "donors": args.donors,
        "random_labels": args.random_labels,
        "summary": summarise(runs),
    }
    figure(runs)
    write_text_atomic(RESULTS, json.dumps(res, indent=1))
    write_text_atomic(MARKDOWN, markdown(res))


if __name__ == "__main__":
    main()
