"""Escaping cells: which perturbed cells look like controls (semi-parametric, local FDR).

A perturbed cell's score is the projection of its expression, minus the control mean of its
batch, on its perturbation's signature (see ``_engine._score_pass``): controls score about 0,
responders score high. Escapers look like controls, so their scores follow the control score
distribution ``f0``, which is known from control cells (a Gaussian: a score is a sum over many
genes). Unlike Mixscape (Papalexi et al. 2021), the responders' score distribution is *not*
assumed Gaussian: on log1p counts it is skewed and a Gaussian responder component mistakes its
left tail for escapers. Instead:

- the escaper fraction ``pi0`` is Storey's estimator on the one-sided null p-values: cells
  scoring below the null median are escapers' half, ``pi0 = 2 * P(score < null median)``
  (unbiased when responders rarely score below the null median, conservative otherwise);
- each cell's escape probability is Efron's local false discovery rate
  ``pi0 * f0(s) / f(s)``, with ``f`` a kernel density of the perturbed cells' scores
  (scipy's ``gaussian_kde``), smoothed by a logistic curve in ``s`` (fitted to the raw local
  FDRs by cross-entropy) so that it decreases strictly with the score and keeps its ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import minimize
from scipy.special import expit, log_expit

_MAX_KDE_POINTS = 4000  # density fit on a deterministic subsample: KDE cost is O(fit x eval)


@dataclass
class EscapeFit:
    """Escape model of one perturbation's cells."""

    escape_fraction: float
    null_mean: float
    null_sd: float
    null_median: float

    @property
    def responder_fraction(self) -> float:
        return 1.0 - self.escape_fraction


def null_fraction(scores: np.ndarray, null_median: float) -> float:
    """Storey-type escaper fraction: twice the share of cells scoring below the null median."""
    if len(scores) == 0:
        return float("nan")
    return float(min(1.0, 2.0 * np.mean(scores < null_median)))


def fit_escape(scores: np.ndarray, null_scores: np.ndarray) -> tuple[EscapeFit, np.ndarray]:
    """Escaper fraction of a perturbation and each cell's probability of having escaped.

    Parameters
    ----------
    scores
        Scores of the perturbed cells.
    null_scores
        Scores of control cells on the same signature (the escapers' distribution).

    Returns
    -------
    EscapeFit, ndarray
        The fit and the per-cell escape probabilities (local FDR).
    """
    mu0 = float(np.mean(null_scores))
    sd0 = max(float(np.std(null_scores, ddof=1)), 1e-9)
    median0 = float(np.median(null_scores))
    pi0 = null_fraction(scores, median0)
    fit = EscapeFit(pi0, mu0, sd0, median0)
    if len(scores) < 3 or np.ptp(scores) == 0:
        return fit, np.full(len(scores), pi0)
    step = max(1, len(scores) // _MAX_KDE_POINTS)
    density = stats.gaussian_kde(np.sort(scores)[::step])(scores)
    lfdr = np.minimum(1.0, pi0 * stats.norm.pdf(scores, mu0, sd0) / np.maximum(density, 1e-300))
    return fit, _logistic_smooth(scores, lfdr, mu0, sd0)


def _logistic_smooth(scores: np.ndarray, target: np.ndarray, mu0: float, sd0: float) -> np.ndarray:
    """Fit ``expit(a - b * z)`` (``z`` = standardised score, ``b >= 0``) to soft labels ``target``."""
    z = (scores - mu0) / sd0

    def loss(theta: np.ndarray) -> float:
        eta = theta[0] - np.exp(theta[1]) * z
        return -float(np.mean(target * log_expit(eta) + (1 - target) * log_expit(-eta)))

    theta = minimize(loss, x0=np.array([0.0, 0.0]), method="L-BFGS-B").x
    return expit(theta[0] - np.exp(theta[1]) * z)
