"""Figures of inferred networks and prediction benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalcell.pl._effects import _figure


def edge_heatmap(edges: pd.DataFrame, *, n_edges: int = 60):
    """Signed weights of the top ``n_edges`` edges as a source x target matrix."""
    top = edges.head(n_edges)
    mat = top.pivot_table(index="source", columns="target", values="weight", aggfunc="first")
    fig, ax = _figure(max(6, 0.2 * mat.shape[1] + 2), max(3, 0.25 * mat.shape[0] + 1.5))
    values = mat.to_numpy(float)
    lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    im = ax.imshow(
        values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest"
    )
    ax.set_xticks(range(mat.shape[1]), mat.columns, rotation=90, fontsize=6)
    ax.set_yticks(range(mat.shape[0]), mat.index, fontsize=7)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    fig.colorbar(im, ax=ax, label="weight (signed total effect)")
    return fig


def prediction_scores(
    summary: pd.DataFrame, metric: str = "pearson_delta_top20", ceiling: float | None = None
):
    """Mean score of each model (rows of ``summary``, with ``metric``, ``ci_low``, ``ci_high``)."""
    fig, ax = _figure(5, 3.2)
    y = np.arange(len(summary))
    err = np.vstack([summary[metric] - summary["ci_low"], summary["ci_high"] - summary[metric]])
    ax.barh(y, summary[metric], xerr=np.abs(err), color="tab:blue", alpha=0.8)
    ax.set_yticks(y, summary.index)
    if ceiling is not None and np.isfinite(ceiling):
        ax.axvline(ceiling, c="k", ls="--", lw=1, label="noise ceiling (split halves)")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel(metric.replace("_", " "))
    return fig
