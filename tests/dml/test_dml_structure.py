"""Conventions of the dml namespace: documented API, keyword-only rng, estimator contract."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

from causalcell import dml

PUBLIC = [getattr(dml, name) for name in dml.__all__]


def test_all_is_unique_and_resolvable():
    assert sorted(dml.__all__) == sorted(set(dml.__all__))


@pytest.mark.parametrize("obj", [o for o in PUBLIC if inspect.isfunction(o) or inspect.isclass(o)])
def test_documented(obj):
    doc = inspect.getdoc(obj)
    assert doc and len(doc.splitlines()[0]) > 10, obj


@pytest.mark.parametrize("fn", [o for o in PUBLIC if inspect.isfunction(o)])
def test_rng_keyword_only(fn):
    params = inspect.signature(fn).parameters
    assert "seed" not in params and "random_state" not in params
    if "rng" in params:
        assert params["rng"].kind is inspect.Parameter.KEYWORD_ONLY, fn
        assert params["rng"].default is None, fn


def test_plr_follows_sklearn_contract():
    plr = dml.PLR("lasso", "ridge", n_folds=3, random_state=4)
    assert plr.get_params()["ml_l"] == "lasso"
    assert clone(plr).get_params() == plr.get_params()
    assert not hasattr(plr, "coef_")
