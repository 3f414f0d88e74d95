"""The PLR estimator: planted effects, coverage, vectorisation, clustering, repetitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalcell import dml
from causalcell._errors import InputError

THETA = 0.5


def confounded(rng, n_donors=40, per_donor=25, donor_sd=0.0, theta=THETA):
    """``x`` confounds ``d`` and ``y``; ``donor_sd`` adds donor effects to both noises."""
    donors = np.repeat(np.arange(n_donors), per_donor)
    n = len(donors)
    x = rng.normal(size=(n, 5))
    d = (
        x @ [1.0, -1.0, 0.5, 0.0, 0.0]
        + rng.normal(size=n)
        + donor_sd * rng.normal(size=n_donors)[donors]
    )
    y = theta * d + x @ [1.0, -1.0, 1.0, 1.0, 0.0] + rng.normal(size=n)
    y += donor_sd * rng.normal(size=n_donors)[donors]
    return x, y, d, donors


def test_recovers_planted_theta_where_naive_regression_is_biased():
    x, y, d, donors = confounded(np.random.default_rng(0), per_donor=100)
    naive = LinearRegression().fit(d[:, None], y).coef_[0]
    plr = dml.PLR(random_state=0).fit(x, y, d, groups=donors)
    assert abs(naive - THETA) > 0.3
    assert abs(plr.coef_[0] - THETA) < 2 * plr.se_[0]
    assert plr.se_[0] < 0.05


def test_confidence_intervals_cover_near_nominal():
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(200):
        x, y, d, donors = confounded(rng, n_donors=20, per_donor=15)
        table = dml.PLR(n_folds=5, random_state=rng).fit(x, y, d, groups=donors).summary()
        hits.append(table["ci_low"].iloc[0] <= THETA <= table["ci_high"].iloc[0])
    assert 0.89 <= np.mean(hits) <= 0.99


def test_vectorised_genes_equal_per_gene_loop():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4))
    genes = x @ rng.normal(size=(4, 8)) + rng.normal(size=(300, 8))
    y = genes[:, 0] + x.sum(1) + rng.normal(size=300)
    loadings = rng.normal(scale=0.1, size=(8, 4))
    donors = np.repeat(np.arange(30), 10)
    for kw in ({}, {"loadings": loadings}):
        joint = dml.PLR(random_state=3).fit(x, y, genes, groups=donors, **kw)
        for j in range(8):
            one = {"loadings": kw["loadings"][j : j + 1]} if kw else {}
            single = dml.PLR(random_state=3).fit(x, y, genes[:, j], groups=donors, **one)
            assert single.coef_[0] == pytest.approx(joint.coef_[j], rel=1e-9)
            assert single.se_[0] == pytest.approx(joint.se_[j], rel=1e-9)


def test_vectorised_ridge_equals_sklearn_ridge_learner():
    from sklearn.linear_model import Ridge

    x, y, d, donors = confounded(np.random.default_rng(4), n_donors=10, per_donor=20)
    fast = dml.PLR(random_state=0).fit(x, y, d, groups=donors)
    slow = dml.PLR(Ridge(1.0), Ridge(1.0), random_state=0).fit(x, y, d, groups=donors)
    np.testing.assert_allclose(fast.coef_, slow.coef_, rtol=1e-10)


def test_donor_clustered_se_larger_than_naive_with_donor_effects():
    x, y, d, donors = confounded(np.random.default_rng(5), per_donor=50, donor_sd=1.0)
    clustered = dml.PLR(random_state=0).fit(x, y, d, groups=donors)
    ry, rd = dml.cross_fit_residuals(
        x, y, d[:, None], clustered.folds_[0], dml.RidgeLearner(), dml.RidgeLearner()
    )
    _, naive_se = dml.plr_score(ry, rd)
    assert clustered.se_[0] > 2 * naive_se[0]


def test_repetitions_median_and_reproducible():
    x, y, d, donors = confounded(np.random.default_rng(6))
    a = dml.PLR(n_rep=5, random_state=7).fit(x, y, d, groups=donors)
    b = dml.PLR(n_rep=5, random_state=7).fit(x, y, d, groups=donors)
    assert a.all_coef_.shape == (5, 1) and a.folds_.shape == (5, len(y))
    assert a.coef_[0] == np.median(a.all_coef_[:, 0])
    np.testing.assert_array_equal(a.all_coef_, b.all_coef_)


def test_summary_uses_dataframe_names():
    x, y, d, _ = confounded(np.random.default_rng(7))
    frame = pd.DataFrame({"GATA1": d, "TAL1": d + 1.0})
    table = dml.PLR(random_state=0).fit(x, y, frame).summary()
    assert list(table.index) == ["GATA1", "TAL1"]
    assert list(table.columns) == ["estimate", "se", "pval", "ci_low", "ci_high"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_folds": 1}, "n_folds"), ({"n_rep": 0}, "n_rep"), ({"ml_l": "forest"}, "unknown learner")],
)
def test_bad_parameters(kwargs, match):
    x, y, d, donors = confounded(np.random.default_rng(8), n_donors=6, per_donor=5)
    with pytest.raises(InputError, match=match):
        dml.PLR(**kwargs).fit(x, y, d, groups=donors)


def test_too_few_groups_and_nan():
    x, y, d, donors = confounded(np.random.default_rng(9), n_donors=3, per_donor=10)
    with pytest.raises(InputError, match="3 groups"):
        dml.PLR(n_folds=5).fit(x, y, d, groups=donors)
    y[0] = np.nan
    with pytest.raises(InputError, match="y contains NaN"):
        dml.PLR(n_folds=2).fit(x, y, d)


def test_learner_registry():
    assert {"ridge", "lasso", "gbm"} <= set(dml.list_learners())
    with pytest.raises(InputError):
        dml.get_learner(object(), rng=0)


def test_gradient_boosting_removes_nonlinear_confounding_that_ridge_leaves():
    """``x`` confounds through sin/cos: a linear nuisance leaves bias, boosting does not."""
    rng = np.random.default_rng(10)
    x = rng.uniform(-3, 3, size=(200, 2))
    d = 2 * np.sin(2 * x[:, 0]) + rng.normal(size=200)
    y = THETA * d + 2 * np.sin(2 * x[:, 0]) + np.cos(x[:, 1]) + rng.normal(size=200)
    ridge = dml.PLR("ridge", "ridge", n_folds=2, random_state=0).fit(x, y, d)
    gbm = dml.PLR("gbm", "gbm", n_folds=2, random_state=0).fit(x, y, d)
    assert abs(gbm.coef_[0] - THETA) < 3 * gbm.se_[0]
    assert abs(ridge.coef_[0] - THETA) > 6 * ridge.se_[0]


def test_score_inference_holds_its_level_with_few_clusters():
    """20 donors, heavy-tailed treatment: the Wald sandwich over-rejects, the score test not."""
    rng = np.random.default_rng(11)
    reject = {"wald": [], "score": []}
    for _ in range(300):
        donors = np.repeat(np.arange(20), 5)
        x = rng.normal(size=(100, 2))
        d = x[:, 0] + rng.standard_t(4, size=20)[donors] + 0.3 * rng.normal(size=100)
        y = x.sum(1) + rng.normal(size=20)[donors]
        for kind in reject:
            plr = dml.PLR(n_folds=5, random_state=rng, inference=kind)
            plr.fit(x, y, d, groups=donors)
            reject[kind].append(plr.summary()["pval"].iloc[0] < 0.05)
    assert 0.015 <= np.mean(reject["score"]) <= 0.075
    assert np.mean(reject["wald"]) > np.mean(reject["score"]) + 0.04
