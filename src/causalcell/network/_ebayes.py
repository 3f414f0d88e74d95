"""Empirical Bayes for edge statistics: a two-group model with a prior per source.

A regulator's perturbation moves many genes a little; a non-regulator's moves none. Ranking
edges by their own z-score ignores this: a weak |z| = 3 is likely real in the row of a hub
whose other targets also move, and likely noise in the row of a gene that regulates nothing.
The model (Efron's two-group model with a source-specific non-null proportion, the normal
scale mixture of Stephens' ashr for the alternative)::

    z[i, j] ~ (1 - p_i) N(0, s0^2) + p_i sum_k w_k N(0, s0^2 (1 + g_k^2))

is fitted by EM: ``s0`` (the empirical null scale), the alternative weights ``w`` (shared) and
``p_i`` (per source, or one shared value). It returns the likelihood ratio of each statistic
under the alternative, the prior of each row and the posterior probability of a non-null
entry. Posteriors of independent statistics combine as naive Bayes: prior odds times the
product of likelihood ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from causalcell._errors import InputError

GRID = (1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass
class TwoGroupFit:
    """Fitted two-group model.

    Attributes
    ----------
    lr
        Likelihood ratio ``f1(z) / f0(z)`` of each entry (1 on masked entries).
    prior
        Non-null proportion ``p_i`` of each row.
    posterior
        ``P(non-null | z)`` of each entry (0 on masked entries).
    s0
        Scale of the (empirical) null.
    weights
        Weights of the alternative's scale components.
    """

    lr: np.ndarray
    prior: np.ndarray
    posterior: np.ndarray
    s0: float
    weights: np.ndarray


def _normal_pdf(x: np.ndarray, scale) -> np.ndarray:
    return np.exp(-0.5 * (x / scale) ** 2) / (np.sqrt(2 * np.pi) * scale)


def two_group_fit(
    z: np.ndarray | tuple[np.ndarray, ...],
    mask: np.ndarray | None = None,
    *,
    per_row: bool = True,
    signs_agree: bool = False,
    grid: tuple[float, ...] = GRID,
    n_iter: int = 300,
    tol: float = 1e-3,
) -> TwoGroupFit:
    """Fit the two-group model to the statistics ``z`` (rows = sources) by EM.

    Parameters
    ----------
    z
        Rows x columns of z-like statistics, or a tuple of such arrays: independent statistics
        of the same entries given its state (null or not), each with its own null scale and
        alternative, one prior per entry (a joint model).
    mask
        Entries to model (False: left out, e.g. a source's own gene); all when None.
    per_row
        One non-null proportion per row (True) or one for all rows.
    signs_agree
        With two signed statistics: under the alternative they agree in sign with probability
        ``q`` (fitted), under the null with probability 1/2.
    grid
        Alternative scales ``g_k`` relative to the null (``sd = s0 sqrt(1 + g_k^2)``).
    n_iter, tol
        EM iterations and the tolerance on the change of the priors.

    Returns
    -------
    TwoGroupFit
        ``s0`` and ``weights`` of the first statistic.
    """
    stats = [np.nan_to_num(np.asarray(a, float)) for a in (z if isinstance(z, tuple) else (z,))]
    mask = np.ones(stats[0].shape, bool) if mask is None else np.asarray(mask, bool)
    if stats[0].ndim != 2 or any(a.shape != mask.shape for a in stats) or not mask.any():
        raise InputError("two_group_fit needs 2-D statistics and a mask with modelled entries")
    if signs_agree and len(stats) != 2:
        raise InputError("signs_agree needs exactly two statistics")
    stats = [np.where(mask, a, 0.0) for a in stats]
    agree = np.sign(stats[0]) * np.sign(stats[1]) > 0 if signs_agree else None
    g2 = np.asarray(grid, float) ** 2
    s0 = [max(1.4826 * float(np.median(np.abs(a[mask]))), 1e-8) for a in stats]
    w = [np.full(g2.size, 1.0 / g2.size) for _ in stats]
    p, q = np.full(mask.shape[0], 0.05), 0.5
    n = mask.sum(axis=1)
    for _ in range(n_iter):
        f0 = [_normal_pdf(a, s) for a, s in zip(stats, s0, strict=True)]
        fk = [
            _normal_pdf(a[..., None], s * np.sqrt(1 + g2)) * wk
            for a, s, wk in zip(stats, s0, w, strict=True)
        ]
        f1 = [f.sum(axis=-1) for f in fk]
        lr = np.prod([b / np.maximum(a, 1e-300) for a, b in zip(f0, f1, strict=True)], axis=0)
        if agree is not None:
            lr = lr * np.where(agree, 2 * q, 2 * (1 - q))
        r = np.where(mask, posterior(p, lr), 0.0)
        new_p = r.sum(axis=1) / np.maximum(n, 1) if per_row else np.full_like(p, r.sum() / n.sum())
        new_p = np.clip(new_p, 1e-4, 0.999)
        for k, (a, f, g) in enumerate(zip(stats, fk, f1, strict=True)):
            wk = (r[..., None] * f / np.maximum(g[..., None], 1e-300)).sum(axis=(0, 1))
            w[k] = wk / wk.sum() if wk.sum() > 0 else np.full(g2.size, 1.0 / g2.size)
            s0[k] = float(np.sqrt(np.sum((1 - r) * a**2 * mask) / np.sum((1 - r) * mask)))
        if agree is not None:
            q = float(np.clip(np.sum(r * agree) / max(np.sum(r), 1e-12), 0.5, 0.999))
        done = np.max(np.abs(new_p - p)) < tol
        p = new_p
        if done:
            break
    lr = np.where(mask, np.clip(lr, 1e-300, 1e300), 1.0)
    post = np.where(mask, posterior(p, lr), 0.0)
    return TwoGroupFit(lr, p, post, s0[0], w[0])


def posterior(prior: np.ndarray, *lrs: np.ndarray) -> np.ndarray:
    """``P(non-null)`` from row priors and independent likelihood ratios (naive Bayes)."""
    log_odds = np.log(prior / (1 - prior))[:, None] + sum(
        np.log(np.maximum(lr, 1e-300)) for lr in lrs
    )
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


def direct_posterior(
    prior: np.ndarray,
    lr_total: np.ndarray,
    lr_cond: np.ndarray,
    mask: np.ndarray,
    *,
    direct_share: float = 1.0,
) -> np.ndarray:
    """Posterior of a direct edge from a total-effect and a conditional statistic.

    Three states per entry: null (neither statistic), indirect (a total effect whose
    conditional association vanishes given the mediators) and direct (both), with
    likelihood ratios ``lr_total`` = f1/f0 of the total statistic and ``lr_cond`` of the
    conditional one, the row's non-null proportion ``p_i`` (``prior``) and the direct share
    ``d`` of non-null entries::

        P(direct) = p d LRt LRc / ((1 - p) + p (1 - d) LRt + p d LRt LRc)

    With ``d = 1`` this is naive Bayes of the two statistics; with ``d < 1`` a strong total
    effect with no conditional association stays an indirect candidate (posterior
    ``d LRc / (1 - d + d LRc)``) instead of being carried by its large total z.
    Returns ``P(direct)`` per entry, 0 where ``mask`` is False.
    """
    return np.where(mask, _state_responsibilities(prior, lr_total, lr_cond, direct_share)[2], 0.0)


def _state_responsibilities(prior, lr_total, lr_cond, direct_share: float) -> np.ndarray:
    """P(null), P(indirect), P(direct) per entry (stacked on the first axis)."""
    d = float(direct_share)
    if not 0 < d <= 1:
        raise InputError(f"direct_share must be in (0, 1], got {direct_share}")
    p = np.clip(np.asarray(prior, float), 1e-4, 0.999)[:, None]
    llt = np.log(np.clip(lr_total, 1e-300, 1e300))
    llc = np.log(np.clip(lr_cond, 1e-300, 1e300))
    logs = np.stack(
        [
            np.broadcast_to(np.log1p(-p), llt.shape),
            np.log(p) + np.log(max(1 - d, 1e-300)) + llt,
            np.log(p) + np.log(d) + llt + llc,
        ]
    )
    return np.exp(logs - logsumexp(logs, axis=0))


#: Scales of the conditional statistic's mixture components, relative to its robust null scale.
COND_SCALES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0)


@dataclass
class ConditionalFit:
    """Distribution of a conditional statistic learned given the total-effect evidence.

    Attributes
    ----------
    lr
        Likelihood ratio ``f_direct(t) / f_other(t)`` of each entry (1 on masked entries).
    posterior
        ``P(direct)`` of each entry (0 on masked entries).
    scales
        Standard deviations of the normal components.
    w_other, w_direct
        Component weights of the statistic's density under null-or-indirect and under direct.
    """

    lr: np.ndarray
    posterior: np.ndarray
    scales: np.ndarray
    w_other: np.ndarray
    w_direct: np.ndarray


def conditional_fit(
    t: np.ndarray,
    prior: np.ndarray,
    lr_total: np.ndarray,
    mask: np.ndarray,
    *,
    direct_share: float = 1.0,
    max_entries: int = 400_000,
    n_iter: int = 500,
    tol: float = 1e-6,
) -> ConditionalFit:
    """Learn how a conditional statistic ``t`` is distributed in direct edges and in the rest.

    The total-effect evidence (row priors ``p_i`` and likelihood ratios ``lr_total`` of a
    fitted :func:`two_group_fit`) is held fixed and anchors the states; the densities of ``t``
    under "direct" and under "null or indirect" are normal scale mixtures on a grid
    (:data:`COND_SCALES` times the robust scale of ``t``) whose weights are fitted by EM in the
    three-state model of :func:`direct_posterior`. Nothing assumes how ``t`` behaves: if it
    carries no information on the state, both densities converge to the same mixture, the
    likelihood ratio to 1 and the posterior to the total-effect posterior times ``d``; if its
    null is wider than N(0, 1) (confounding grows with the number of cells), the null mixture
    takes the wide components. Fitting ``t`` on its own (its own two-group model, ignoring the
    total effects) instead calls every conditional association an edge (the previous default;
    docs/benchmarks/network_simulated.md), and refitting the row priors from ``t`` lets it
    feed on itself (seed 0 of preset ``perturbseq``: AUPR 0.39 with refitted priors, 0.49
    with the priors of the total effects).

    Parameters
    ----------
    t
        Conditional statistics (rows x columns).
    prior, lr_total
        Row priors and likelihood ratios of the total-effect statistic.
    mask
        Entries to model.
    direct_share
        ``d`` of :func:`direct_posterior`.
    max_entries
        The weights are fitted on an evenly spaced subset of at most this many entries (20
        parameters), then applied to all.
    n_iter, tol
        EM iterations and the tolerance on the gain in mean log-likelihood per entry.
    """
    t = np.nan_to_num(np.asarray(t, float))
    if t.shape != mask.shape or t.shape != lr_total.shape or not mask.any():
        raise InputError(
            "conditional_fit needs statistics, likelihood ratios and mask of one shape"
        )
    rows, cols = np.nonzero(mask)
    keep = np.unique(np.linspace(0, rows.size - 1, min(rows.size, max_entries)).astype(int))
    r_fit, c_fit = rows[keep], cols[keep]
    tf = t[r_fit, c_fit]
    scale = max(1.4826 * float(np.median(np.abs(tf))), 1e-8)
    scales = scale * np.asarray(COND_SCALES)
    comp = _normal_pdf(tf[:, None], scales[None, :])
    w_other = np.full(scales.size, 0.1 / scales.size)
    w_other[0] += 0.9
    w_direct = np.full(scales.size, 1.0 / scales.size)
    # P(direct | total evidence) of each fitted entry: the mixing weight of t's two densities
    q = _state_responsibilities(
        np.asarray(prior, float)[r_fit], lr_total[r_fit, c_fit][:, None], 1.0, direct_share
    )[2, :, 0]
    last = -np.inf
    for _ in range(n_iter):
        f_other, f_direct = comp @ w_other, comp @ w_direct
        density = np.maximum((1 - q) * f_other + q * f_direct, 1e-300)
        r_dir = q * f_direct / density
        w_other = _mixture_weights(comp, w_other, f_other, 1.0 - r_dir)
        w_direct = _mixture_weights(comp, w_direct, f_direct, r_dir)
        loglik = float(np.mean(np.log(density)))
        if loglik - last < tol:
            break
        last = loglik
    t_all = t[mask]
    lr = np.ones(t.shape)
    lr[mask] = _mixture_density(t_all, scales, w_direct) / np.maximum(
        _mixture_density(t_all, scales, w_other), 1e-300
    )
    post = direct_posterior(prior, lr_total, lr, mask, direct_share=direct_share)
    return ConditionalFit(lr, post, scales, w_other, w_direct)


def _mixture_density(x: np.ndarray, scales: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Density of a normal scale mixture, one component at a time (no entries x K array)."""
    return sum(w * _normal_pdf(x, s) for s, w in zip(scales, weights, strict=True) if w > 0)


def _mixture_weights(comp, weights, density, resp) -> np.ndarray:
    """M-step: component weights of a mixture from entries weighted by ``resp``."""
    w = (resp[:, None] * comp * weights / np.maximum(density, 1e-300)[:, None]).sum(axis=0)
    total = w.sum()
    return w / total if total > 0 else np.full(weights.size, 1.0 / weights.size)
