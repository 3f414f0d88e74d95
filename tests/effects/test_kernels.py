"""Kernels against direct numpy computations."""

import numpy as np
import scipy.sparse as sp
from scipy import stats

from causalcell.effects import bh_fdr, log_normalize
from causalcell.effects._fused import class_moments, own_projections
from causalcell.effects._kernels import Moments, stratified_test


def _moments(Y, groups, n_groups, chunk, counts=False, targets=()):
    """Group moments of ``Y`` streamed in row blocks through the fused kernel."""
    G = Y.shape[1]
    s1, s2 = np.zeros((n_groups, G)), np.zeros((n_groups, G))
    target_pos = np.full(G, -1)
    target_pos[list(targets)] = np.arange(len(targets))
    lin1, lin2 = np.zeros((n_groups, len(targets))), np.zeros((n_groups, len(targets)))
    for start in range(0, Y.shape[0], chunk):
        block = sp.csr_matrix(Y[start : start + chunk])
        rows = groups[start : start + chunk]
        class_moments(
            block.data, block.indices, block.indptr, rows, counts, s1, s2, target_pos, lin1, lin2
        )
    n = np.bincount(groups[groups >= 0], minlength=n_groups).astype(float)
    return Moments(n, s1, s2), Moments(n, lin1, lin2)


def test_log_normalize_matches_definition():
    rng = np.random.default_rng(1)
    counts = rng.poisson(2.0, (30, 8))
    counts[0] = 0  # an empty cell stays zero
    expected = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4)
    np.testing.assert_allclose(log_normalize(counts), expected)
    np.testing.assert_allclose(log_normalize(sp.csr_matrix(counts)).toarray(), expected)


def test_moments_do_not_depend_on_chunking_or_sparsity():
    rng = np.random.default_rng(2)
    Y = rng.poisson(0.5, (101, 7)).astype(float)
    groups = rng.integers(-1, 3, 101)
    ref, _ = _moments(Y, groups, 3, 101)
    for chunk in (1, 10, 33):
        for mat in (Y, sp.csr_matrix(Y)):
            m, _ = _moments(mat, groups, 3, chunk)
            np.testing.assert_allclose(m.s1, ref.s1)
            np.testing.assert_allclose(m.s2, ref.s2)
    for g in range(3):
        np.testing.assert_allclose(ref.s1[g], Y[groups == g].sum(0))
        np.testing.assert_allclose(ref.s2[g], (Y[groups == g] ** 2).sum(0))
        assert ref.n[g] == (groups == g).sum()


def test_fused_counts_path_matches_log_normalize_and_cp10k():
    """Counts: log1p CP10k sums (incl. counts above the log table) and linear CP10k sums."""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(1, 0.05, (80, 9))  # many counts above 64
    counts[3] = 0  # an empty cell contributes zeros
    groups = rng.integers(-1, 4, 80)
    m, lin = _moments(counts, groups, 4, 17, counts=True, targets=(2, 7))
    Y = log_normalize(counts)
    cp10k = counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4
    for g in range(4):
        rows = groups == g
        np.testing.assert_allclose(m.s1[g], Y[rows].sum(0), rtol=1e-12)
        np.testing.assert_allclose(m.s2[g], (Y[rows] ** 2).sum(0), rtol=1e-12)
        np.testing.assert_allclose(lin.s1[g], cp10k[rows][:, [2, 7]].sum(0), rtol=1e-12)
        np.testing.assert_allclose(lin.s2[g], (cp10k[rows][:, [2, 7]] ** 2).sum(0), rtol=1e-12)


def test_own_projections_are_row_dot_products():
    rng = np.random.default_rng(6)
    counts = rng.poisson(3.0, (40, 6))
    units = rng.normal(size=(3, 6))
    which = rng.integers(-1, 3, 40)
    out = np.full(40, np.nan)
    X = sp.csr_matrix(counts)
    own_projections(X.data, X.indices, X.indptr, which, True, units, out)
    Y = log_normalize(counts)
    used = which >= 0
    np.testing.assert_allclose(out[used], np.einsum("ig,ig->i", Y[used], units[which[used]]))
    assert np.isnan(out[~used]).all()


def test_single_batch_test_is_students_t():
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(250, 5))
    Y[:60] += 0.4
    groups = np.r_[np.zeros(60, int), np.ones(190, int)]  # 0 = perturbed, 1 = control
    m = _moments(Y, groups, 2, 50)[0].reshape(2, 1)
    res = stratified_test(
        type(m)(m.n[:1], m.s1[:1], m.s2[:1]), type(m)(m.n[1:], m.s1[1:], m.s2[1:])
    )
    a, b = Y[:60], Y[60:]
    np.testing.assert_allclose(res.delta[0], a.mean(0) - b.mean(0))
    ref = stats.ttest_ind(a, b, equal_var=True)  # one batch: Student's two-sample t test
    np.testing.assert_allclose(res.delta[0] / res.se[0], ref.statistic)
    np.testing.assert_allclose(res.pval[0], ref.pvalue)


def test_stratification_removes_batch_confounding():
    """A batch shift plus perturbed cells mostly in one batch: naive delta biased, matched not."""
    rng = np.random.default_rng(4)
    n = 4000
    batch = rng.integers(0, 2, n)
    perturbed = rng.random(n) < np.where(batch == 1, 0.4, 0.05)
    Y = rng.normal(size=(n, 1)) + 1.0 * batch[:, None]
    group = (
        np.where(perturbed, 0, 1) * 2 + batch
    )  # rows: (perturbed, b0), (perturbed, b1), (ctrl, b0), ...
    m = _moments(Y, group, 4, 1000)[0].reshape(2, 2)
    res = stratified_test(
        type(m)(m.n[:1], m.s1[:1], m.s2[:1]), type(m)(m.n[1:], m.s1[1:], m.s2[1:])
    )
    naive = Y[perturbed].mean() - Y[~perturbed].mean()
    assert naive > 0.4
    assert abs(res.delta[0, 0]) < 3 * res.se[0, 0]
    assert res.pval[0, 0] > 0.001


def test_bh_fdr_matches_scipy_and_keeps_nan():
    p = np.array([[0.01, np.nan], [0.04, 0.5]])
    q = bh_fdr(p)
    assert np.isnan(q[0, 1])
    np.testing.assert_allclose(q[np.isfinite(p)], stats.false_discovery_control([0.01, 0.04, 0.5]))


def test_binned_kde_matches_scipy_gaussian_kde():
    from causalcell.effects._escape import binned_kde

    rng = np.random.default_rng(5)
    x = np.r_[rng.normal(0, 1, 3000), rng.normal(3, 0.5, 1000)]
    exact = stats.gaussian_kde(x)(x)
    np.testing.assert_allclose(binned_kde(x), exact, atol=0.02 * exact.max())


def test_row_threads_give_bitwise_identical_sums():
    """Rows of a class always go to one thread, in order: threading never changes a sum."""
    from causalcell.effects._fused import RowThreads

    rng = np.random.default_rng(7)
    X = sp.csr_matrix(rng.poisson(1.5, (500, 30)))
    classes = rng.integers(-1, 25, 500)
    results = []
    for n_threads in (1, 2, 3):
        s1, s2 = np.zeros((25, 30)), np.zeros((25, 30))
        lin = np.zeros((25, 0))
        with RowThreads(n_threads) as threads:
            threads.run(class_moments, X, classes, True, s1, s2, np.full(30, -1), lin, lin)
        results.append((s1, s2))
    for s1, s2 in results[1:]:
        np.testing.assert_array_equal(s1, results[0][0])
        np.testing.assert_array_equal(s2, results[0][1])
