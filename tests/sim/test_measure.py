import numpy as np
import pytest
from scipy import stats

from causalcell.sim import expected_log1p_cp10k, sample_counts


@pytest.mark.parametrize("theta", [1.0, 4.0, 50.0])
def test_expected_log1p_cp10k_matches_direct_summation(theta):
    rng = np.random.default_rng(0)
    log_mu = rng.normal(0, 2.5, (3, 40))
    got = expected_log1p_cp10k(log_mu, theta)
    scale = 1e4 / np.exp(log_mu).sum(axis=1)
    for c, g in [(0, 0), (1, 3), (2, 5), (0, int(np.argmax(log_mu[0])))]:
        mu = np.exp(log_mu[c, g])
        y = np.arange(int(60 * mu + 2000))
        pmf = stats.nbinom.pmf(y, theta, theta / (theta + mu))
        assert got[c, g] == pytest.approx((pmf * np.log1p(scale[c] * y)).sum(), abs=2e-4)


def test_zero_inflation_scales_expectation():
    log_mu = np.log(np.full((1, 10), 3.0))
    full = expected_log1p_cp10k(log_mu, 5.0)
    half = expected_log1p_cp10k(log_mu, 5.0, 0.5)
    # halving the kept mass doubles the scale 1e4/total and halves the weight
    assert np.all(half < full)


def test_sample_counts_moments():
    mu, theta = 6.0, 3.0
    y = sample_counts(np.full(200_000, np.log(mu)), theta, rng=0)
    assert y.dtype == np.int32
    assert y.mean() == pytest.approx(mu, rel=0.02)
    assert y.var() == pytest.approx(mu + mu**2 / theta, rel=0.05)
    z = sample_counts(np.full(200_000, np.log(mu)), theta, 0.3, rng=0)
    assert z.mean() == pytest.approx(0.7 * mu, rel=0.02)
