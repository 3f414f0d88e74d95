"""Array kernels of double machine learning: folds, closed-form ridge, the PLR score.

Everything here works on plain numpy arrays, many treatments (genes) at once; the estimator
lives in :mod:`causalcell.dml._plr` and the AnnData plumbing in :mod:`causalcell.dml._api`.

Notation: ``n`` observations (cells), ``k`` confounder features, ``p`` treatments (genes).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, stats

from causalcell._utils import RngLike, as_rng, group_indicator


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
    alpha: float | np.ndarray,
    *,
    d_train: np.ndarray | None = None,
    d_test: np.ndarray | None = None,
    loadings: np.ndarray | None = None,
) -> np.ndarray:
    """Ridge regression with intercept of every target column on ``x``, predicted on ``x_test``.

    One closed-form solve serves all ``q`` target columns of ``t_train`` (n, q), equal to
    ``sklearn.linear_model.Ridge(alpha)`` column by column. ``alpha`` is one penalty or one per
    output column (then the solve goes through one eigendecomposition of ``x'x``).

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
    alpha = np.asarray(alpha, dtype=float)
    if loadings is None:
        if alpha.ndim == 0:
            coef = linalg.solve(gram + alpha * np.eye(len(gram)), xt, assume_a="pos")
        else:
            vals, vecs = linalg.eigh(gram)
            coef = vecs @ ((vecs.T @ xt) / (vals[:, None] + alpha[None, :]))
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
    ) + np.multiply.outer(np.broadcast_to(alpha, len(loadings)), np.eye(len(gram)))
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
            sums = group_indicator(codes) @ psi  # score summed within each group
            var = n_groups / max(n_groups - 1, 1) * (sums**2).sum(0) / ss**2
    return theta, np.sqrt(var)


def plr_score_test(
    ry: np.ndarray, rd: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and null-imposed (score-test) SE of ``theta``, one per column of ``rd``.

    The estimate is the partialling-out one of :func:`plr_score`. The SE is the cluster-robust
    sandwich with the score evaluated at ``theta = 0``, ``psi0 = ry * rd`` (a Lagrange-multiplier
    test): ``se0 = sqrt(sum_g (sum_{i in g} psi0_i)^2) / sum(rd^2)``, so ``theta / se0`` is the
    robust score statistic of ``H0: theta = 0``. With few clusters (donors) and heavy-tailed
    residualised expression the Wald sandwich, built from residuals ``ry - theta rd`` that were
    fitted to the data, underestimates the variance (half again as many null p-values below 0.05
    with 40 donors); the null-imposed score does not, and referred to a t distribution with
    ``G - 1`` degrees of freedom it holds its level (see ``bench/dml_calibration.py``). Under an
    alternative ``se0`` exceeds the Wald SE, so intervals built from it are conservative.
    """
    ry = ry.reshape(len(ry), -1)
    rd = rd.reshape(len(rd), -1)
    ss = np.einsum("ij,ij->j", rd, rd)
    psi0 = ry * rd
    if groups is not None:
        codes, _ = _group_codes(groups)
        psi0 = group_indicator(codes) @ psi0
    with np.errstate(invalid="ignore", divide="ignore"):
        return psi0.sum(0) / ss, np.sqrt(np.einsum("ij,ij->j", psi0, psi0)) / ss


def loo_ridge_alpha(
    x: np.ndarray, t: np.ndarray, grid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge penalty of each target column minimising its exact leave-one-out error.

    Ridge with intercept of every column of ``t`` (n, q) on ``x`` (n, k); the leave-one-out
    residual of observation ``i`` is ``r_i / (1 - h_ii)`` with the hat matrix from one SVD of the
    centred ``x``, so all columns and penalties share one decomposition. ``grid`` defaults to 25
    values from 1e-3 to 1e5.

    Returns
    -------
    alpha
        The selected penalty per column, shape (q,).
    scores
        Leave-one-out mean squared error, shape (grid, q).
    """
    grid = np.logspace(-3, 5, 25) if grid is None else np.asarray(grid, dtype=float)
    n = len(x)
    xc = x - x.mean(0)
    tc = t - t.mean(0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    ut = u.T @ tc
    scores = np.empty((len(grid), tc.shape[1]))
    for g, alpha in enumerate(grid):
        shrink = s**2 / (s**2 + alpha)
        resid = tc - u @ (shrink[:, None] * ut)
        hat = (u**2) @ shrink + 1.0 / n
        scores[g] = np.mean((resid / (1 - hat)[:, None]) ** 2, axis=0)
    return grid[np.argmin(scores, axis=0)], scores


def aggregate_repetitions(thetas: np.ndarray, ses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median aggregation over repeated cross-fitting (rows = repetitions), as in DoubleML.

    ``theta = median_r theta_r``; ``se = sqrt(median_r(se_r^2 + (theta_r - theta)^2))``.
    """
    theta = np.median(thetas, axis=0)
    se = np.sqrt(np.median(ses**2 + (thetas - theta) ** 2, axis=0))
    return theta, se


def wald_summary(
    theta: np.ndarray, se: np.ndarray, level: float = 0.95, dof: float | None = None
) -> dict[str, np.ndarray]:
    """Two-sided p-values and confidence intervals at ``level``: normal, or t with ``dof``."""
    dist = stats.norm if dof is None else stats.t(dof)
    z = dist.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pval = 2 * dist.sf(np.abs(theta / se))
    return {
        "estimate": theta,
        "se": se,
        "pval": pval,
        "ci_low": theta - z * se,
        "ci_high": theta + z * se,
    }
