"""Escaping cells: a two-component mixture on per-cell perturbation scores (after Mixscape).

A perturbed cell's score is the projection of its expression, minus the control mean of its
batch, on its perturbation's signature, scaled so that the average perturbed cell scores about
1 and controls score about 0. Escapers look like controls, so their scores follow the controls'
score distribution: the mixture's null component is fixed to the controls' scores (as in
Mixscape, Papalexi et al. 2021) and only the responder component and the mixing weight are
learned. scikit-learn's GaussianMixture cannot hold one component fixed, hence this small EM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class MixtureFit:
    """Fitted two-component mixture of one perturbation's cell scores."""

    responder_fraction: float
    responder_mean: float
    responder_sd: float
    null_mean: float
    null_sd: float
    converged: bool


def fit_escape_mixture(
    scores: np.ndarray, null_scores: np.ndarray, *, max_iter: int = 200, tol: float = 1e-8
) -> tuple[MixtureFit, np.ndarray]:
    """Fit responder vs escaper mixture; return the fit and each cell's escape probability.

    Parameters
    ----------
    scores
        Scores of the perturbed cells.
    null_scores
        Scores of control cells on the same signature (defines the escaper component).
    max_iter
        Maximum EM iterations.
    tol
        Relative change of the log-likelihood that stops EM.
    """
    mu0, sd0 = float(np.mean(null_scores)), float(np.std(null_scores, ddof=1))
    sd0 = max(sd0, 1e-6)
    log_p0 = stats.norm.logpdf(scores, mu0, sd0)
    mu1, sd1, pi = max(float(np.quantile(scores, 0.75)), mu0 + sd0), sd0, 0.5
    ll_old = -np.inf
    converged = False
    for _ in range(max_iter):
        log_p1 = stats.norm.logpdf(scores, mu1, sd1)
        a, b = np.log1p(-pi) + log_p0, np.log(pi) + log_p1
        ll = np.logaddexp(a, b)
        r = np.exp(b - ll)  # responsibility of the responder component
        if abs(ll.sum() - ll_old) < tol * max(1.0, abs(ll_old)):
            converged = True
            break
        ll_old = ll.sum()
        mass = r.sum()
        if mass < 1e-9:  # everybody escaped: no responder component left
            pi, r = 0.0, np.zeros_like(r)
            converged = True
            break
        pi = float(np.clip(mass / len(scores), 1e-6, 1 - 1e-6))
        mu1 = float(np.sum(r * scores) / mass)
        sd1 = float(max(np.sqrt(np.sum(r * (scores - mu1) ** 2) / mass), 1e-3 * sd0))
    if mu1 < mu0:  # the free component sits on the wrong side: it is not a response
        r = np.zeros_like(r)
        pi = 0.0
    fit = MixtureFit(float(r.mean()) if len(r) else np.nan, mu1, sd1, mu0, sd0, converged)
    return fit, 1.0 - r
