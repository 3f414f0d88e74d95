"""Cross-scale concordance figure: DML against MR z-scores, one panel per cell type."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd


def concordance_scatter(
    merged: pd.DataFrame,
    summary: pd.DataFrame | None = None,
    *,
    highlight: Collection[str] = (),
    label_top: int = 5,
):
    """DML z-score against MR z-score of each gene, one panel per cell type.

    Parameters
    ----------
    merged
        Output of :func:`causalcell.concordance.merge_effects` (``cell_type, gene, dml_z,
        mr_z``).
    summary
        Output of :func:`causalcell.concordance.concordance`; its ``r`` and ``pval`` go in the
        panel titles.
    highlight
        Genes drawn in red (e.g. the true causal genes of a simulation).
    label_top
        Genes with the largest ``|dml_z * mr_z|`` named in each panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cell_types = sorted(merged["cell_type"].unique())
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.4 * len(cell_types), 3.6), layout="constrained")
    axes = fig.subplots(1, len(cell_types), squeeze=False, sharey=True)
    stats = summary.set_index("cell_type") if summary is not None else None
    xlim = float(np.nanmax(np.abs(merged["mr_z"]))) * 1.1
    ylim = float(np.nanmax(np.abs(merged["dml_z"]))) * 1.1
    for ax, ct in zip(axes[0], cell_types, strict=True):
        sub = merged[merged["cell_type"] == ct]
        red = sub["gene"].isin(set(highlight)).to_numpy()
        ax.axhline(0, c="0.7", lw=0.8)
        ax.axvline(0, c="0.7", lw=0.8)
        ax.scatter(sub["mr_z"][~red], sub["dml_z"][~red], s=10, c="0.35", alpha=0.7, lw=0)
        ax.scatter(sub["mr_z"][red], sub["dml_z"][red], s=22, c="tab:red", lw=0, label="causal")
        top = sub.assign(s=np.abs(sub["dml_z"] * sub["mr_z"])).nlargest(label_top, "s")
        for _, row in top.iterrows():
            ax.annotate(row["gene"], (row["mr_z"], row["dml_z"]), fontsize=6, alpha=0.8)
        title = str(ct)
        if stats is not None and ct in stats.index:
            title += f"\nr = {stats.loc[ct, 'r']:.2f}, permutation p = {stats.loc[ct, 'pval']:.3g}"
        ax.set_title(title, fontsize=9)
        ax.set_xlim(-xlim, xlim)
        ax.set_ylim(-ylim, ylim)
        ax.set_xlabel("MR z (population)")
        if red.any():
            ax.legend(frameon=False, fontsize=7, loc="upper left")
    axes[0, 0].set_ylabel("DML z (single cells)")
    return fig
