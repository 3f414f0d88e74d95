"""Array kernels of double machine learning: folds, closed-form ridge, the PLR score.

Everything here works on plain numpy arrays, many treatments (genes) at once; the estimator
lives in :mod:`causalcell.dml._plr` and the AnnData plumbing in :mod:`causalcell.dml._api`.

Notation: ``n`` observations (cells), ``k`` confounder features, ``p`` treatments (genes).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg, stats

from causalcell._utils import RngLike, as_rng


def make_folds(
    n: int, n_folds: int, groups: np.ndarray | None = None, *, rng: RngLike = None
) -> np.ndarray:
    """Fold label (``0 .. n_folds-1``) of each observation, whole groups kept together.

    Without groups: a random permutation cut into ``n_folds`` near-equal parts (as
    ``KFold(shuffle=True)``). With groups: the groups are shuffled and dealt to the fold with the
    fewest observations so far, largest first, so folds are balanced in size and no group
    (donor) is split across folds.
    """
    rng = as_rng(rng)
    if groups is None:
        folds = np.empty(n, dtype=np.intp)
        for k, part in enumerate(np.array_split(rng.permutation(n), n_folds)):
            folds[part] = k
        return folds
    codes, sizes = _group_codes(groups)
    order = rng.permutation(len(sizes))
    order = order[np.argsort(-sizes[order], kind="stable")]  # largest first, random ties
    load = np.zeros(n_folds)
    group_fold = np.empty(len(sizes), dtype=np.intp)
    for g in order:
        group_fold[g] = np.argmin(load)
        load[group_fold[g]] += sizes[g]
    return group_fold[codes]


def _group_codes(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each observation's group and the size of each group."""
    _, codes, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    return codes.ravel(), sizes


def ridge_fit_predict(
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    alpha: float,
    *,
    d_train: np.ndarray | None = None,
    d_test: np.ndarray | None = None,
    loadings: np.ndarray | None = None,
) -> np.ndarray:
    """Ridge regression with intercept of every target column on ``x``, predicted on ``x_test``.

    One closed-form solve serves all ``q`` target columns of ``t_train`` (n, q), equal to
    ``sklearn.linear_model.Ridge(alpha)`` column by column.

    With ``loadings`` (p, k) the design differs per treatment ``j``: ``x - d[:, j] loadings[j]``,
    the confounder features with gene ``j``'s own contribution taken out (the leave-gene-out
    downdate of PC scores, see :func:`causalcell.dml.pca_confounders`). Its Gram matrix is a
    rank-two update of ``x'x``, so all ``p`` systems (k x k) are formed from shared
    cross-products and solved in one batched call. ``t_train`` then has ``p`` columns, or one
    column shared by all genes (the outcome); the result has ``p`` columns.
    """
    n = len(x_train)
    mx, mt = x_train.mean(0), t_train.mean(0)
    xc = x_train - mx
    gram = xc.T @ xc
    xt = xc.T @ t_train  # = xc' (t - mean t): the columns of xc sum to zero
    if loadings is None:
        coef = linalg.solve(gram + alpha * np.eye(len(gram)), xt, assume_a="pos")
        return mt + (x_test - mx) @ coef
    md = d_train.mean(0)
    a = xt if t_train is d_train else xc.T @ d_train  # (k, p): x'd_j
    s = np.einsum("ij,ij->j", d_train, d_train) - n * md**2  # centred d_j'd_j
    if t_train is d_train:
        dt = s
    elif t_train.shape[1] == 1:  # one target shared by all genes (the outcome)
        dt = d_train.T @ t_train[:, 0] - n * md * mt[0]
    else:
        dt = np.einsum("ij,ij->j", d_train, t_train) - n * md * mt
    grams = (
        gram[None]
        - np.einsum("kj,jl->jkl", a, loadings)
        - np.einsum("jk,lj->jkl", loadings, a)
        + s[:, None, None] * np.einsum("jk,jl->jkl", loadings, loadings)
    ) + alpha * np.eye(len(gram))
    rhs = np.broadcast_to(xt, a.shape).T - loadings * dt[:, None]  # (p, k)
    coef = np.linalg.solve(grams, rhs[..., None])[..., 0].T  # (k, p)
    shift = np.einsum("jk,kj->j", loadings, coef)
    return mt + (x_test - mx) @ coef - (d_test - md) * shift


def plr_score(
    ry: np.ndarray, rd: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and SE of ``theta`` from the partialling-out score, one per column of ``rd``.

    ``theta = sum(rd * ry) / sum(rd^2)`` solves the pooled orthogonal score
    ``psi = (ry - theta rd) rd`` (DoubleML's ``dml2``). The variance is the sandwich
    ``mean(psi^2) / J^2 / n`` with ``J = mean(rd^2)``; with ``groups`` it is the cluster-robust
    ``G / (G - 1) * sum_g (sum_{i in g} psi_i)^2 / (n J)^2`` over the ``G`` groups (donors).
    ``ry`` is (n,), (n, 1) shared by all treatments, or (n, p).
    """
    ry = ry.reshape(len(ry), -1)
    rd = rd.reshape(len(rd), -1)
    ss = np.einsum("ij,ij->j", rd, rd)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = (rd * ry).sum(0) / ss
        psi = (ry - theta * rd) * rd
        if groups is None:
            var = (psi**2).sum(0) / ss**2
        else:
            codes, sizes = _group_codes(groups)
            n_groups = len(sizes)
            members = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))))
            sums = members @ psi  # score summed within each group
            var = n_groups / max(n_groups - 1, 1) * (sums**2).sum(0) / ss**2
    return theta, np.sqrt(var)


def aggregate_repetitions(thetas: np.ndarray, ses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median aggregation over repeated cross-fitting (rows = repetitions), as in DoubleML.

    ``theta = median_r theta_r``; ``se = sqrt(median_r(se_r^2 + (theta_r - theta)^2))``.
    """
    theta = np.median(thetas, axis=0)
    se = np.sqrt(np.median(ses**2 + (thetas - theta) ** 2, axis=0))
    return theta, se


def wald_summary(theta: np.ndarray, se: np.ndarray, level: float = 0.95) -> dict[str, np.ndarray]:
    """Two-sided normal p-values and confidence intervals at ``level``."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pval = 2 * stats.norm.sf(np.abs(theta / se))
    return {
        "estimate": theta,
        "se": se,
        "pval": pval,
        "ci_low": theta - z * se,
        "ci_high": theta + z * se,
    }
