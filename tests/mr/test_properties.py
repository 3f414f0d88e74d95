"""Statistical properties of the estimators on simulated summary statistics (seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from causalcell import mr

THETA = 0.4


def simulate(rng, n=40, *, theta=THETA, pleiotropy=None, sx=0.01, sy=0.02):
    """Strong, valid instruments unless ``pleiotropy`` (direct effects on the outcome) is given."""
    bx_true = rng.uniform(0.05, 0.2, n)
    direct = np.zeros(n) if pleiotropy is None else pleiotropy
    bx = rng.normal(bx_true, sx)
    by = rng.normal(theta * bx_true + direct, sy)
    return bx, np.full(n, sx), by, np.full(n, sy)


def test_ivw_unbiased_with_valid_instruments():
    rng = np.random.default_rng(1)
    fits = [mr.ivw(*simulate(rng)) for _ in range(300)]
    est = np.array([f.estimate for f in fits])
    se_mc = est.std(ddof=1) / np.sqrt(est.size)
    assert abs(est.mean() - THETA) < 4 * se_mc + 0.005  # weak-instrument bias is tiny here
    covered = np.mean([f.ci_low <= THETA <= f.ci_high for f in fits])
    assert 0.9 <= covered <= 0.99


def test_ivw_equals_wald_ratio_for_one_snp():
    res = mr.ivw([0.1], [0.01], [0.05], [0.02])
    ratio = mr.wald_ratio([0.1], [0.01], [0.05], [0.02])
    assert res.estimate == pytest.approx(ratio.estimate) == pytest.approx(0.5)
    assert res.se == pytest.approx(ratio.se) == pytest.approx(0.2)


def test_wald_ratio_second_order():
    res = mr.wald_ratio([0.1], [0.01], [0.05], [0.02], order=2)
    assert res.se == pytest.approx(np.sqrt(0.02**2 / 0.1**2 + 0.05**2 * 0.01**2 / 0.1**4))


def test_ivw_with_identity_ld_matches_uncorrelated(ldl_arrays):
    n = ldl_arrays[0].size
    plain, gls = mr.ivw(*ldl_arrays), mr.ivw(*ldl_arrays, ld=np.eye(n))
    assert gls.estimate == pytest.approx(plain.estimate)
    assert gls.se == pytest.approx(plain.se)


def test_egger_recovers_planted_intercept():
    rng = np.random.default_rng(2)
    bx, sx, by, sy = simulate(rng, n=200, pleiotropy=np.full(200, 0.03), sy=0.01)
    res = mr.egger(bx, sx, by, sy)
    assert res.extras["intercept"] == pytest.approx(0.03, abs=3 * res.extras["intercept_se"])
    assert res.extras["intercept_pval"] < 1e-3
    assert res.estimate == pytest.approx(THETA, abs=3 * res.se)
    assert mr.ivw(bx, sx, by, sy).estimate > THETA + 0.1  # IVW is biased by the pleiotropy


def test_egger_is_invariant_to_allele_coding(ldl_arrays):
    bx, sx, by, sy = ldl_arrays
    sign = np.where(np.arange(bx.size) % 2, -1, 1)
    a, b = mr.egger(bx, sx, by, sy), mr.egger(bx * sign, sx, by * sign, sy)
    assert a.estimate == pytest.approx(b.estimate)
    assert a.extras["intercept"] == pytest.approx(b.extras["intercept"])


@pytest.mark.parametrize("func", [mr.weighted_median, mr.simple_median, mr.mode_based])
def test_robust_to_a_minority_of_invalid_instruments(func):
    rng = np.random.default_rng(3)
    n = 40
    direct = np.where(np.arange(n) < 14, rng.uniform(0.05, 0.15, n), 0.0)  # 35% invalid
    data = simulate(rng, n=n, pleiotropy=direct, sy=0.005, sx=0.002)
    res = func(*data, n_boot=500, rng=0)
    assert abs(res.estimate - THETA) < 0.1
    assert abs(mr.ivw(*data).estimate - THETA) > 0.2


def test_weighted_median_second_order_weights(ldl_arrays):
    first = mr.weighted_median(*ldl_arrays, n_boot=200, rng=0)
    second = mr.weighted_median(*ldl_arrays, order=2, n_boot=200, rng=0)
    assert second.extras["order"] == 2
    assert second.estimate != first.estimate
    assert abs(second.estimate - first.estimate) < 0.5


def test_bootstrap_is_reproducible(ldl_arrays):
    a = mr.weighted_median(*ldl_arrays, n_boot=500, rng=7)
    b = mr.weighted_median(*ldl_arrays, n_boot=500, rng=np.random.default_rng(7))
    assert a.se == b.se


def test_presso_flags_planted_outliers():
    rng = np.random.default_rng(4)
    n = 30
    direct = np.zeros(n)
    direct[[3, 11, 20]] = [0.2, -0.25, 0.3]
    data = simulate(rng, n=n, pleiotropy=direct)
    res = mr.presso(*data, n_sim=2000, rng=0)
    assert res.global_pval < 0.01
    assert set(np.flatnonzero(res.outliers)) == {3, 11, 20}
    assert res.corrected.estimate == pytest.approx(THETA, abs=3 * res.corrected.se)
    assert res.corrected.n_snps == n - 3


def test_presso_quiet_on_valid_instruments():
    data = simulate(np.random.default_rng(5), n=30)
    res = mr.presso(*data, n_sim=1000, rng=0)
    assert res.global_pval > 0.05
    assert not res.outliers.any()


def test_steiger_direction():
    rng = np.random.default_rng(6)
    bx, sx, by, sy = simulate(rng, n=20)
    forward = mr.steiger(bx, sx, by, sy, n_exposure=10_000, n_outcome=10_000)
    assert forward.correct_direction
    assert forward.pval < 0.05
    backward = mr.steiger(by, sy, bx, sx, n_exposure=10_000, n_outcome=10_000)
    assert not backward.correct_direction
    assert backward.pval == pytest.approx(forward.pval)


def test_twmr_without_ridge_is_gls_multivariable():
    rng = np.random.default_rng(7)
    E = rng.normal(0, 0.1, (8, 2))
    C = np.eye(8)
    G = E @ np.array([0.3, -0.2]) + rng.normal(0, 0.005, 8)
    res = mr.twmr(E, G, C, n_eqtl=1e4, n_gwas=1e5, ridge=0.0)
    np.testing.assert_allclose(res.alpha, np.linalg.lstsq(E, G, rcond=None)[0])
