"""401(k) eligibility on net financial assets: DoubleML's published PLR (lasso) result.

DoubleML example "Python: Impact of 401(k) on Financial Wealth", PLR on the basic covariates
with ``StandardScaler + LassoCV(cv=5)`` for the outcome and ``StandardScaler + L1
LogisticRegressionCV`` for eligibility, 3 folds, ``n_rep=1``: 5,722.5 (SE 1,380.6). The random
forest setup (8,909.6, SE 1,321.8) is reproduced in ``bench/dml_vs_doubleml.py`` (slow).
Data: ``tests/data/dml/pension_401k.csv.gz`` (hdm's ``pension``, the same 9,915 households).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LassoCV, LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalcell import dml

DATA = Path(__file__).parents[1] / "data" / "dml" / "pension_401k.csv.gz"
FEATURES = ["age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown"]
PUBLISHED, PUBLISHED_SE = 5722.5, 1380.6


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_plr_lasso_within_one_se_of_doubleml():
    data = pd.read_csv(DATA)
    assert data.shape == (9915, 12)
    ml_l = make_pipeline(StandardScaler(), LassoCV(cv=5, max_iter=10000))
    ml_m = make_pipeline(
        StandardScaler(),
        LogisticRegressionCV(
            cv=5, penalty="l1", solver="liblinear", Cs=1e-4 * np.logspace(0, 4, 10), max_iter=1000
        ),
    )
    plr = dml.PLR(ml_l, ml_m, n_folds=3, random_state=0)
    plr.fit(data[FEATURES].to_numpy(float), data["net_tfa"], data["e401"])
    assert abs(plr.coef_[0] - PUBLISHED) < PUBLISHED_SE
    assert plr.se_[0] == pytest.approx(PUBLISHED_SE, rel=0.1)
