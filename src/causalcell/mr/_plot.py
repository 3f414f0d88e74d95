"""MR plots: scatter with method lines, forest and funnel. They only read the summary statistics
and the output of :func:`causalcell.mr.mr`; matplotlib is imported inside each function."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalcell.mr._core import ratio_estimates

__all__ = ["plot_forest", "plot_funnel", "plot_scatter"]

_Z = 1.959963984540054  # 97.5% normal quantile


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _ratios(sumstats: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    cols = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    return ratio_estimates(*(sumstats[c].to_numpy(dtype=float) for c in cols))


def _labels(sumstats: pd.DataFrame) -> list[str]:
    if "snp" in sumstats:
        return sumstats["snp"].astype(str).tolist()
    return [f"SNP {i + 1}" for i in range(len(sumstats))]


def plot_scatter(sumstats: pd.DataFrame, results: pd.DataFrame | None = None, ax=None):
    """Variant-outcome against variant-exposure associations, with one line per method.

    Variants are oriented so that ``beta_exposure > 0`` (as MR-Egger does); error bars are 95%
    intervals. Methods with an ``intercept`` column (MR-Egger) are drawn with it.

    Parameters
    ----------
    sumstats
        Summary statistics (as validated by :func:`causalcell.mr.read_sumstats`).
    results
        Output of :func:`causalcell.mr.mr` (optional).
    ax
        Matplotlib axes to draw on (a new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    sign = np.where(sumstats["beta_exposure"] < 0, -1.0, 1.0)
    bx, by = sumstats["beta_exposure"] * sign, sumstats["beta_outcome"] * sign
    ax.errorbar(
        bx,
        by,
        xerr=_Z * sumstats["se_exposure"],
        yerr=_Z * sumstats["se_outcome"],
        fmt="o",
        ms=3,
        color="0.3",
        ecolor="0.7",
        lw=0.8,
    )
    x = np.array([0.0, float(bx.max())])
    for row in (results if results is not None else pd.DataFrame()).itertuples():
        intercept = getattr(row, "intercept", np.nan)
        intercept = 0.0 if pd.isna(intercept) else intercept
        ax.plot(x, intercept + row.estimate * x, label=row.method)
    ax.axhline(0, color="0.8", lw=0.5)
    ax.set(xlabel="SNP effect on exposure", ylabel="SNP effect on outcome")
    if results is not None and len(results):
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_forest(sumstats: pd.DataFrame, results: pd.DataFrame | None = None, ax=None):
    """Per-variant Wald ratios with 95% intervals, followed by the method estimates.

    Parameters
    ----------
    sumstats
        Summary statistics.
    results
        Output of :func:`causalcell.mr.mr` (optional; drawn below the variants).
    ax
        Matplotlib axes to draw on (a new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    ratio, se = _ratios(sumstats)
    labels = _labels(sumstats)
    est, low, high = list(ratio), list(ratio - _Z * se), list(ratio + _Z * se)
    if results is not None:
        labels += results["method"].tolist()
        est += results["estimate"].tolist()
        low += results["ci_low"].tolist()
        high += results["ci_high"].tolist()
    y = -np.arange(len(labels))
    est, low, high = map(np.asarray, (est, low, high))
    colours = ["0.3"] * len(ratio) + ["C3"] * (len(labels) - len(ratio))
    ax.hlines(y, low, high, colors=colours, lw=1)
    ax.scatter(est, y, c=colours, s=12, zorder=3)
    ax.axvline(0, color="0.8", lw=0.5)
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlabel("causal estimate (95% CI)")
    return ax


def plot_funnel(sumstats: pd.DataFrame, results: pd.DataFrame | None = None, ax=None):
    """Funnel plot: precision ``1 / se`` of each Wald ratio against the ratio.

    Asymmetry suggests directional pleiotropy. Method estimates are drawn as vertical lines.

    Parameters
    ----------
    sumstats
        Summary statistics.
    results
        Output of :func:`causalcell.mr.mr` (optional).
    ax
        Matplotlib axes to draw on (a new figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    ratio, se = _ratios(sumstats)
    ax.scatter(ratio, 1 / se, s=12, color="0.3")
    for i, row in enumerate((results if results is not None else pd.DataFrame()).itertuples()):
        ax.axvline(row.estimate, color=f"C{i}", lw=1, label=row.method)
    ax.set(xlabel="Wald ratio estimate", ylabel="precision (1 / se)")
    if results is not None and len(results):
        ax.legend(frameon=False, fontsize="small")
    return ax
