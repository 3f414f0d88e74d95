"""Baselines in the network API: GENIE3-style trees and the PC algorithm (causal-learn).

Both read single-cell expression when the profiles carry cells (a random subset of at most
``max_cells`` cells, log1p CP10k), else the condition profiles as samples (one per condition).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell.network._methods import EdgeScores, _no_self, register
from causalcell.network._profiles import Profiles


def _samples(profiles: Profiles, max_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Samples x genes expression: a random subset of cells, or the condition profiles."""
    cells = profiles.cells
    if cells is None:
        return np.asarray(profiles.delta, float)
    from causalcell.effects import log_normalize

    rows = np.sort(rng.choice(cells.n_cells, min(max_cells, cells.n_cells), replace=False))
    block = log_normalize(cells.X[rows], cells.expression)
    return np.asarray(block.toarray() if hasattr(block, "toarray") else block, float)


def _candidates(profiles: Profiles) -> pd.Index:
    """Perturbed genes that are measured: the candidate regulators."""
    perturbed = {t[0] for t in profiles.targets if len(t) == 1}
    return pd.Index([g for g in profiles.genes if g in perturbed])


def genie3_kernel(
    X: np.ndarray,
    regulators: np.ndarray,
    *,
    n_estimators: int = 50,
    max_features: str | float = "sqrt",
    tree: str = "extra",
    seed: int = 0,
) -> np.ndarray:
    """GENIE3 importances: regulators x genes, each target regressed on the other regulators.

    Parameters
    ----------
    X
        Samples x genes expression.
    regulators
        Column indices of the candidate regulators.
    n_estimators, max_features
        Forest size and features per split (the budget).
    tree
        ``"extra"`` (extremely randomised trees, GRNBoost-like speed) or ``"rf"`` (random
        forest, GENIE3's original choice).
    seed
        Seed of the forests (one per target, derived from it).

    Returns
    -------
    np.ndarray
        Feature importances (each target's column sums to 1 over its regulators, or 0).
    """
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    Model = ExtraTreesRegressor if tree == "extra" else RandomForestRegressor
    regulators = np.asarray(regulators, int)
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    out = np.zeros((len(regulators), X.shape[1]))
    for j in range(X.shape[1]):
        keep = regulators != j
        if sd[j] == 0 or keep.sum() == 0:
            continue
        model = Model(
            n_estimators=n_estimators, max_features=max_features, random_state=seed + j, n_jobs=1
        )
        model.fit(Z[:, regulators[keep]], Z[:, j])
        out[keep, j] = model.feature_importances_
    return out


@register(
    "genie3",
    "GENIE3/GRNBoost-style tree importance of each perturbed gene for each gene on expression "
    "(cells, or condition profiles)",
    "Huynh-Thu et al. 2010; Moerman et al. 2019",
    direct=False,
)
def genie3(
    profiles: Profiles,
    rng: np.random.Generator | None = None,
    *,
    max_cells: int = 1000,
    n_estimators: int = 50,
    tree: str = "extra",
) -> EdgeScores:
    """``max_cells`` and ``n_estimators`` bound the cost (targets x trees x cells)."""
    rng = np.random.default_rng(rng)
    regs = _candidates(profiles)
    X = _samples(profiles, max_cells, rng)
    imp = genie3_kernel(
        X,
        profiles.genes.get_indexer(regs),
        n_estimators=n_estimators,
        tree=tree,
        seed=int(rng.integers(2**31 - 1 - X.shape[1])),
    )
    return _no_self(EdgeScores(imp, imp, regs, profiles.genes))


def pc_kernel(X: np.ndarray, alpha: float = 0.01, max_k: int | None = 2) -> np.ndarray:
    """PC algorithm (causal-learn, Fisher-z test) on samples x genes; adjacency scores.

    Returns ``A[i, j]``: 1 for a directed edge ``i -> j`` of the CPDAG, 0.5 both ways for an
    undirected one, 0 otherwise. ``max_k``: largest conditioning set (the budget; None = no
    limit).
    """
    try:
        from causallearn.search.ConstraintBased.PC import pc
    except ImportError as err:  # optional extra
        raise InputError(
            "method 'pc' needs causal-learn: pip install 'causalcell[network]'"
        ) from err
    graph = pc(X, alpha=alpha, indep_test="fisherz", show_progress=False, max_k=max_k).G.graph
    # causal-learn: graph[j, i] == 1 and graph[i, j] == -1 means i -> j
    directed = (graph.T == 1) & (graph == -1)
    undirected = (graph == -1) & (graph.T == -1)
    return directed.astype(float) + 0.5 * undirected


@register(
    "pc",
    "PC algorithm (causal-learn, Fisher z) on the most variable perturbed genes and their targets",
    "Spirtes et al. 2000; causal-learn (Zheng et al. 2024)",
)
def pc_baseline(
    profiles: Profiles,
    rng: np.random.Generator | None = None,
    *,
    max_genes: int = 20,
    max_cells: int = 2000,
    alpha: float = 0.01,
    max_k: int | None = 2,
) -> EdgeScores:
    """PC scales exponentially with the degree: it runs on ``max_genes`` genes (half the most
    variable perturbed genes, half the most variable others); pairs outside score 0."""
    rng = np.random.default_rng(rng)
    X = _samples(profiles, max_cells, rng)
    sd = X.std(axis=0)
    regs = profiles.genes.get_indexer(_candidates(profiles))
    others = np.setdiff1d(np.arange(X.shape[1]), regs)
    top_r = regs[np.argsort(-sd[regs], kind="stable")[: max_genes // 2]]
    top_o = others[np.argsort(-sd[others], kind="stable")[: max_genes - len(top_r)]]
    sub = np.sort(np.r_[top_r, top_o])
    sub = sub[sd[sub] > 0]
    score = np.zeros((len(profiles.genes), len(profiles.genes)))
    if len(sub) >= 2:
        score[np.ix_(sub, sub)] = pc_kernel(X[:, sub], alpha, max_k)
    return _no_self(EdgeScores(score, score, profiles.genes, profiles.genes))
