"""Array kernels against scikit-learn, numpy and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge

from causalcell import dml


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    n, k, p = 200, 4, 6
    return {
        "x": rng.normal(size=(n, k)),
        "d": rng.normal(1.0, 1.0, size=(n, p)),
        "y": rng.normal(2.0, 1.0, size=n),
        "loadings": rng.normal(size=(p, k)),
        "x_test": rng.normal(size=(30, k)),
        "d_test": rng.normal(size=(30, p)),
    }


def test_ridge_equals_sklearn_multioutput(arrays):
    got = dml.ridge_fit_predict(arrays["x"], arrays["d"], arrays["x_test"], 2.0)
    want = Ridge(2.0).fit(arrays["x"], arrays["d"]).predict(arrays["x_test"])
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("target", ["d", "y", "other"])
def test_leave_out_ridge_equals_per_gene_sklearn(arrays, target):
    a = arrays
    t = {"d": a["d"], "y": a["y"][:, None], "other": 3 * a["d"] + 1}[target]
    got = dml.ridge_fit_predict(
        a["x"], t, a["x_test"], 2.0, d_train=a["d"], d_test=a["d_test"], loadings=a["loadings"]
    )
    for j in range(a["d"].shape[1]):
        design = a["x"] - np.outer(a["d"][:, j], a["loadings"][j])
        design_test = a["x_test"] - np.outer(a["d_test"][:, j], a["loadings"][j])
        want = Ridge(2.0).fit(design, t[:, j if t.shape[1] > 1 else 0]).predict(design_test)
        np.testing.assert_allclose(got[:, j], want, atol=1e-10)


def test_folds_keep_donors_whole_and_balanced():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(23), rng.integers(20, 60, 23))
    folds = dml.make_folds(len(groups), 5, groups, rng=1)
    for g in np.unique(groups):
        assert len(np.unique(folds[groups == g])) == 1
    sizes = np.bincount(folds)
    assert len(sizes) == 5 and sizes.max() - sizes.min() <= 60
    again = dml.make_folds(len(groups), 5, groups, rng=1)
    np.testing.assert_array_equal(folds, again)


def test_folds_without_groups_partition():
    folds = dml.make_folds(103, 4, rng=0)
    assert sorted(np.bincount(folds)) == [25, 26, 26, 26]


def test_plr_score_closed_form():
    rng = np.random.default_rng(0)
    rd, ry = rng.normal(size=(50, 3)), rng.normal(size=(50, 1))
    theta, se = dml.plr_score(ry, rd)
    for j in range(3):
        t = rd[:, j] @ ry[:, 0] / (rd[:, j] @ rd[:, j])
        psi = (ry[:, 0] - t * rd[:, j]) * rd[:, j]
        want_se = np.sqrt(np.mean(psi**2) / np.mean(rd[:, j] ** 2) ** 2 / 50)
        assert theta[j] == pytest.approx(t)
        assert se[j] == pytest.approx(want_se)


def test_clustered_se_with_singleton_clusters_is_iid_times_correction():
    rng = np.random.default_rng(0)
    rd, ry = rng.normal(size=(40, 2)), rng.normal(size=40)
    _, se = dml.plr_score(ry, rd)
    _, se_cl = dml.plr_score(ry, rd, np.arange(40))
    np.testing.assert_allclose(se_cl, se * np.sqrt(40 / 39))


def test_median_aggregation():
    thetas = np.array([[1.0], [2.0], [4.0]])
    ses = np.array([[1.0], [1.0], [1.0]])
    theta, se = dml.aggregate_repetitions(thetas, ses)
    assert theta[0] == 2.0
    assert se[0] == pytest.approx(np.sqrt(2.0))  # median of 1+1, 1+0, 1+4


def test_wald_summary_and_fdr():
    out = dml.wald_summary(np.array([1.96, 0.0, np.nan]), np.array([1.0, 1.0, 1.0]))
    assert out["pval"][0] == pytest.approx(0.05, abs=1e-3)
    assert out["ci_low"][0] == pytest.approx(0.0, abs=1e-3)
    fdr = dml.bh_fdr(out["pval"])
    assert np.isnan(fdr[2]) and fdr[0] == pytest.approx(0.1, abs=2e-3)


def test_loo_alpha_matches_sklearn_ridgecv_per_target():
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 5))
    t = x @ rng.normal(size=(5, 3)) * [1.0, 0.1, 0.0] + rng.normal(size=(60, 3))
    grid = np.logspace(-2, 4, 13)
    alpha, scores = dml.loo_ridge_alpha(x, t, grid)
    want = RidgeCV(alphas=grid, alpha_per_target=True).fit(x, t).alpha_
    np.testing.assert_allclose(alpha, want)
    assert scores.shape == (13, 3) and alpha[2] >= alpha[0]  # pure noise -> more shrinkage


def test_ridge_with_one_penalty_per_column_equals_sklearn(arrays):
    a = arrays
    alphas = np.array([0.1, 1.0, 10.0, 100.0, 0.5, 3.0])
    got = dml.ridge_fit_predict(a["x"], a["d"], a["x_test"], alphas)
    lo = dml.ridge_fit_predict(
        a["x"],
        a["d"],
        a["x_test"],
        alphas,
        d_train=a["d"],
        d_test=a["d_test"],
        loadings=a["loadings"],
    )
    for j, alpha in enumerate(alphas):
        want = Ridge(alpha).fit(a["x"], a["d"][:, j]).predict(a["x_test"])
        np.testing.assert_allclose(got[:, j], want, atol=1e-10)
        design = a["x"] - np.outer(a["d"][:, j], a["loadings"][j])
        design_test = a["x_test"] - np.outer(a["d_test"][:, j], a["loadings"][j])
        want = Ridge(alpha).fit(design, a["d"][:, j]).predict(design_test)
        np.testing.assert_allclose(lo[:, j], want, atol=1e-10)


def test_score_test_se_is_the_null_imposed_cluster_sandwich():
    rng = np.random.default_rng(4)
    rd, ry = rng.normal(size=(60, 2)), rng.normal(size=(60, 1))
    groups = np.repeat(np.arange(12), 5)
    theta, se0 = dml.plr_score_test(ry, rd, groups)
    theta_w, _ = dml.plr_score(ry, rd, groups)
    np.testing.assert_allclose(theta, theta_w)
    for j in range(2):
        sums = np.bincount(groups, weights=ry[:, 0] * rd[:, j])
        assert se0[j] == pytest.approx(np.sqrt((sums**2).sum()) / (rd[:, j] ** 2).sum())
    out = dml.wald_summary(theta, se0, dof=11)
    assert out["pval"][0] == pytest.approx(2 * stats.t.sf(abs(theta[0] / se0[0]), 11))
