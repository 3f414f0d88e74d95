"""Array kernels of cross-scale concordance: permutation correlation, sign test, enrichment."""

from __future__ import annotations

import numpy as np
from scipy import stats

from causalcell._utils import RngLike, as_rng

_CHUNK = 512


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of ``a`` (n,) with every row of ``b`` (m, n)."""
    ac = (a - a.mean()) / np.sqrt(((a - a.mean()) ** 2).sum())
    bc = b - b.mean(1, keepdims=True)
    return (bc @ ac) / np.sqrt((bc**2).sum(1))


def permutation_correlation(
    a: np.ndarray, b: np.ndarray, *, n_perm: int = 2000, rng: RngLike = None
) -> tuple[float, float]:
    """Pearson correlation of ``a`` and ``b`` and its one-sided permutation p-value.

    ``b`` is permuted across genes ``n_perm`` times; ``p = (1 + #{r_perm >= r}) / (1 +
    n_perm)``, the test of positive concordance (agreement in direction and strength).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return np.nan, np.nan
    rng = as_rng(rng)
    r = float(_pearson_rows(a, b[None])[0])
    exceed = 0
    for start in range(0, n_perm, _CHUNK):
        m = min(_CHUNK, n_perm - start)
        perms = rng.permuted(np.broadcast_to(b, (m, len(b))), axis=1)
        exceed += int((_pearson_rows(a, perms) >= r - 1e-12).sum())
    return r, (1 + exceed) / (1 + n_perm)


def sign_agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, int, float]:
    """Fraction of pairs with the same sign, their number, and the one-sided binomial p-value."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = (a != 0) & (b != 0)
    n = int(keep.sum())
    if n == 0:
        return np.nan, 0, np.nan
    same = int((np.sign(a[keep]) == np.sign(b[keep])).sum())
    return same / n, n, float(stats.binomtest(same, n, 0.5, alternative="greater").pvalue)


def top_enrichment(score: np.ndarray, hits: np.ndarray, top: int) -> tuple[int, float, float]:
    """Overlap of the ``top`` highest-``score`` genes with ``hits`` (bool), its hypergeometric
    one-sided p-value and the fold enrichment (observed / expected overlap)."""
    score, hits = np.asarray(score, float), np.asarray(hits, bool)
    n, k = len(score), int(hits.sum())
    top = min(top, n)
    if n == 0 or k == 0 or top == 0:
        return 0, np.nan, np.nan
    chosen = np.argsort(-score, kind="stable")[:top]
    overlap = int(hits[chosen].sum())
    pval = float(stats.hypergeom.sf(overlap - 1, n, k, top))
    return overlap, pval, overlap / (top * k / n)


def set_scores(
    product: np.ndarray, members: list[np.ndarray], *, n_perm: int = 2000, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``product`` over each gene set and its one-sided p-value against random sets.

    ``members`` holds index arrays into ``product``; random sets of the same size are drawn
    without replacement (``n_perm`` per distinct size, shared by the sets of that size).
    """
    rng = as_rng(rng)
    product = np.asarray(product, float)
    means = np.array([product[m].mean() if len(m) else np.nan for m in members])
    pvals = np.full(len(members), np.nan)
    sizes = np.array([len(m) for m in members])
    for size in np.unique(sizes[sizes > 0]):
        null = np.empty(n_perm)
        for start in range(0, n_perm, _CHUNK):
            m = min(_CHUNK, n_perm - start)
            draws = rng.random((m, len(product))).argsort(axis=1)[:, :size]
            null[start : start + m] = product[draws].mean(1)
        which = np.flatnonzero(sizes == size)
        pvals[which] = (1 + (null[None] >= means[which, None] - 1e-12).sum(1)) / (1 + n_perm)
    return means, pvals
