"""Bulk recoverability figure: what bulk samples show against what the cells do."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLORS = {
    "recoverable": "#2b8cbe",
    "underpowered": "#a6bddb",
    "diluted": "#fdae61",
    "sign_flip": "#d7191c",
}


def recoverability_scatter(table: pd.DataFrame):
    """Left: bulk delta against the strongest per-type delta of every (perturbation, gene)
    pair with an effect, coloured by verdict; right: how many pairs got each verdict.

    Parameters
    ----------
    table
        :attr:`causalcell.bulk.Recoverability.table`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    shown = table[table["verdict"] != "none"]
    strongest = np.where(
        np.abs(shown["type_min"]) > np.abs(shown["type_max"]), shown["type_min"], shown["type_max"]
    )
    fig = Figure(figsize=(8.5, 3.8), layout="constrained")
    ax, bars = fig.subplots(1, 2, width_ratios=(1.4, 1))
    for verdict, color in COLORS.items():
        pick = (shown["verdict"] == verdict).to_numpy()
        ax.scatter(strongest[pick], shown["bulk_delta"][pick], s=6, c=color, label=verdict)
    lim = float(np.nanmax(np.abs(np.r_[strongest, shown["bulk_delta"], 0.1])))
    ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls="--")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.set(xlabel="strongest cell-type delta", ylabel="bulk delta (mixture)")
    ax.legend(fontsize=7, markerscale=2, frameon=False)
    counts = shown["verdict"].value_counts().reindex(list(COLORS), fill_value=0)
    bars.barh(list(COLORS), counts.to_numpy(), color=list(COLORS.values()))
    bars.invert_yaxis()
    bars.set(xlabel="(perturbation, gene) pairs")
    return fig
