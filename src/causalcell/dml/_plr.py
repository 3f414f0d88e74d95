"""The partially linear regression (PLR) estimator with cross-fitting, many treatments at once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from causalcell._errors import InputError
from causalcell._utils import as_rng
from causalcell.dml._kernels import (
    aggregate_repetitions,
    make_folds,
    plr_score,
    plr_score_test,
    wald_summary,
)
from causalcell.dml._learners import Learner, get_learner


def cross_fit_residuals(
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    folds: np.ndarray,
    ml_l: Learner,
    ml_m: Learner,
    loadings: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold residuals ``y - l(x)`` and ``d - m(x)`` (partialling out).

    ``y`` is (n,), ``d`` is (n, p). The outcome residual is one column shared by all treatments
    unless ``loadings`` makes the confounders gene-specific, then it has ``p`` columns.
    """
    ry = np.empty((len(y), 1 if loadings is None else d.shape[1]))
    rd = np.empty_like(d, dtype=float)
    for k in np.unique(folds):
        te, tr = folds == k, folds != k
        d_tr, d_te = d[tr], d[te]
        kw = {"d_train": d_tr, "d_test": d_te, "loadings": loadings}
        ry[te] = y[te, None] - ml_l.fit_predict(x[tr], y[tr, None], x[te], **kw)
        rd[te] = d_te - ml_m.fit_predict(x[tr], d_tr, x[te], **kw)
    return ry, rd


class PLR(BaseEstimator):
    """Double machine learning in the partially linear model, one estimate per treatment column.

    ``Y = theta_j D_j + g_j(X) + e`` and ``D_j = m_j(X) + v`` for every column ``j`` of ``D``
    (a gene's expression), with the orthogonal partialling-out score, K-fold cross-fitting
    (folds made of whole groups when ``groups`` are given), sandwich standard errors
    (cluster-robust by group) and median aggregation over ``n_rep`` repetitions, as in
    DoubleML's ``DoubleMLPLR(score="partialling out")``.

    Parameters
    ----------
    ml_l
        Learner of ``E[Y | X]``: a name from :func:`list_learners`, a :class:`Learner`, or a
        scikit-learn estimator (fitted per column).
    ml_m
        Learner of ``E[D | X]``; a classifier predicts probabilities (binary treatment).
    n_folds
        Number of cross-fitting folds.
    n_rep
        Repetitions of the sample splitting; estimates are median-aggregated.
    random_state
        Seed or Generator for fold splits and learners' unset seeds, resolved in :meth:`fit`.
    inference
        ``"wald"`` (default, DoubleML's): sandwich SE at the estimate, normal reference.
        ``"score"``: null-imposed score SE (:func:`causalcell.dml.plr_score_test`) and a t
        reference with ``G - 1`` degrees of freedom (``G`` clusters, or observations without
        groups): calibrated with few clusters, conservative intervals under an effect.

    Attributes
    ----------
    coef_, se_ : ndarray of shape (p,)
        Aggregated estimates and standard errors.
    all_coef_, all_se_ : ndarray of shape (n_rep, p)
        Per-repetition estimates and standard errors.
    folds_ : ndarray of shape (n_rep, n)
        Fold label of every observation in each repetition.
    feature_names_in_ : ndarray of str
        Treatment names (columns of a DataFrame ``d``, else ``d0, d1, ...``).
    n_groups_ : int or None
        Number of clusters when ``groups`` were given.
    dof_ : float or None
        Degrees of freedom of the t reference (None: normal).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 3))
    >>> d = x @ [1.0, 0.5, 0.0] + rng.normal(size=500)
    >>> y = 2.0 * d + x @ [1.0, 1.0, 1.0] + rng.normal(size=500)
    >>> PLR(random_state=0).fit(x, y, d).coef_.round(1)
    array([2.])
    """

    def __init__(
        self,
        ml_l: str | Learner | Any = "ridge",
        ml_m: str | Learner | Any = "ridge",
        *,
        n_folds: int = 5,
        n_rep: int = 1,
        random_state: int | np.random.Generator | None = None,
        inference: str = "wald",
    ) -> None:
        self.ml_l = ml_l
        self.ml_m = ml_m
        self.n_folds = n_folds
        self.n_rep = n_rep
        self.random_state = random_state
        self.inference = inference

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        d: np.ndarray | pd.DataFrame,
        *,
        groups: np.ndarray | None = None,
        loadings: np.ndarray | None = None,
    ) -> PLR:
        """Cross-fit the nuisance functions and estimate ``theta`` for every treatment column.

        Parameters
        ----------
        x
            Confounders, shape (n, k).
        y
            Outcome, shape (n,).
        d
            Treatments, shape (n,) or (n, p); each column is its own PLR.
        groups
            Cluster label per observation (donor): folds keep groups whole, SEs are clustered.
        loadings
            Shape (p, k): treatment ``j`` is adjusted for ``x - d[:, j] loadings[j]`` instead of
            ``x`` (its own contribution to the confounders removed).

        Returns
        -------
        PLR
            The fitted estimator.
        """
        names = d.columns.astype(str).to_numpy() if isinstance(d, pd.DataFrame) else None
        x, y, d = _as_arrays(x, y, d)
        self._check(x, d, groups, loadings)
        rng = as_rng(self.random_state)
        ml_l, ml_m = get_learner(self.ml_l, rng=rng), get_learner(self.ml_m, rng=rng)
        score = plr_score_test if self.inference == "score" else plr_score
        thetas, ses, folds = [], [], []
        for _ in range(self.n_rep):
            folds.append(make_folds(len(y), self.n_folds, groups, rng=rng))
            ry, rd = cross_fit_residuals(x, y, d, folds[-1], ml_l, ml_m, loadings)
            theta, se = score(ry, rd, groups)
            thetas.append(theta)
            ses.append(se)
        self.all_coef_, self.all_se_ = np.array(thetas), np.array(ses)
        self.coef_, self.se_ = aggregate_repetitions(self.all_coef_, self.all_se_)
        self.folds_ = np.array(folds)
        self.feature_names_in_ = (
            names if names is not None else np.array([f"d{j}" for j in range(d.shape[1])])
        )
        self.n_groups_ = None if groups is None else len(np.unique(groups))
        units = len(y) if groups is None else self.n_groups_
        self.dof_ = float(units - 1) if self.inference == "score" else None
        return self

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Table of ``estimate, se, pval, ci_low, ci_high``, one row per treatment.

        Normal reference for ``inference="wald"``, t with :attr:`dof_` for ``"score"``.
        """
        check_is_fitted(self)
        return pd.DataFrame(
            wald_summary(self.coef_, self.se_, level, self.dof_),
            index=pd.Index(self.feature_names_in_),
        )

    def _check(self, x, d, groups, loadings) -> None:
        if not (isinstance(self.n_folds, int | np.integer) and self.n_folds >= 2):
            raise InputError(f"n_folds must be an integer >= 2, got {self.n_folds!r}")
        if self.inference not in ("wald", "score"):
            raise InputError(f"inference must be 'wald' or 'score', got {self.inference!r}")
        if not (isinstance(self.n_rep, int | np.integer) and self.n_rep >= 1):
            raise InputError(f"n_rep must be an integer >= 1, got {self.n_rep!r}")
        if groups is not None:
            n_groups = len(np.unique(groups))
            if n_groups < self.n_folds:
                raise InputError(
                    f"{n_groups} groups (donors) cannot fill n_folds={self.n_folds} folds; "
                    f"lower n_folds to at most {n_groups} or add donors"
                )
        if loadings is not None and loadings.shape != (d.shape[1], x.shape[1]):
            raise InputError(
                f"loadings must have shape (n_treatments, n_confounders) = "
                f"{(d.shape[1], x.shape[1])}, got {loadings.shape}"
            )


def _as_arrays(x, y, d) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float arrays ``x`` (n, k), ``y`` (n,), ``d`` (n, p), checked for shape and NaN."""
    x = np.asarray(x, dtype=float)
    x = x.reshape(len(x), -1)
    y = np.asarray(y, dtype=float).ravel()
    d = np.asarray(d, dtype=float)
    d = d.reshape(len(d), -1)
    if not len(x) == len(y) == len(d):
        raise InputError(f"x, y and d need the same rows, got {len(x)}, {len(y)}, {len(d)}")
    for name, arr in (("x", x), ("y", y), ("d", d)):
        if not np.isfinite(arr).all():
            raise InputError(f"{name} contains NaN or infinite values; drop or impute them")
    return x, y, d
