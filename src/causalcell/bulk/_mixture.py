"""Kernels: what a bulk sample of a mixture of cell types measures (DESIGN.md, layer 3).

A bulk sample sums the UMIs of its cells, so its expected profile is the proportion-weighted
sum of the cell types' expected counts per cell, ``sum_t p_t m_t``; on the analysis scale it
is ``log1p(1e4 * mix / sum(mix))``. The log of a sum is not the sum of logs: effects that
differ between cell types are diluted or change sign, effects confined to a rare type vanish,
and varying proportions move every gene at once (a hidden common cause).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from causalcell.effects._kernels import TARGET_SUM


def mixture_log1p(type_means: np.ndarray, proportions: np.ndarray) -> np.ndarray:
    """log1p CP10k of the bulk profile of each proportion draw.

    Parameters
    ----------
    type_means
        (types, genes) expected counts per cell of each type.
    proportions
        (draws, types) cell-type proportions of each sample.

    Returns
    -------
    ndarray
        (draws, genes).
    """
    pooled = proportions @ type_means
    totals = pooled.sum(axis=1, keepdims=True)
    return np.log1p(TARGET_SUM * pooled / np.where(totals > 0, totals, 1.0))


def bulk_delta(
    ctrl_means: np.ndarray, pert_means: np.ndarray, proportions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected bulk delta (perturbed minus control samples) and its per-sample variance.

    The same proportion draws serve both conditions (common random numbers: the expectation
    is that of independent samples, with less Monte Carlo noise); the variance is that of the
    difference between one perturbed and one independent control sample, the composition
    noise a bulk comparison has to average away.
    """
    ctrl = mixture_log1p(ctrl_means, proportions)
    pert = mixture_log1p(pert_means, proportions)
    return pert.mean(axis=0) - ctrl.mean(axis=0), pert.var(axis=0) + ctrl.var(axis=0)


def samples_needed(
    delta: np.ndarray, variance: np.ndarray, alpha: float = 0.05, power: float = 0.8
) -> np.ndarray:
    """Bulk samples per condition for a two-sided z-test at ``alpha`` to detect ``delta`` with
    ``power`` when each sample difference has ``variance`` (inf where ``delta`` is 0)."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil(z**2 * variance / delta**2)
    return np.where(np.abs(delta) > 0, np.maximum(n, 1), np.inf)
