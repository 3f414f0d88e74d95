"""Direct effects: the observational view of single cells and a sparse inverse of total effects.

Two estimators of the direct-effect matrix ``G`` (``G[i, j]``: effect of gene ``i`` on ``j``):

- :func:`regression_t`: within-condition covariance of single cells. Inside one condition
  (perturbation x batch) cells differ by intrinsic noise that propagates along the direct edges;
  regressing each gene on the perturbed genes (the candidate regulators) gives a conditional
  association that vanishes for an indirect regulator (screened off by its mediators, which are
  candidates too when every regulator is perturbed). It has no direction.
- :func:`sparse_inverse`: for a linear (cyclic) steady state, per unit of the source,
  ``R[i, j] = G[i, j] + sum_{k != i} R[i, k] G[k, j]`` over perturbed ``k``; on the perturbed
  genes ``S``, ``G[S, S] = I - V / diag(V)`` and ``G[S, U] = V R[S, U]`` with ``V = R[S, S]^-1``
  (inspre's identity, extended to unperturbed targets ``U``). Total effects below ``z_min`` are
  set to zero first (sparse, denoised ``R``) and the standard errors of ``R`` are propagated to
  first order (``se(G[:, j])^2 = (V o V) se(R[:, j])^2``).

The default network method combines the directed interventional evidence (instrumental-variable
total effects) with :func:`regression_t` (see :mod:`causalcell.network._methods`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell._utils import group_indicator


@dataclass
class Covariance:
    """Pooled within-condition covariance of single-cell expression.

    Attributes
    ----------
    C
        Genes x genes covariance of expression (analysis scale) around each condition's mean.
    n
        Residual degrees of freedom (cells minus conditions).
    genes
        Gene names of the rows and columns.
    """

    C: np.ndarray
    n: int
    genes: pd.Index


# --- kernels -------------------------------------------------------------------------------------


def pooled_covariance(
    blocks, groups: np.ndarray, n_genes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-products, group sums and group sizes from row blocks of expression.

    ``blocks`` yields ``(start, block)`` (dense or CSR); ``groups`` integer codes per row.
    Returns ``X'X`` (genes x genes), group sums (groups x genes) and group sizes.
    """
    n_groups = int(groups.max()) + 1
    xtx = np.zeros((n_genes, n_genes))
    sums = np.zeros((n_groups, n_genes))
    for start, block in blocks:
        g = groups[start : start + block.shape[0]]
        ind = group_indicator(g, n_groups)
        if sp.issparse(block):
            xtx += (block.T @ block).toarray()
            sums += (ind @ block).toarray()
        else:
            xtx += block.T @ block
            sums += ind @ block
    return xtx, sums, np.bincount(groups, minlength=n_groups).astype(float)


def within_from_moments(
    xtx: np.ndarray, sums: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, int]:
    """Pooled within-group covariance ``(X'X - sum_g n_g m_g m_g') / (N - G)`` and its df."""
    ok = sizes > 0
    means = sums[ok] / sizes[ok, None]
    df = int(sizes.sum() - ok.sum())
    if df <= 0:
        raise InputError("no replicate cells within conditions: no within-condition covariance")
    C = (xtx - (means * sizes[ok, None]).T @ means) / df
    return 0.5 * (C + C.T), df


def regression_t(C: np.ndarray, n: int, candidates: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """t-statistics of each gene regressed on the candidate genes (leaving itself out).

    Parameters
    ----------
    C
        Covariance (genes x genes).
    n
        Degrees of freedom of ``C``.
    candidates
        Column indices of the candidate regulators ``S``.
    ridge
        Added to the diagonal of ``C[S, S]``, relative to its mean diagonal.

    Returns
    -------
    np.ndarray
        ``t[a, j]``: coefficient of candidate ``S[a]`` in the regression of gene ``j`` on
        ``S \\ {j}``, divided by its standard error; 0 where ``a`` is ``j``.
    """
    S = np.asarray(candidates, int)
    A = C[np.ix_(S, S)]
    A = A + ridge * max(float(np.mean(np.diag(A))), 1e-12) * np.eye(len(S))
    P = np.linalg.inv(A)
    P = 0.5 * (P + P.T)
    B = C[S]  # candidates x genes
    coef = P @ B
    diagP = np.repeat(np.diag(P)[:, None], C.shape[0], axis=1)
    # genes that are candidates themselves: leave them out (block-inverse downdate)
    pos = np.full(C.shape[0], -1)
    pos[S] = np.arange(len(S))
    inS = np.flatnonzero(pos >= 0)
    m = pos[inS]
    Bs = B[:, inS].copy()
    Bs[m, np.arange(len(m))] = 0.0
    u = P[:, m]  # column m of P for each such gene
    coef[:, inS] = P @ Bs - u * (np.sum(u * Bs, axis=0) / u[m, np.arange(len(m))])[None, :]
    diagP[:, inS] = diagP[:, inS] - u**2 / u[m, np.arange(len(m))][None, :]
    coef[m, inS] = 0.0
    B[:, inS] = Bs
    s2 = np.maximum(np.diag(C) - np.sum(B * coef, axis=0), 0.0)  # residual sum of squares / n
    dof = np.maximum(n - len(S) + (pos >= 0), 1)  # n minus the number of regressors
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / np.sqrt(s2[None, :] * np.maximum(diagP, 0.0) / dof[None, :])
    t = np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)
    t[m, inS] = 0.0
    return t


def sparse_inverse(
    R: np.ndarray,
    se: np.ndarray,
    source_cols: np.ndarray,
    *,
    z_min: float = 2.0,
    ridge: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """Direct effects from per-unit total effects by a denoised sparse approximate inverse.

    Parameters
    ----------
    R
        Sources x genes total effects per unit change of the source (``R[i, source_cols[i]]``
        is 1 by construction).
    se
        Their standard errors (NaN or 0 = unknown: the entry is kept as is and not propagated).
    source_cols
        Column of each source among the genes.
    z_min
        Off-diagonal total effects with ``|R / se| < z_min`` are set to zero before inverting.
    ridge
        Added to the diagonal of ``R[S, S]`` (which is 1) for stability.

    Returns
    -------
    G, z
        Sources x genes direct effects and their z-scores (first-order propagation of ``se``).
    """
    s = np.asarray(source_cols, int)
    n = R.shape[0]
    se = np.where(np.isfinite(se) & (se > 0), se, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(R) / se, np.inf)
    Rt = np.where(z >= z_min, R, 0.0)
    Rt[np.arange(n), s] = 1.0
    M = Rt[:, s] + ridge * np.eye(n)
    V = np.linalg.inv(M)
    G = V @ Rt
    var = (V**2) @ (se**2)
    dV = np.diag(V)
    G[:, s] = -V / dV[None, :]
    var[:, s] = (V**2 / dV[None, :] ** 2) @ (se[:, s] ** 2)
    G[np.arange(n), s] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        zG = np.where(var > 0, G / np.sqrt(var), 0.0)
    return G, np.nan_to_num(zG, nan=0.0, posinf=0.0, neginf=0.0)


# --- front ends ----------------------------------------------------------------------------------


def within_covariance(
    cells,
    *,
    keys: tuple[str, ...] = ("perturbation", "batch"),
    min_median: int = 5,
    chunk_size: int = 20_000,
) -> Covariance | None:
    """Within-condition covariance of validated cells (:class:`~causalcell.io.Cells`).

    Expression is log1p CP10k (``expression='counts'``) or X as is (``'log'``); conditions are
    the combinations of the ``keys`` columns present in obs. Returns None without replicate
    cells: when the median condition has fewer than ``min_median`` cells or the degrees of
    freedom are below twice the number of genes (one or two profiles per condition: bulk
    arrays, DREAM steady states).
    """
    from causalcell.effects import log_normalize

    cols = [k for k in keys if k in cells.obs.columns]
    labels = cells.obs[cols].astype(str).agg("|".join, axis=1).to_numpy()
    _, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes)
    if np.median(sizes) < min_median or sizes.sum() - sizes.size < 2 * cells.n_genes:
        return None
    blocks = (
        (start, log_normalize(block, cells.expression))
        for start, block in cells.blocks(chunk_size, check=False)
    )
    xtx, sums, sizes = pooled_covariance(blocks, codes, cells.n_genes)
    C, df = within_from_moments(xtx, sums, sizes)
    return Covariance(C, df, pd.Index(cells.var_names))
