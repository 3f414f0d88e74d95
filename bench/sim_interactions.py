"""Genetic interactions of the simulator's `norman` preset beside Norman et al. 2019's real pairs.

For each designed pair of the preset (noise-free truth: ``draw_world`` + ``expected_deltas``
with the preset's truth panel): its interaction score (slope of the double's delta on the sum of
its singles', perturbed genes left out; synergy > 1.2, suppression < 0.8), whether it carries a
pair-specific AND/OR term or is a related pair (the two genes share a direct target), Norman
et al.'s two coefficients (the double regressed on the two singles, least squares over genes)
and the correlation of its two single profiles. Reference: the authors' per-pair table
``regr_fits_final.csv`` (125 CRISPRa pairs of K562, Theil-Sen coefficients of *measured*
profiles; its ``abs_log_ts_ratio`` is a log10). Gene consistency: how well a held-out pair's
mean coefficient is predicted from its genes' coefficients in their other pairs (the per-gene
model of ``bench/predict_norman_gi.py``, same code), on both tables. Attenuation check: the
same coefficients fitted on the *measured* profiles of the simulated screens (the cached
``bench/predict_simulated.py`` screens, 50 cells per perturbation; simulated if missing), as the
real table is, beside those of the noise-free truth of the same screens. Learnability: the GI
calls on the pairs held out by those screens' GEARS simulation split, by the causal model with
its saturation or clamping forced on.

Usage: ``python bench/sim_interactions.py [--seeds 0 1]`` (writes
docs/benchmarks/sim_interactions.md).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import TheilSenRegressor

import causalcell as cc
from causalcell._utils import write_text_atomic
from causalcell.predict import CausalPropagation, call_interaction, make_model
from causalcell.predict._interactions import interaction_score
from causalcell.sim import get_preset
from causalcell.sim._cells import expected_deltas
from causalcell.sim._world import draw_world
from predict_norman_gi import held_out, nested, problem  # sibling bench scripts
from predict_simulated import load, score, singles_of, splits_of

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT / "docs" / "benchmarks" / "sim_interactions.md"
TABLE = ROOT.parent / "shared" / "data" / "norman2019_gi_tables" / "regr_fits_final.csv"


def simulated_pairs(seed: int) -> pd.DataFrame:
    """One row per designed pair of the `norman` preset drawn with ``seed``."""
    world = draw_world(get_preset("norman"), rng=seed)
    labels = ["+".join(world.genes[list(p)]) for p in world.perturbations]
    delta = expected_deltas(world, labels, rng=seed)["delta"]
    row = {p: i for i, p in enumerate(world.perturbations)}
    off = (world.net.G - np.diag(np.diag(world.net.G))) != 0
    terms = {frozenset(map(int, t[:2])) for t in world.reg.pairs}
    rows = []
    for pair, i in row.items():
        if len(pair) != 2:
            continue
        keep = np.ones(delta.shape[1], bool)
        keep[list(pair)] = False
        singles = np.stack([delta[row[(g,)], keep] for g in pair])
        coef = np.linalg.lstsq(singles.T, delta[i, keep], rcond=None)[0]
        rows.append(
            {
                "score": interaction_score(delta[i, keep], singles),
                "term": frozenset(pair) in terms,
                "related": bool((off[pair[0]] & off[pair[1]]).any()),
                "a": pair[0],
                "b": pair[1],
                "coef_a": coef[0],
                "coef_b": coef[1],
                "overlap": np.corrcoef(singles)[0, 1],
            }
        )
    out = pd.DataFrame(rows)
    out["call"] = [call_interaction(s) for s in out["score"]]
    out["seed"] = seed
    return out


def gene_consistency(a, b, coef: np.ndarray) -> tuple[float, float]:
    """Spearman of held-out pairs' mean coefficient, predicted from their genes' other pairs,
    with the actual one; and the mean-coefficient MSE of that prediction relative to the one
    coefficient shared by all pairs (below 1: how a gene combines is a property of the gene)."""
    pairs = pd.DataFrame({"a": list(a), "b": list(b)})
    genes = sorted(set(pairs["a"]) | set(pairs["b"]))
    prob = problem(genes, pairs, coef[:, 0], coef[:, 1])
    gene = nested(prob, coef)[0].mean(axis=1)
    shared = held_out(prob, np.inf).mean(axis=1)
    truth = coef.mean(axis=1)
    ratio = np.mean((gene - truth) ** 2) / np.mean((shared - truth) ** 2)
    return float(spearmanr(gene, truth)[0]), float(ratio)


def coefficients(frame: pd.DataFrame, pair: str, keep: np.ndarray, robust: bool) -> np.ndarray:
    """Norman et al.'s ``AB ~ c1 A + c2 B`` over the genes ``keep`` (no intercept)."""
    X = frame.loc[pair.split("+"), keep].to_numpy().T
    y = frame.loc[pair, keep].to_numpy()
    if robust:
        ts = TheilSenRegressor(fit_intercept=False, max_subpopulation=2000, random_state=0)
        return ts.fit(X, y).coef_
    return np.linalg.lstsq(X, y, rcond=None)[0]


def measured_vs_truth(seed: int) -> pd.DataFrame:
    """Per designed pair of the cached `norman` screen: Norman et al.'s coefficients on the
    noise-free truth (least squares) and on the measured deltas (least squares, Theil-Sen),
    and the correlation of the two measured singles (perturbed genes left out)."""
    data = load("norman", seed)
    measured = pd.DataFrame(
        data["responses"].delta,
        index=data["responses"].perturbations,
        columns=data["responses"].genes,
    )
    truth = data["truth"].loc[:, measured.columns]
    rows = []
    for label in measured.index:
        parts = label.split("+")
        if len(parts) != 2 or not set(parts) <= set(measured.index) or label not in truth.index:
            continue
        keep = ~measured.columns.isin(parts)

        single = measured.loc[parts, keep].to_numpy()
        rows.append(
            {
                "a": parts[0],
                "b": parts[1],
                "truth": coefficients(truth, label, keep, robust=False),
                "measured, least squares": coefficients(measured, label, keep, robust=False),
                "measured, Theil-Sen": coefficients(measured, label, keep, robust=True),
                "overlap": np.corrcoef(single)[0, 1],
            }
        )
    return pd.DataFrame(rows).assign(seed=seed)


class Forced(CausalPropagation):
    """The causal model with its saturation scale and intervention type fixed instead of
    chosen on the measured pairs (where the one-SE rule keeps additive shifts)."""

    def __init__(self, c: float = np.inf, kind: str = "shift") -> None:
        super().__init__(saturation=(c,), intervention=kind, coefficients=())
        self.c, self.kind = c, kind

    def _choose(self, combos) -> None:
        super()._choose(combos)
        self.c_, self.intervention_ = self.c, self.kind


FORCED = {
    "additive": lambda: make_model("additive"),
    "auto (chosen on the measured pairs)": lambda: make_model("auto"),
    **{f"saturation c = {c:g}, forced": lambda c=c: Forced(c) for c in (0.5, 0.75, 1.0, 1.5)},
    "clamped targets, forced": lambda: Forced(kind="clamp"),
}


def forced_interactions_table(seeds: list[int]) -> list[str]:
    """GI calls on the held-out pairs of the GEARS simulation split of the cached `norman`
    screens, by the causal model with each interaction mechanism forced on."""
    scores = {name: [] for name in FORCED}
    for seed in seeds:
        data = load("norman", seed)
        split = splits_of(data["responses"], seed, data["folder"])["simulation"][0]
        train = data["responses"].subset(split.train)
        for name, make in FORCED.items():
            model = make().fit(train)
            pred = model.predict(split.test)
            own = model.predict(singles_of(split.test))
            s = score(pred, data, split.category, own)
            scores[name].append(s[s["category"].str.startswith("combo")])
    lines = [
        "",
        "**Can the held-out pairs' interactions be learnt?** GI calls on the pairs held out by "
        f"the GEARS simulation split of the same screens (seeds {', '.join(map(str, seeds))}), "
        "by the causal model with each of its interaction mechanisms forced on rather than "
        "chosen on the measured pairs:",
        "",
        "| model | GI call accuracy | calls made (synergy / additive / suppression) "
        "| non-additive calls that are right |",
        "|---|---|---|---|",
    ]
    for name, parts in scores.items():
        frame = pd.concat(parts)
        calls = frame["pred_call"].value_counts()
        made = " / ".join(str(int(calls.get(c, 0))) for c in ("synergy", "additive", "suppression"))
        called = frame[frame["pred_call"] != "additive"]
        right = f"{int(called['gi_correct'].sum())} of {len(called)}"
        lines.append(f"| {name} | {frame['gi_correct'].mean():.3f} | {made} | {right} |")
    truth = pd.concat(scores["additive"])["true_call"].value_counts()
    lines += [
        "",
        f"True calls: {truth.get('synergy', 0)} synergy, {truth.get('additive', 0)} additive, "
        f"{truth.get('suppression', 0)} suppression. Reading: forced on, saturation makes "
        "suppression calls, but no more often right than a guess (the truly "
        "suppressed pairs are a few percent), and clamping changes almost nothing: the "
        "non-additive pairs owe their interaction to pair-specific terms that leave no trace "
        "in the singles, so no setting of the model's interaction mechanisms beats the "
        "additive call; `auto` keeps additive shifts (by the one-SE rule on the measured "
        "pairs) and makes one spurious call.",
    ]
    return lines


def two_fold(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients more than 2-fold apart in absolute value (one gene dominates)."""
    a, b = np.abs(a), np.abs(b)
    return np.maximum(a, b) > 2 * np.minimum(a, b)


def pct(x) -> str:
    return f"{100 * np.mean(x):.1f}%"


def attenuation_table(seeds: list[int], real: pd.DataFrame, real_consistency) -> list[str]:
    """Norman et al.'s statistics on the simulated truth, on the simulated measurements and on
    the real (measured) table."""
    pairs = pd.concat([measured_vs_truth(s) for s in seeds])
    fits = ("truth", "measured, least squares", "measured, Theil-Sen")
    cols = {}
    for fit in fits:
        coef = np.stack(pairs[fit].to_numpy())
        mean = coef.mean(axis=1)
        consistency = [
            gene_consistency(g["a"], g["b"], np.stack(g[fit].to_numpy()))
            for _, g in pairs.groupby("seed")
        ]
        cols[fit] = [
            f"{np.median(mean):.3f}",
            pct(mean < 0.8),
            pct(mean > 1.2),
            ", ".join(f"{r:.2f}" for r, _ in consistency),
            ", ".join(f"{m:.2f}" for _, m in consistency),
        ]
    real_mean = (real["ts_coef_first"] + real["ts_coef_second"]) / 2
    cols["real, Theil-Sen (measured)"] = [
        f"{real_mean.median():.3f}",
        pct(real_mean < 0.8),
        pct(real_mean > 1.2),
        f"{real_consistency[0]:.2f}",
        f"{real_consistency[1]:.2f}",
    ]
    stats = (
        "median mean coefficient",
        "suppression (< 0.8)",
        "synergy (> 1.2)",
        "gene consistency (Spearman, per seed)",
        "MSE relative to one shared coefficient",
    )
    lines = [
        "",
        f"**Attenuation check**: Norman et al.'s coefficients on the simulated `norman` screens "
        f"(seeds {', '.join(map(str, seeds))}; {len(pairs)} pairs; 50 cells per perturbation) "
        "fitted on the noise-free truth and on the *measured* deltas, as the real table is "
        f"fitted (median correlation of the two measured singles {pairs['overlap'].median():.2f}, "
        f"real {real['corr_first_second'].median():.2f}):",
        "",
        "| statistic | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    lines += [
        f"| {stat} | " + " | ".join(c[i] for c in cols.values()) + " |"
        for i, stat in enumerate(stats)
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    start = time.perf_counter()
    sims = pd.concat([simulated_pairs(s) for s in args.seeds])
    real = pd.read_csv(TABLE)
    real_mean = (real["ts_coef_first"] + real["ts_coef_second"]) / 2
    real_apart = two_fold(real["ts_coef_first"].to_numpy(), real["ts_coef_second"].to_numpy())
    lines = [
        "## Genetic interactions of the simulator (preset `norman`) beside Norman et al. 2019",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs; causalcell "
        f"{cc.__version__}; {time.perf_counter() - start:.0f} s.",
        f"- Command: `python bench/sim_interactions.py --seeds {' '.join(map(str, args.seeds))}`",
        "- Simulated: every designed pair of `draw_world(get_preset('norman'))`, noise-free "
        "truth (`expected_deltas`). Real: Norman et al.'s per-pair table "
        "(`regr_fits_final.csv`, 125 pairs), coefficients fitted on measured profiles; the "
        "mean of the two coefficients stands in for the interaction score.",
        "",
        "| statistic | simulated | real (Norman et al.) |",
        "|---|---|---|",
    ]
    table = [
        ("pairs", f"{len(sims)} ({len(args.seeds)} seeds)", f"{len(real)}"),
        (
            "median score [5-95%]",
            f"{sims['score'].median():.3f} [{sims['score'].quantile(0.05):.3f}, "
            f"{sims['score'].quantile(0.95):.3f}]",
            f"{real_mean.median():.3f} [{real_mean.quantile(0.05):.3f}, "
            f"{real_mean.quantile(0.95):.3f}]",
        ),
        ("synergy (> 1.2)", pct(sims["call"] == "synergy"), pct(real_mean > 1.2)),
        ("suppression (< 0.8)", pct(sims["call"] == "suppression"), pct(real_mean < 0.8)),
        (
            "coefficients > 2-fold apart (one gene dominates)",
            pct(two_fold(sims["coef_a"].to_numpy(), sims["coef_b"].to_numpy())),
            pct(real_apart),
        ),
        (
            "median correlation of the two singles' profiles",
            f"{sims['overlap'].median():.2f}",
            f"{real['corr_first_second'].median():.2f} (measured)",
        ),
    ]
    sim_consistency = [
        gene_consistency(g["a"], g["b"], g[["coef_a", "coef_b"]].to_numpy())
        for _, g in sims.groupby("seed")
    ]
    names = real["name"].str.split("_", expand=True)
    real_consistency = gene_consistency(
        names[0], names[1], real[["ts_coef_first", "ts_coef_second"]].to_numpy(float)
    )
    table += [
        (
            "gene consistency: Spearman of a held-out pair's mean coefficient predicted from "
            "its genes' other pairs",
            ", ".join(f"{r:.2f}" for r, _ in sim_consistency) + " (per seed)",
            f"{real_consistency[0]:.2f}",
        ),
        (
            "its MSE relative to one coefficient shared by all pairs (below 1: gene-consistent)",
            ", ".join(f"{m:.2f}" for _, m in sim_consistency),
            f"{real_consistency[1]:.2f}",
        ),
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table]
    lines += attenuation_table(args.seeds, real, real_consistency)
    lines += forced_interactions_table(args.seeds)
    nonadd = sims["call"] != "additive"
    related = sims["related"] & ~sims["term"]
    lines += [
        "",
        "Where the simulated non-additive pairs come from: pairs with a pair-specific AND/OR "
        f"term are non-additive in {pct(nonadd[sims['term']])} of cases, related pairs without "
        f"one in {pct(nonadd[related])}, unrelated pairs in "
        f"{pct(nonadd[~sims['related'] & ~sims['term']])}.",
        "",
        "Reading the attenuation check: the simulated truth is additive (median coefficient "
        "about 1) and its interactions are not a property of the genes, yet the same "
        "coefficients fitted on its measured profiles are strongly sub-additive and "
        "gene-consistent, more so than the real table: regressing a noisy double on noisy "
        "singles over all genes attenuates the slopes (errors in variables; most genes carry "
        "noise only), and a gene with a weak single is attenuated in every pair it is in. So "
        "the real table's sub-additivity and gene consistency can come from measurement "
        "alone; they are no evidence that real interactions are predictable from gene "
        "identity (`bench/predict_norman_gi.py` predicts what such a regression will show, "
        "attenuation included). Noise cannot raise the overlap of two singles, only lower it: "
        "that difference is real.",
        "",
        "Reading: the preset has a clear non-additive minority, mostly from its AND/OR terms "
        "(random sign). The real table is dominated by sub-additive fits, and one gene "
        "dominates more often. Part of both is attenuation: the coefficients are fitted on "
        "noisy measured singles (errors in variables), and a gene with a weak, noisy single "
        "gets a small coefficient (the attenuation check above: at the preset's noise level it produces more than all of it). "
        "Without the expression matrix (not "
        "obtainable here) the two cannot be separated. One difference noise cannot explain is "
        "the overlap: the two singles of a real pair share their changes (a correlation of "
        "*measured* profiles, which noise only lowers), while the simulated singles barely "
        "overlap. So a simulated pair mostly adds changes on different genes, and its "
        "interactions cannot be learnt from its singles or other pairs "
        "(docs/benchmarks/predict_simulated.md). "
        "Checked by `tests/sim/test_interactions.py` on a scaled-down `norman`.",
        "",
    ]
    write_text_atomic(SECTION, "\n".join(lines))
    print(SECTION.read_text())


if __name__ == "__main__":
    main()
