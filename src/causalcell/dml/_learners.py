"""Nuisance learners for cross-fitting, behind one multi-output interface, and their registry.

A learner predicts every target column from the confounders in one call:
``fit_predict(x_train, t_train, x_test, d_train=, d_test=, loadings=)``. With ``loadings`` the
design of treatment ``j`` is ``x - d[:, j] loadings[j]`` (its own contribution removed).
:class:`RidgeLearner` does this in closed form for all genes at once; :class:`SklearnLearner`
wraps any scikit-learn estimator and loops over the columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.dml._kernels import loo_ridge_alpha, ridge_fit_predict


class Learner(Protocol):
    """What cross-fitting needs from a nuisance learner."""

    def fit_predict(
        self,
        x_train: np.ndarray,
        t_train: np.ndarray,
        x_test: np.ndarray,
        *,
        d_train: np.ndarray | None = None,
        d_test: np.ndarray | None = None,
        loadings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Fit on ``(x_train, t_train)`` (t: n x q) and return predictions on ``x_test``."""
        ...


@dataclass
class RidgeLearner:
    """Ridge regression with intercept, closed form, all targets in one solve.

    Parameters
    ----------
    alpha
        L2 penalty (scikit-learn's ``Ridge(alpha)`` convention: not scaled by ``n``), or
        ``None``: chosen per target column on each training fold by exact leave-one-out error
        (:func:`causalcell.dml.loo_ridge_alpha`, on the confounders before any leave-gene-out
        downdate), so a gene's result does not depend on which other genes are tested.
    """

    alpha: float | None = 1.0

    def fit_predict(self, x_train, t_train, x_test, *, d_train=None, d_test=None, loadings=None):
        """Predictions of every target column; see :func:`causalcell.dml.ridge_fit_predict`."""
        alpha = self.alpha
        if alpha is None:
            alpha, _ = loo_ridge_alpha(x_train, t_train)
            if loadings is not None and len(alpha) == 1:
                alpha = np.full(len(loadings), alpha[0])
        return ridge_fit_predict(
            x_train,
            t_train,
            x_test,
            alpha,
            d_train=d_train,
            d_test=d_test,
            loadings=loadings,
        )


@dataclass
class SklearnLearner:
    """Any scikit-learn regressor or classifier, fitted once per target column.

    Classifiers predict the probability of the positive class (as DoubleML's ``ml_m``).
    Unset ``random_state`` parameters (also inside pipelines) are drawn from ``rng`` so that
    a seeded run is reproducible.
    """

    estimator: Any
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    def fit_predict(self, x_train, t_train, x_test, *, d_train=None, d_test=None, loadings=None):
        """Predictions of every target column (``p`` columns when ``loadings`` is given)."""
        n_out = t_train.shape[1] if loadings is None else len(loadings)
        out = np.empty((len(x_test), n_out))
        for j in range(n_out):
            t = t_train[:, j if t_train.shape[1] > 1 else 0]
            xa, xb = x_train, x_test
            if loadings is not None:
                xa = x_train - np.outer(d_train[:, j], loadings[j])
                xb = x_test - np.outer(d_test[:, j], loadings[j])
            out[:, j] = self._fit_predict_one(xa, t, xb)
        return out

    def _fit_predict_one(self, x_train, t_train, x_test) -> np.ndarray:
        from sklearn.base import clone, is_classifier

        model = clone(self.estimator)
        unset = {
            k: int(self.rng.integers(2**31))
            for k, v in model.get_params().items()
            if k.endswith("random_state") and v is None
        }
        model.set_params(**unset)
        model.fit(x_train, t_train)
        if is_classifier(model):
            return model.predict_proba(x_test)[:, 1]
        return model.predict(x_test)


def _lasso(rng: np.random.Generator) -> SklearnLearner:
    from sklearn.linear_model import LassoCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return SklearnLearner(make_pipeline(StandardScaler(), LassoCV(cv=5, alphas=30)), rng)


def _gbm(rng: np.random.Generator) -> SklearnLearner:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return SklearnLearner(HistGradientBoostingRegressor(max_iter=100, early_stopping=False), rng)


LEARNERS: dict[str, Callable[[np.random.Generator], Learner]] = {
    "ridge": lambda rng: RidgeLearner(1.0),
    "ridge_cv": lambda rng: RidgeLearner(None),
    "lasso": _lasso,
    "gbm": _gbm,
}
"""Named learners: ``ridge`` (closed form, vectorised over genes, ``alpha=1``), ``ridge_cv``
(the same with the penalty chosen by leave-one-out error on each training fold), ``lasso``
(standardised ``LassoCV``, per gene) and ``gbm`` (``HistGradientBoostingRegressor``, per gene)."""


def register_learner(name: str, factory: Callable[[np.random.Generator], Learner]) -> None:
    """Make ``factory(rng) -> Learner`` available under ``name``."""
    LEARNERS[name] = factory


def list_learners() -> list[str]:
    """Names of the registered learners."""
    return sorted(LEARNERS)


def get_learner(spec: str | Learner | Any, *, rng: RngLike = None) -> Learner:
    """Resolve a learner name, a :class:`Learner` or a scikit-learn estimator."""
    rng = as_rng(rng)
    if isinstance(spec, str):
        if spec not in LEARNERS:
            raise InputError(f"unknown learner {spec!r}; use one of {list_learners()}")
        return LEARNERS[spec](rng)
    if hasattr(spec, "fit_predict") and not hasattr(spec, "get_params"):
        return spec
    if hasattr(spec, "fit") and hasattr(spec, "get_params"):
        return SklearnLearner(spec, rng)
    raise InputError(
        f"learner {spec!r} is neither a name ({list_learners()}), a Learner nor a "
        "scikit-learn estimator"
    )
