"""Direct-effect kernels against statsmodels and exact linear algebra; direct vs indirect edges."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from causalcell import InputError
from causalcell.network import Profiles, infer_network, total_effects
from causalcell.network._bootstrap import _design, _draw, profiles_from_cells
from causalcell.network._direct import (
    pooled_covariance,
    regression_t,
    sparse_inverse,
    within_from_moments,
)
from tests.network._sem import chain_network, sem_cells


def _profiles(cells):
    control, design = _design(cells)
    conditions, ctrl = _draw(control, design, np.random.default_rng(0), resample=False)
    prof = profiles_from_cells(np.asarray(cells.X), cells.var_names, conditions, ctrl)
    prof.cells = cells
    return prof


def test_regression_t_matches_statsmodels_ols():
    rng = np.random.default_rng(0)
    n, p = 400, 6
    X = rng.normal(size=(n, p)) @ rng.normal(size=(p, p))
    X -= X.mean(axis=0)
    C = X.T @ X / n
    S = np.array([0, 2, 3, 5])
    t = regression_t(C, n, S, ridge=0.0)
    # gene 1 (not a candidate) on all candidates; gene 3 (a candidate) on the others
    for j, cand in ((1, S), (3, np.array([0, 2, 5]))):
        fit = sm.OLS(X[:, j], X[:, cand]).fit()
        np.testing.assert_allclose(t[np.searchsorted(S, cand), j], fit.tvalues, rtol=1e-8)
    assert t[2, 3] == 0.0  # a gene is not its own regulator


def test_within_covariance_equals_pooled_numpy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 4)) + np.repeat(rng.normal(size=(3, 4)) * 5, 30, axis=0)
    groups = np.repeat([0, 1, 2], 30)
    xtx, sums, sizes = pooled_covariance([(0, X[:50]), (50, X[50:])], groups, 4)
    C, df = within_from_moments(xtx, sums, sizes)
    centred = X - np.vstack([X[groups == g].mean(axis=0) for g in groups])
    assert df == 87
    np.testing.assert_allclose(C, centred.T @ centred / 87, atol=1e-10)


def test_sparse_inverse_is_exact_on_linear_cyclic_steady_states():
    G = chain_network(10)
    G[3, 8] = 0.5  # an unperturbed target
    S = np.array([0, 1, 2, 3, 4, 5])  # every regulator, not every gene
    T = np.linalg.inv(np.eye(10) - G)[S]
    R = T / T[np.arange(len(S)), S][:, None]
    Ghat, z = sparse_inverse(R, np.full_like(R, 1e-3), S, z_min=0.0, ridge=0.0)
    expected = G[S] / (1 - np.diag(G))[None, :]  # no self-loops here: G itself
    np.testing.assert_allclose(Ghat, expected, atol=1e-10)
    assert np.abs(z[Ghat == 0]).max() < 1e-6 and np.abs(z[np.abs(Ghat) > 0.1]).min() > 100


def test_direct_scores_rank_direct_above_indirect_edges():
    """Chain g0 -> g1 -> g2 -> g3: the total effect of g0 on g2 is strong but indirect."""
    G = chain_network()
    cells = sem_cells(G, perturbed=[0, 1, 2, 4, 5], seed=2)
    prof = _profiles(cells)
    direct = infer_network(prof, method="causalcell", rng=0).set_index(["source", "target"])
    total = infer_network(prof, method="zscore", rng=0).set_index(["source", "target"])
    assert total.loc[("g0", "g2"), "score"] > total["score"].quantile(0.8)  # baseline fooled
    s = direct["score"]
    for a, b in (("g0", "g1"), ("g1", "g2"), ("g2", "g3"), ("g4", "g5"), ("g4", "g6")):
        assert s[(a, b)] > s.get(("g0", "g2"), 0.0)
        assert s[(a, b)] > s.get(("g0", "g3"), 0.0)
    assert np.sign(direct.loc[("g2", "g3"), "weight"]) == -1


def test_causalcell_falls_back_to_conditions_without_replicates():
    G = chain_network()
    cells = sem_cells(G, perturbed=[0, 1, 2], n_cells=3, n_control=3, guides=2, seed=3)
    full = _profiles(cells)
    prof = Profiles(full.delta, full.se, full.conditions, full.targets, full.genes)  # no cells
    assert prof.covariance() is None
    edges = infer_network(prof, method="causalcell", options={"n_estimators": 20}, rng=0)
    assert list(edges.columns) == ["source", "target", "weight", "score"]
    with pytest.raises(InputError, match="several cells per condition"):
        infer_network(prof, method="causalcell", options={"view": "cells"}, rng=0)


def test_inverse_method_scores_unperturbed_targets():
    G = chain_network()
    cells = sem_cells(G, perturbed=[0, 1, 2, 4, 5], seed=4)
    edges = infer_network(_profiles(cells), method="inverse", rng=0)
    top = set(zip(edges["source"][:6], edges["target"][:6], strict=True))
    assert ("g2", "g3") in top and ("g4", "g6") in top  # g3, g6 are never perturbed
    te = total_effects(_profiles(cells))
    assert pd.Index(te.sources).equals(pd.Index(["g0", "g1", "g2", "g4", "g5"]))
