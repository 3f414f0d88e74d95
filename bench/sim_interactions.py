"""Genetic interactions of the simulator's `norman` preset beside Norman et al. 2019's real pairs.

For each designed pair of the preset (noise-free truth: ``draw_world`` + ``expected_deltas``
with the preset's truth panel): its interaction score (slope of the double's delta on the sum of
its singles', perturbed genes left out; synergy > 1.2, suppression < 0.8), whether it carries a
pair-specific AND/OR term or is a related pair (the two genes share a direct target), Norman
et al.'s two coefficients (the double regressed on the two singles, least squares over genes)
and the correlation of its two single profiles. Reference: the authors' per-pair table
``regr_fits_final.csv`` (125 CRISPRa pairs of K562, Theil-Sen coefficients of *measured*
profiles; its ``abs_log_ts_ratio`` is a log10).

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

import causalcell as cc
from causalcell._utils import write_text_atomic
from causalcell.predict import call_interaction
from causalcell.predict._interactions import interaction_score
from causalcell.sim import get_preset
from causalcell.sim._cells import expected_deltas
from causalcell.sim._world import draw_world

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
                "coef_a": coef[0],
                "coef_b": coef[1],
                "overlap": np.corrcoef(singles)[0, 1],
            }
        )
    out = pd.DataFrame(rows)
    out["call"] = [call_interaction(s) for s in out["score"]]
    out["seed"] = seed
    return out


def two_fold(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients more than 2-fold apart in absolute value (one gene dominates)."""
    a, b = np.abs(a), np.abs(b)
    return np.maximum(a, b) > 2 * np.minimum(a, b)


def pct(x) -> str:
    return f"{100 * np.mean(x):.1f}%"


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
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table]
    nonadd = sims["call"] != "additive"
    related = sims["related"] & ~sims["term"]
    lines += [
        "",
        "Where the simulated non-additive pairs come from: pairs with a pair-specific AND/OR "
        f"term are non-additive in {pct(nonadd[sims['term']])} of cases, related pairs without "
        f"one in {pct(nonadd[related])}, unrelated pairs in "
        f"{pct(nonadd[~sims['related'] & ~sims['term']])}.",
        "",
        "Reading: the preset has a clear non-additive minority, mostly from its AND/OR terms "
        "(random sign). The real table is dominated by sub-additive fits, and one gene "
        "dominates more often. Part of both is attenuation: the coefficients are fitted on "
        "noisy measured singles (errors in variables), and a gene with a weak, noisy single "
        "gets a small coefficient. Part is real buffering. Without the expression matrix (not "
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
