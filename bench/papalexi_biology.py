"""Papalexi et al. 2021: on-target knockdown and interferon-gamma pathway biology, with figures.

Writes docs/benchmarks/papalexi_biology.md and the figures in docs/figures/.
Usage: ``python bench/papalexi_biology.py``.
"""

from __future__ import annotations

import platform
import time
from datetime import date
from pathlib import Path

import matplotlib

import causalcell as cc

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
MEASURED = ["STAT1", "JAK2", "CMTM6", "STAT2", "UBE2L6", "STAT3", "TNFRSF14", "IFNGR2", "NFKBIA"]
KOS = ["IFNGR1", "IFNGR2", "JAK2", "STAT1"]
ISGS = ["STAT1", "PSMB9", "UBE2L6", "STAT2"]


def main() -> None:
    t0 = time.perf_counter()
    adata = cc.datasets.papalexi2021()
    eff = cc.effects.effects(adata, rng=0, progress=False)
    cal = cc.effects.null_calibration(cc.io.validate_cells(adata), rng=0)
    seconds = time.perf_counter() - t0
    figures = ROOT / "docs" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    cc.pl.knockdown(eff).savefig(figures / "papalexi_knockdown.png", dpi=90)
    cc.pl.effect_heatmap(eff).savefig(figures / "papalexi_heatmap.png", dpi=90)
    cc.pl.calibration_qq(cal.pvals.ravel(), eff.layers["pval"].ravel()).savefig(
        figures / "papalexi_qq.png", dpi=90
    )
    rows = [
        "## Papalexi et al. 2021: knockdown, pathway biology, calibration",
        "",
        f"- Date: {date.today()}; machine: {platform.machine()}, 2 CPUs; causalcell {cc.__version__}; "
        f"effects + calibration in {seconds:.1f} s.",
        "- Command: `python bench/papalexi_biology.py` (the same checks are tests in "
        "`tests/effects/test_papalexi.py`).",
        "",
        "On-target knockdown of the nine targets whose mRNA is measured (fraction of mRNA lost, "
        "FDR of the target's own delta, Benjamini-Hochberg over all 25 x 299 pairs):",
        "",
        "| target | cells | knockdown | delta | FDR |",
        "|---|---|---|---|---|",
    ]
    for t in MEASURED:
        i, j = eff.obs_names.get_loc(t), eff.var_names.get_loc(t)
        rows.append(
            f"| {t} | {eff.obs.loc[t, 'n_cells']} | {eff.obs.loc[t, 'knockdown']:.2f} "
            f"| {eff.layers['delta'][i, j]:.2f} | {eff.layers['fdr'][i, j]:.1e} |"
        )
    rows += [
        "",
        "Interferon-gamma pathway: knocking out the receptor (IFNGR1, IFNGR2), JAK2 or STAT1 "
        "lowers STAT1-dependent interferon-response genes (delta, log1p CP10k; all FDR < 0.05):",
        "",
        "| knockout | " + " | ".join(ISGS) + " |",
        "|---|" + "---|" * len(ISGS),
    ]
    for ko in KOS:
        i = eff.obs_names.get_loc(ko)
        cells_ = [f"{eff.layers['delta'][i, eff.var_names.get_loc(g)]:.2f}" for g in ISGS]
        rows.append(f"| {ko} | " + " | ".join(cells_) + " |")
    rows += [
        "",
        f"Calibration: random groups of {cal.group_size} non-targeting cells against the other "
        f"non-targeting cells give {cal.fraction_below_05:.3f} of p-values below 0.05 (0.05 expected).",
        "",
        "![knockdown](figures/papalexi_knockdown.png) ![heatmap](figures/papalexi_heatmap.png) "
        "![qq](figures/papalexi_qq.png)",
        "",
    ]
    (ROOT / "docs" / "benchmarks").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks" / "papalexi_biology.md").write_text("\n".join(rows))


if __name__ == "__main__":
    main()
