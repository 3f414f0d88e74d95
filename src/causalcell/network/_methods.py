"""Network inference methods: pure functions on :class:`Profiles`, registered with metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.ensemble import ExtraTreesRegressor

from causalcell._errors import InputError
from causalcell.network._direct import regression_t, sparse_inverse
from causalcell.network._ebayes import conditional_fit, direct_posterior, two_group_fit
from causalcell.network._profiles import Profiles
from causalcell.network._total import TotalEffects, total_effects


@dataclass
class EdgeScores:
    """Scores and signed weights of candidate edges ``sources[i] -> genes[j]``."""

    score: np.ndarray
    weight: np.ndarray
    sources: pd.Index
    genes: pd.Index

    def to_frame(self) -> pd.DataFrame:
        """Edges with positive score, without self-loops, sorted by score (descending)."""
        i, j = np.nonzero(self.score > 0)
        src, tgt = self.sources[i], self.genes[j]
        keep = np.asarray(src != tgt)
        frame = pd.DataFrame(
            {
                "source": src[keep],
                "target": tgt[keep],
                "weight": self.weight[i, j][keep],
                "score": self.score[i, j][keep],
            }
        )
        return frame.sort_values(
            ["score", "source", "target"], ascending=[False, True, True], ignore_index=True
        )


@dataclass(frozen=True)
class NetworkMethod:
    """A registered method: its function and what it claims."""

    name: str
    fn: Callable[..., EdgeScores]
    description: str
    reference: str
    direct: bool


METHODS: dict[str, NetworkMethod] = {}


def register(name: str, description: str, reference: str = "", direct: bool = True):
    """Decorator adding a method to :data:`METHODS`."""

    def wrap(fn: Callable[..., EdgeScores]) -> Callable[..., EdgeScores]:
        METHODS[name] = NetworkMethod(name, fn, description, reference, direct)
        return fn

    return wrap


def list_methods() -> pd.DataFrame:
    """The registered methods as a table."""
    return pd.DataFrame(
        [(m.name, m.direct, m.description, m.reference) for m in METHODS.values()],
        columns=["method", "direct", "description", "reference"],
    ).set_index("method")


def _no_self(scores: EdgeScores) -> EdgeScores:
    col = {g: k for k, g in enumerate(scores.genes)}
    for i, s in enumerate(scores.sources):
        if s in col:
            scores.score[i, col[s]] = 0.0
    return scores


@register(
    "zscore",
    "Total effect as direct: |z| of the perturbation's effect (knockout z-score baseline)",
    "Prill et al. 2010; CausalBench",
    direct=False,
)
def zscore(profiles: Profiles, rng: np.random.Generator | None = None) -> EdgeScores:
    return _total_scores(total_effects(profiles))


def _total_scores(te: TotalEffects) -> EdgeScores:
    return _no_self(EdgeScores(np.abs(te.z), te.T, te.sources, te.genes))


@register(
    "correlation", "|Pearson correlation| of genes across conditions (undirected)", direct=False
)
def correlation(profiles: Profiles, rng: np.random.Generator | None = None) -> EdgeScores:
    r = np.nan_to_num(np.corrcoef(profiles.delta, rowvar=False))
    return _no_self(EdgeScores(np.abs(r), r, profiles.genes, profiles.genes))


def _measured(te: TotalEffects) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Sources with a per-unit total effect: names, rows in ``te``, columns among the genes."""
    rows = np.flatnonzero(te.per_unit)
    names = te.sources[rows]
    return names, rows, te.genes.get_indexer(names)


@register(
    "inverse",
    "Direct effects from a denoised sparse inverse of the per-unit total-effect matrix (all targets)",
    "Brown et al. (inspre) 2024; this package",
)
def inverse(
    profiles: Profiles,
    rng: np.random.Generator | None = None,
    *,
    ridge: float = 1e-3,
    z_min: float = 4.0,
) -> EdgeScores:
    """``G[S, S] = I - V / diag(V)``, ``G[S, U] = V R[S, U]`` with ``V = R[S, S]^-1`` on the
    measured perturbed genes ``S``; total effects with ``|z| < z_min`` are zeroed first and the
    score is ``|z|`` of the direct effect (see :func:`causalcell.network._direct.sparse_inverse`).
    """
    te = total_effects(profiles)
    names, rows, cols = _measured(te)
    if len(names) == 0:
        return EdgeScores(
            np.zeros((0, len(te.genes))), np.zeros((0, len(te.genes))), names, te.genes
        )
    G, z = sparse_inverse(te.T[rows], te.se[rows], cols, z_min=z_min, ridge=ridge)
    score = np.abs(z) if np.any(z) else np.abs(G)  # no standard errors: rank by effect size
    return _no_self(EdgeScores(score, G, names, te.genes))


@register(
    "observational",
    "|t| of each perturbed gene in the regression of each gene on all perturbed genes, "
    "within-condition covariance of single cells (undirected)",
    "this package",
    direct=False,
)
def observational(profiles: Profiles, rng: np.random.Generator | None = None) -> EdgeScores:
    te = total_effects(profiles)
    cov = profiles.covariance()
    if cov is None:
        raise InputError(
            "method 'observational' needs single cells with several cells per condition"
        )
    names, _, cols = _measured(te)
    t = regression_t(cov.C, cov.n, cols)
    return _no_self(EdgeScores(np.abs(t), t, names, te.genes))


def conditional_importance(
    profiles: Profiles,
    rng: np.random.Generator,
    te: TotalEffects | None = None,
    *,
    n_estimators: int = 300,
    max_candidates: int = 100,
    min_z: float = 0.0,
) -> tuple[np.ndarray, pd.Index]:
    """Importance of each measured perturbed gene for each gene across conditions.

    For target ``j``, the conditions that do not perturb ``j`` (plus the control, delta 0) are a
    set of interventional samples; ``j``'s effect is regressed on the effects of its candidate
    regulators with extremely randomised trees (scikit-learn). A regulator whose changes explain
    ``j``'s changes given the others is a direct parent; an indirect one is screened off by the
    intermediate gene (the conditional-independence view of the sparse inverse).

    Candidates are the measured perturbed genes with total-effect evidence on ``j``
    (``|z| >= min_z``, at most ``max_candidates``, strongest first): a gene with no total effect
    on ``j`` is not a direct parent under faithfulness, and every mediator of an indirect path
    has a total effect itself. A target with one candidate needs no disentangling (importance 1).
    Restricting candidates (``min_z=2``) is faster but loses weak direct parents: on DREAM4
    size-100 the default (all candidates, 300 trees) is best (see docs/benchmarks.md).
    ``te``: the total effects of ``profiles`` when the caller has them already.
    """
    te = total_effects(profiles) if te is None else te
    measured = np.flatnonzero(te.per_unit)
    regulators = te.sources[measured]
    reg_cols = profiles.genes.get_indexer(regulators)
    X_all = np.vstack([profiles.delta[:, reg_cols], np.zeros((1, len(reg_cols)))])
    strength = np.abs(te.z[measured])  # regulators x genes
    importance = np.zeros((len(regulators), len(profiles.genes)))
    seeds = rng.integers(0, 2**31 - 1, size=len(profiles.genes))
    for j, gene in enumerate(profiles.genes):
        s = np.where(regulators != gene, strength[:, j], 0.0)
        features = np.argsort(-s)[: min(max_candidates, int((s >= min_z).sum()))]
        if len(features) <= 1:
            importance[features, j] = 1.0
            continue
        rows = np.r_[~profiles.perturbs(gene), True]
        y = np.r_[profiles.delta[:, j], 0.0][rows]
        if rows.sum() < 3 or np.ptp(y) == 0:
            continue
        model = ExtraTreesRegressor(
            n_estimators=n_estimators, max_features="sqrt", random_state=int(seeds[j])
        )
        model.fit(X_all[rows][:, features], y)
        importance[features, j] = model.feature_importances_
    return importance, regulators


@register(
    "conditional",
    "Importance of each perturbed gene for each gene across interventional conditions (trees)",
    "Huynh-Thu et al. 2010 (GENIE3) on interventional profiles",
)
def conditional(
    profiles: Profiles, rng: np.random.Generator | None = None, **options
) -> EdgeScores:
    rng = np.random.default_rng(rng)
    te = total_effects(profiles)
    importance, regulators = conditional_importance(profiles, rng, te, **options)
    weight = te.T[te.sources.get_indexer(regulators)]
    return _no_self(EdgeScores(importance, weight, regulators, profiles.genes))


def _rank01(x: np.ndarray) -> np.ndarray:
    return rankdata(x, method="average").reshape(x.shape) / x.size


@register(
    "causalcell",
    "Direct edges: interventional total-effect evidence (IV z) combined with conditional "
    "evidence (within-condition covariance of cells, or conditional importance across "
    "conditions without replicate cells)",
    "this package",
)
def causalcell_direct(
    profiles: Profiles,
    rng: np.random.Generator | None = None,
    *,
    view: str = "auto",
    combine: str = "bayes",
    **options,
) -> EdgeScores:
    """Direct edges: a source must move the target (directed, instrumental-variable total
    effect) *and* stay associated with it given all other perturbed genes (conditional view).

    ``view``: ``"cells"`` uses the within-condition covariance of single cells
    (:func:`causalcell.network._direct.regression_t`), combined with the total effects as set by
    ``combine``. ``"bayes"`` (default): the posterior probability of a direct edge in a
    three-state model (null; indirect: a total effect without conditional association;
    direct: both; :func:`causalcell.network._ebayes.direct_posterior`) with a fixed direct
    share :data:`DIRECT_SHARE` of non-null total effects. The IV total z gets an empirical
    Bayes two-group model with a prior per source (a regulator moves many genes, a
    non-regulator none; :func:`causalcell.network._ebayes.two_group_fit`); the distribution of
    the conditional t in direct edges and in the rest is then learned given that evidence
    (:func:`causalcell.network._ebayes.conditional_fit`), so an uninformative t changes
    nothing and a t whose null widens with many cells is not over-trusted. ``"naive"``:
    direct share 1 (strong indirect edges are not screened off). ``"geometric"``:
    ``sqrt(|z_total| * |t_conditional|)``. ``"conditions"`` the rank average of
    ``|z_total|`` and the conditional importance of each perturbed gene across interventional
    conditions (trees, :func:`conditional_importance`, ``options`` go there); ``"auto"``
    (default): ``"cells"`` when the profiles come with replicate cells, else ``"conditions"``.
    """
    if view not in ("auto", "cells", "conditions"):
        raise InputError(f"view must be 'auto', 'cells' or 'conditions', got {view!r}")
    if combine not in ("bayes", "naive", "geometric"):
        raise InputError(f"combine must be 'bayes', 'naive' or 'geometric', got {combine!r}")
    rng = np.random.default_rng(rng)
    te = total_effects(profiles)
    total = _total_scores(te)
    cov = profiles.covariance() if view in ("auto", "cells") else None
    if cov is not None:
        _, rows, cols = _measured(te)
        t = np.ones_like(total.score)  # sources without a measured column: neutral
        t[rows] = np.abs(regression_t(cov.C, cov.n, cols))
        if combine == "geometric":
            score = np.sqrt(total.score * t)
        else:
            score = _bayes(te, t, rows, combine)
        return _no_self(EdgeScores(score, total.weight, total.sources, total.genes))
    if view == "cells":
        raise InputError("view='cells' needs single cells with several cells per condition")
    importance, regulators = conditional_importance(profiles, rng, te, **options)
    score = _rank01(total.score)
    rows = total.sources.get_indexer(regulators)
    score[rows] = 0.5 * (score[rows] + _rank01(importance))
    return _no_self(EdgeScores(score, total.weight, total.sources, total.genes))


#: Prior share of direct edges among non-null total effects in the default combination: most
#: total effects of a perturbation are direct in sparse networks (on the calibration simulation,
#: seed 3 of preset ``perturbseq``, not a reported seed: AUPR 0.519 at 0.8 and 0.9, 0.518 at
#: 0.95, 0.514 at 1 (naive Bayes), 0.501 at 0.5); below 1 so that a strong total effect without
#: conditional association is not called direct.
DIRECT_SHARE = 0.9


def _not_self(te: TotalEffects) -> np.ndarray:
    """Mask of the pairs (source, gene) where the gene is not the source itself."""
    mask = np.ones(te.T.shape, bool)
    cols = te.genes.get_indexer(te.sources)
    ok = cols >= 0
    mask[np.flatnonzero(ok), cols[ok]] = False
    return mask


def _bayes(te: TotalEffects, t: np.ndarray, rows: np.ndarray, combine: str) -> np.ndarray:
    """Posterior of a direct edge: source-prior two-group model of the IV z, then the
    distribution of the conditional t in direct edges and in the rest learned given it
    (:func:`causalcell.network._ebayes.conditional_fit`); ``combine='naive'``: direct share 1."""
    mask = _not_self(te)
    total = two_group_fit(te.z, mask, per_row=True)
    share = DIRECT_SHARE if combine == "bayes" else 1.0
    lr_t = np.ones_like(t)  # sources without a measured column: no conditional evidence
    if len(rows):
        fit = conditional_fit(
            t[rows], total.prior[rows], total.lr[rows], mask[rows], direct_share=share
        )
        lr_t[rows] = fit.lr
    return direct_posterior(total.prior, total.lr, lr_t, mask, direct_share=share)


@register(
    "zscore_eb",
    "Total effect as direct, empirical Bayes: posterior of a non-null IV total effect with a "
    "prior per source (no conditional evidence)",
    "Efron 2008 (two-group model); Stephens 2017 (ashr)",
    direct=False,
)
def zscore_eb(profiles: Profiles, rng: np.random.Generator | None = None) -> EdgeScores:
    """``P(total effect != 0 | z)`` under :func:`causalcell.network._ebayes.two_group_fit`
    with one non-null proportion per source: the z-score baseline with the evidence pooled
    over each source's targets, to separate that gain from the conditional evidence of
    ``causalcell``."""
    te = total_effects(profiles)
    fit = two_group_fit(te.z, _not_self(te), per_row=True)
    return _no_self(EdgeScores(fit.posterior, te.T, te.sources, te.genes))


# baselines register themselves on import (GENIE3-style trees, PC from causal-learn)
from causalcell.network import _baselines  # noqa: E402, F401
