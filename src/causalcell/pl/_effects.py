"""Figures of the effects engine's results."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad
    from matplotlib.figure import Figure


def _figure(width: float = 6.0, height: float = 4.0) -> tuple[Figure, object]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def volcano(effects: ad.AnnData, *, fdr: float = 0.05, max_points: int = 200_000) -> Figure:
    """All perturbation x gene pairs: effect against -log10 p; on-target pairs highlighted."""
    fig, ax = _figure()
    delta = effects.layers["delta"].ravel()
    p = effects.layers["pval"].ravel()
    q = effects.layers["fdr"].ravel()
    ok = np.isfinite(delta) & np.isfinite(p)
    idx = np.flatnonzero(ok)
    if len(idx) > max_points:  # deterministic thinning keeps the figure light
        idx = idx[:: len(idx) // max_points + 1]
    y = -np.log10(np.maximum(p[idx], 1e-300))
    sig = q[idx] < fdr
    ax.scatter(delta[idx][~sig], y[~sig], s=3, c="0.7", rasterized=True, label="not significant")
    ax.scatter(delta[idx][sig], y[sig], s=4, c="tab:red", rasterized=True, label=f"FDR < {fdr}")
    genes = list(effects.var_names)
    on = [(i, genes.index(p_)) for i, p_ in enumerate(effects.obs_names) if p_ in genes]
    if on:
        r, c = np.array(on).T
        ax.scatter(
            effects.layers["delta"][r, c],
            -np.log10(np.maximum(effects.layers["pval"][r, c], 1e-300)),
            s=30,
            facecolors="none",
            edgecolors="k",
            label="on-target",
        )
    ax.set_xlabel("delta (log1p CP10k, perturbed - control)")
    ax.set_ylabel("-log10 p")
    ax.legend(frameon=False, fontsize=8)
    return fig


def effect_heatmap(effects: ad.AnnData, *, n_genes: int = 40, fdr: float = 0.05) -> Figure:
    """Effects of every perturbation on the genes most often changed, clustered both ways."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    delta = np.nan_to_num(effects.layers["delta"])
    hits = (effects.layers["fdr"] < fdr).sum(axis=0) + np.abs(delta).max(axis=0) / (
        np.abs(delta).max() + 1e-12
    )
    cols = np.argsort(-hits)[: min(n_genes, delta.shape[1])]
    sub = delta[:, cols]
    rows = leaves_list(linkage(sub, "average")) if sub.shape[0] > 2 else np.arange(sub.shape[0])
    order_c = (
        leaves_list(linkage(sub.T, "average")) if sub.shape[1] > 2 else np.arange(sub.shape[1])
    )
    sub = sub[np.ix_(rows, order_c)]
    lim = float(np.quantile(np.abs(sub), 0.99)) or 1.0
    fig, ax = _figure(max(6, 0.18 * sub.shape[1] + 2), max(4, 0.16 * sub.shape[0] + 1.5))
    im = ax.imshow(sub, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xticks(
        range(sub.shape[1]), np.asarray(effects.var_names)[cols][order_c], rotation=90, fontsize=6
    )
    ax.set_yticks(range(sub.shape[0]), np.asarray(effects.obs_names)[rows], fontsize=6)
    fig.colorbar(im, ax=ax, label="delta")
    return fig


def guide_efficacy(effects: ad.AnnData) -> Figure:
    """Per guide: efficacy along its perturbation's signature and fraction of responding cells."""
    guides: pd.DataFrame = effects.uns["guides"]
    fig, ax = _figure(max(6, 0.25 * effects.n_obs + 2), 4)
    perts = list(effects.obs_names)
    for metric, color, dx in (
        ("signature_ratio", "tab:blue", -0.12),
        ("responder_fraction", "tab:orange", 0.12),
    ):
        if metric in guides and guides[metric].notna().any():
            x = np.array([perts.index(p) for p in guides["perturbation"]]) + dx
            ax.scatter(x, guides[metric], s=14, c=color, label=metric.replace("_", " "))
    ax.axhline(0, c="0.5", lw=0.5)
    ax.set_xticks(range(len(perts)), perts, rotation=90, fontsize=7)
    ax.set_ylabel("per guide")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    return fig


def knockdown(effects: ad.AnnData) -> Figure:
    """On-target knockdown (fraction of mRNA lost) of perturbations whose target is measured."""
    table = effects.obs[effects.obs["knockdown"].notna()].sort_values("knockdown")
    fig, ax = _figure(6, max(2.5, 0.25 * len(table) + 1))
    ax.barh(table.index, table["knockdown"], color="tab:green")
    ax.set_xlabel("knockdown (1 - perturbed / control mean CP10k)")
    ax.axvline(0, c="0.3", lw=0.5)
    return fig


def calibration_qq(null_pvals: np.ndarray, observed_pvals: np.ndarray | None = None) -> Figure:
    """QQ plot of p-values: null (control pseudo-perturbations) and observed, against uniform."""
    fig, ax = _figure(4.5, 4.5)
    for pv, label, color in (
        (null_pvals, "control vs control (null)", "tab:blue"),
        (observed_pvals, "perturbations", "tab:red"),
    ):
        if pv is None:
            continue
        pv = np.sort(pv[np.isfinite(pv)])
        if pv.size == 0:
            continue
        expected = -np.log10((np.arange(1, pv.size + 1) - 0.5) / pv.size)
        ax.plot(expected, -np.log10(np.maximum(pv, 1e-300)), ".", ms=2, c=color, label=label)
    top = ax.get_xlim()[1]
    ax.plot([0, top], [0, top], c="k", lw=0.8)
    ax.set_xlabel("expected -log10 p")
    ax.set_ylabel("observed -log10 p")
    ax.legend(frameon=False, fontsize=8)
    return fig
