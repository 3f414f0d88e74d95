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
    profiles: Profiles, rng: np.random.Generator | None = None, *, view: str = "auto", **options
) -> EdgeScores:
    """Direct edges: a source must move the target (directed, instrumental-variable total
    effect) *and* stay associated with it given all other perturbed genes (conditional view).

    ``view``: ``"cells"`` uses the within-condition covariance of single cells (score
    ``sqrt(|z_total| * |t_conditional|)``, a geometric mean of two z-like statistics, see
    :func:`causalcell.network._direct.regression_t`); ``"conditions"`` the rank average of
    ``|z_total|`` and the conditional importance of each perturbed gene across interventional
    conditions (trees, :func:`conditional_importance`, ``options`` go there); ``"auto"``
    (default): ``"cells"`` when the profiles come with replicate cells, else ``"conditions"``.
    """
    if view not in ("auto", "cells", "conditions"):
        raise InputError(f"view must be 'auto', 'cells' or 'conditions', got {view!r}")
    rng = np.random.default_rng(rng)
    te = total_effects(profiles)
    total = _total_scores(te)
    cov = profiles.covariance() if view in ("auto", "cells") else None
    if cov is not None:
        _, rows, cols = _measured(te)
        t = np.ones_like(total.score)  # sources without a measured column: neutral
        t[rows] = np.abs(regression_t(cov.C, cov.n, cols))
        return _no_self(
            EdgeScores(np.sqrt(total.score * t), total.weight, total.sources, total.genes)
        )
    if view == "cells":
        raise InputError("view='cells' needs single cells with several cells per condition")
    importance, regulators = conditional_importance(profiles, rng, te, **options)
    score = _rank01(total.score)
    rows = total.sources.get_indexer(regulators)
    score[rows] = 0.5 * (score[rows] + _rank01(importance))
    return _no_self(EdgeScores(score, total.weight, total.sources, total.genes))


# baselines register themselves on import (GENIE3-style trees, PC from causal-learn)
from causalcell.network import _baselines  # noqa: E402, F401
