"""Concordance kernels against scipy and against permutation nulls."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from causalcell import concordance as cc


def test_permutation_correlation_matches_pearson_and_bounds_p():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    b = a + 0.5 * rng.normal(size=40)
    r, p = cc.permutation_correlation(a, b, n_perm=999, rng=1)
    assert r == pytest.approx(stats.pearsonr(a, b)[0])
    assert p == pytest.approx(1 / 1000)  # no permutation beats a strong correlation
    r_neg, p_neg = cc.permutation_correlation(a, -b, n_perm=999, rng=1)
    assert r_neg == pytest.approx(-r) and p_neg > 0.99  # one-sided: negative is not concordant


def test_permutation_p_is_uniform_under_independence():
    rng = np.random.default_rng(2)
    ps = [
        cc.permutation_correlation(rng.normal(size=25), rng.normal(size=25), n_perm=199, rng=rng)[1]
        for _ in range(300)
    ]
    assert 0.02 <= np.mean(np.array(ps) < 0.05) <= 0.09
    assert 0.4 <= np.median(ps) <= 0.6


def test_permutation_correlation_degenerate():
    assert np.isnan(cc.permutation_correlation([1.0, 2.0], [1.0, 2.0], rng=0)[0])
    assert np.isnan(cc.permutation_correlation(np.ones(10), np.arange(10.0), rng=0)[1])


def test_sign_agreement_is_a_binomial_test():
    a = np.array([1.0, 2.0, -1.0, 0.5, -3.0, 2.0, 0.0])
    b = np.array([0.3, 1.0, -2.0, -0.5, -1.0, 4.0, 1.0])
    frac, n, p = cc.sign_agreement(a, b)
    assert n == 6 and frac == pytest.approx(5 / 6)
    assert p == pytest.approx(stats.binomtest(5, 6, 0.5, alternative="greater").pvalue)
    assert np.isnan(cc.sign_agreement([], [])[0])


def test_top_enrichment_hypergeometric():
    score = np.arange(20.0)[::-1]  # gene 0 ranks first
    hits = np.zeros(20, bool)
    hits[[0, 1, 2, 15]] = True
    overlap, p, fold = cc.top_enrichment(score, hits, 5)
    assert overlap == 3
    assert p == pytest.approx(stats.hypergeom.sf(2, 20, 4, 5))
    assert fold == pytest.approx(3 / (5 * 4 / 20))


def test_set_scores_find_the_planted_set():
    rng = np.random.default_rng(3)
    product = rng.normal(size=300)
    product[:10] += 3.0
    members = [np.arange(10), np.arange(100, 110), np.arange(200, 240)]
    means, p = cc.set_scores(product, members, n_perm=999, rng=4)
    assert means[0] == pytest.approx(product[:10].mean())
    assert p[0] == pytest.approx(1 / 1000)
    assert p[1] > 0.01 and p[2] > 0.01
