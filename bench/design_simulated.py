"""Experiment design on simulated screens with known truth.

1. Reaching a target state: for each held-out perturbation of a screen, its measured response
   (without the genes that any candidate perturbs) is the state to reach; :func:`causalcell.design.reach_target`
   ranks every candidate (singles, or singles and pairs) under a predictor fitted without it.
   Scored by the rank of the perturbation that really produced the state, with the causalcell
   predictor (``auto``) vs the linear model of Ahlmann-Eltze et al. and the additive model
   (pairs) inside the same search, and the chance rank.
2. Choosing the next experiments: from 20 measured singles, four rounds of 20 more chosen from
   a pool by :func:`causalcell.design.next_experiments` (``uncertainty``, ``effect``,
   ``coverage``) vs at random; after each round the predictor is refitted and scored on 60 held-out genes against
   the simulator's exact deltas (Pearson delta on the top-20 DE genes).

Screens: cached by bench/predict_simulated.py in bench/_work/predict_sim/ (``perturbseq``
seeds; ``norman`` for pairs when present). Writes docs/benchmarks/design_simulated.md.
Usage: ``python bench/design_simulated.py [--seeds 0 1 2]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import causalcell as cc
from causalcell._utils import write_text_atomic
from causalcell.design import next_experiments, reach_target
from causalcell.predict import Responses, control_programs, make_model, pearson_delta

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "_work" / "predict_sim"
SECTION = ROOT / "docs" / "benchmarks" / "design_simulated.md"
WORK = ROOT / "bench" / "_work" / "design_sim"
REACH_MODELS = {"singles": ("auto", "linear"), "pairs": ("auto", "additive")}


def load(name: str, seed: int) -> tuple[Responses, pd.DataFrame] | None:
    """Measured responses (with control programs) and exact deltas of a cached screen."""
    folder = CACHE / f"{name}_s{seed}"
    if not (folder / "effects.h5ad").exists():
        return None
    responses = Responses.from_effects(ad.read_h5ad(folder / "effects.h5ad"))
    cells = cc.io.validate_cells(ad.read_h5ad(folder / "cells.h5ad"))
    responses.programs, responses.variance = control_programs(cells, rng=seed)
    truth = np.load(folder / "truth.npz")
    exact = pd.DataFrame(truth["delta"], index=truth["perturbations"], columns=truth["genes"])
    return responses, exact


def target_of(responses: Responses, label: str, candidates: list[str]) -> pd.Series:
    """The measured response of ``label`` without the genes that any candidate perturbs.

    Its own target genes would identify it trivially (their knockdown), and dropping only
    those would identify it too: every other candidate's own-gene column, with its large
    predicted change and uncertainty, would stay in the comparison.
    """
    row = pd.Series(responses.delta[responses.perturbations.get_loc(label)], index=responses.genes)
    return row.drop([g for g in candidates if g in row.index])


def reach(responses: Responses, kind: str, seed: int) -> list[dict]:
    """Ranks of the true perturbation among the designs, per model and risk."""
    rng = np.random.default_rng(seed)
    singles = [p for p in responses.perturbations if "+" not in p]
    pairs = [p for p in responses.perturbations if "+" in p]
    if kind == "singles":
        test = list(rng.choice(singles, len(singles) // 4, replace=False))
        train, order, n_candidates = [p for p in singles if p not in test], 1, len(singles)
    else:
        test = list(rng.choice(pairs, min(40, len(pairs) // 2), replace=False))
        train, order = singles + [p for p in pairs if p not in test], 2
        n_candidates = len(singles) * (len(singles) + 1) // 2
    rows = []
    for name in REACH_MODELS[kind]:
        start = time.perf_counter()
        model = make_model(name, random_state=seed).fit(responses.subset(train))
        for risk in (0.0, 1.0):
            for label in test:
                found = reach_target(
                    model,
                    target_of(responses, label, singles),
                    singles,
                    max_order=order,
                    beam=20,
                    risk=risk,
                    top=n_candidates,
                )
                rank = found.index.get_loc(label) + 1 if label in found.index else np.nan
                rows.append(
                    {
                        "kind": kind,
                        "seed": seed,
                        "model": name,
                        "risk": risk,
                        "rank": rank,
                        "candidates": n_candidates,
                        "seconds": time.perf_counter() - start,
                    }
                )
    return rows


def active(responses: Responses, exact: pd.DataFrame, seed: int, rounds: int = 4, k: int = 20):
    """Pearson delta top-20 on held-out genes after each round, per strategy."""
    rng = np.random.default_rng(seed)
    singles = [p for p in responses.perturbations if "+" not in p and p in exact.index]
    order = list(rng.permutation(singles))
    start_set, test, pool0 = order[:k], order[k : k + 60], order[k + 60 :]
    truth = exact.loc[test, responses.genes].to_numpy()
    rows = []
    for strategy in ("uncertainty", "effect", "coverage", "random"):
        done, pool = list(start_set), list(pool0)
        for r in range(rounds + 1):
            model = make_model("auto", random_state=seed).fit(responses.subset(done))
            pred = model.predict(test).to_numpy()
            score = np.mean([pearson_delta(p, t) for p, t in zip(pred, truth, strict=True)])
            rows.append(
                {
                    "seed": seed,
                    "strategy": strategy,
                    "round": r,
                    "measured": len(done),
                    "pearson": score,
                }
            )
            if r == rounds:
                break
            picks = next_experiments(model, pool, k, strategy=strategy, rng=seed + r)
            done += list(picks.index)
            pool = [p for p in pool if p not in set(picks.index)]
    return rows


def write_section(reach_rows: pd.DataFrame, active_rows: pd.DataFrame, seeds, wall) -> None:
    lines = [
        "## Experiment design on simulated screens",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, {os.cpu_count()} CPUs (shared "
        f"with other jobs); causalcell {cc.__version__}; whole run "
        f"{'not recorded' if np.isnan(wall) else f'{wall / 60:.1f} min'}.",
        f"- Command: `python bench/design_simulated.py --seeds {' '.join(map(str, seeds))}` "
        "(screens cached by bench/predict_simulated.py).",
        "- Reaching a target: the measured response of a held-out perturbation (without the genes "
        "that any candidate perturbs, so that no knockdown gives it away) is the state to "
        "reach; every candidate is ranked under a predictor fitted "
        "without it (singles: 25% of the perturbed genes held out, candidates = all perturbed "
        "genes, `perturbseq` seeds; pairs: 40 held-out pairs of `norman` seed 0, whose singles "
        "and the other pairs were measured, beam search (width 20) over all pairs). "
        "Chance: median rank = half the candidates.",
        "",
        "### Reaching a target state: rank of the true perturbation",
        "",
        "| screen | model | risk | targets | top-1 | top-10 | median rank | candidates | "
        "chance top-10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, name, risk), d in reach_rows.groupby(["kind", "model", "risk"]):
        n = int(d["candidates"].iloc[0])
        ranks = d["rank"].fillna(n)
        lines.append(
            f"| {kind} | {name} | {risk:g} | {len(d)} | {np.mean(ranks == 1):.2f} | "
            f"{np.mean(ranks <= 10):.2f} | {np.median(ranks):.0f} | {n} | {10 / n:.3f} |"
        )
    lines += [
        "",
        "### Choosing the next experiments (active learning)",
        "",
        "Pearson delta (top-20 DE genes, vs the exact deltas) on 60 held-out genes, mean over "
        "seeds; 20 measured singles, then rounds of 20 chosen from the pool.",
        "",
    ]
    wide = active_rows.groupby(["strategy", "measured"])["pearson"].mean().unstack()
    lines += ["| strategy | " + " | ".join(f"{c} measured" for c in wide.columns) + " |"]
    lines += ["|---" * (len(wide.columns) + 1) + "|"]
    for strategy, row in wide.iterrows():
        lines.append(f"| {strategy} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    lines += ["", "### Reading", "", *reading(reach_rows, wide)]
    write_text_atomic(SECTION, "\n".join(lines) + "\n")


def reading(reach_rows: pd.DataFrame, wide: pd.DataFrame) -> list[str]:
    """Sentences computed from the tables."""
    singles = reach_rows[(reach_rows["kind"] == "singles") & (reach_rows["risk"] == 0)]
    med = singles.groupby("model")["rank"].median()
    n = int(singles["candidates"].iloc[0])
    out = [
        f"- Unseen singles: the true perturbation ranks at median {med.get('auto', np.nan):.0f} "
        f"of {n} under causalcell's predictor vs {med.get('linear', np.nan):.0f} under the "
        f"linear model (chance {n / 2:.0f}).",
    ]
    risky = reach_rows[(reach_rows["kind"] == "singles") & (reach_rows["risk"] == 1)]
    if len(risky):
        with_risk = risky.groupby("model")["rank"].median().get("auto", np.nan)
        effect = (
            "helps"
            if with_risk < med.get("auto", np.nan)
            else "hurts"
            if with_risk > med.get("auto", np.nan)
            else "does not change"
        )
        out.append(
            "- With the uncertainty penalty (risk 1) the unseen singles rank at median "
            f"{with_risk:.0f} under causalcell's predictor: the penalty {effect} this search."
        )
    pairs = reach_rows[reach_rows["kind"] == "pairs"]
    if len(pairs):
        top10 = pairs.assign(hit=pairs["rank"] <= 10).groupby(["model", "risk"])["hit"].mean()
        out.append(
            f"- Held-out pairs (both singles measured): the true pair is among the top 10 of "
            f"{int(pairs['candidates'].iloc[0])} designs for {top10.get(('auto', 0.0), np.nan):.0%}"
            f" of targets under causalcell's predictor vs "
            f"{top10.get(('additive', 0.0), np.nan):.0%} under the additive model."
        )
        out.append(
            f"- The uncertainty penalty (risk 1) hurts the pair search ("
            f"{top10.get(('auto', 1.0), np.nan):.0%} in the top 10): measured training pairs carry "
            "only their standard errors while predicted ones carry model error, so the penalty "
            "favours experiments already done. The default is therefore risk 0."
        )
    first, last = wide.columns[0], wide.columns[-1]
    gains = (wide[last] - wide[first]).round(3).to_dict()
    best = max(gains, key=gains.get)
    out.append(
        f"- Active learning: Pearson gain from {first} to {last} measured genes per strategy: "
        + ", ".join(f"{k} {v:+.3f}" for k, v in gains.items())
        + f"; best: {best}."
        + (
            " No strategy beats random choice here: NOT a demonstrated benefit."
            if best == "random" or gains[best] - gains.get("random", 0) < 0.01
            else ""
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--doc-only", action="store_true", help="rewrite from saved rows")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.doc_only:
        reach_rows, active_rows = (pd.read_csv(WORK / f) for f in ("reach.csv", "active.csv"))
        meta = WORK / "wall_seconds.txt"
        wall = float(meta.read_text()) if meta.exists() else float("nan")
        write_section(reach_rows, active_rows, args.seeds, wall)
        return
    reach_rows, active_rows = [], []
    for seed in args.seeds:
        loaded = load("perturbseq", seed)
        if loaded is None:
            continue
        responses, exact = loaded
        reach_rows += reach(responses, "singles", seed)
        active_rows += active(responses, exact, seed)
        print(pd.DataFrame(reach_rows).groupby(["model", "risk"])["rank"].median(), flush=True)
        print(
            pd.DataFrame(active_rows).groupby(["strategy", "round"])["pearson"].mean(), flush=True
        )
    pairs = load("norman", args.seeds[0])
    if pairs is not None:
        reach_rows += reach(pairs[0], "pairs", args.seeds[0])
    WORK.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(reach_rows).to_csv(WORK / "reach.csv", index=False)
    pd.DataFrame(active_rows).to_csv(WORK / "active.csv", index=False)
    (WORK / "wall_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}")
    write_section(
        pd.DataFrame(reach_rows), pd.DataFrame(active_rows), args.seeds, time.perf_counter() - start
    )


if __name__ == "__main__":
    main()
