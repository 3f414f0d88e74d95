"""Empirical Bayes two-group model: recovery of simulated proportions, calibration, naive Bayes."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from causalcell import InputError
from causalcell.network._ebayes import posterior, two_group_fit


def _mixture(rng, n_rows=50, n_cols=300):
    """Rows 0-19 have 20% non-null entries (N(0, 1 + 4^2), on the grid), the others none."""
    prop = np.where(np.arange(n_rows) < 20, 0.2, 0.0)
    truth = rng.random((n_rows, n_cols)) < prop[:, None]
    z = rng.normal(size=truth.shape) * np.where(truth, np.sqrt(17.0), 1.0)
    return z, truth, prop


def test_two_group_fit_recovers_row_proportions_and_null_scale():
    z, _, _ = _mixture(np.random.default_rng(0))
    fit = two_group_fit(z, tol=1e-6)
    assert fit.s0 == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(fit.prior[:20].mean(), 0.2, atol=0.03)
    assert fit.prior[20:].max() < 0.05


def test_posterior_is_calibrated_and_row_prior_ranks_better():
    z, truth, _ = _mixture(np.random.default_rng(1))
    fit = two_group_fit(z, tol=1e-6)
    for lo, hi in ((0.5, 0.8), (0.8, 1.0)):
        sel = (fit.posterior >= lo) & (fit.posterior < hi)
        assert truth[sel].mean() == pytest.approx(fit.posterior[sel].mean(), abs=0.1)
    shared = two_group_fit(z, per_row=False, tol=1e-4)
    ap = [average_precision_score(truth.ravel(), f.posterior.ravel()) for f in (fit, shared)]
    assert ap[0] > ap[1] + 0.05


def test_mask_and_naive_bayes():
    z, _, _ = _mixture(np.random.default_rng(2))
    mask = np.ones(z.shape, bool)
    mask[:, 0] = False
    z[:, 0] = 100.0  # masked entries do not enter the fit
    fit = two_group_fit(z, mask)
    assert np.all(fit.posterior[:, 0] == 0) and fit.prior[20:].max() < 0.05
    prior = np.array([0.1, 0.5])
    np.testing.assert_allclose(posterior(prior, np.ones((2, 3))), np.repeat(prior[:, None], 3, 1))
    np.testing.assert_allclose(posterior(np.array([0.5]), np.full((1, 1), 3.0)), [[0.75]])
    with pytest.raises(InputError):
        two_group_fit(np.zeros(5))


def test_source_prior_finds_weak_targets_of_hubs():
    """Two hubs with 18 weak targets each among perturbed non-regulators: pooling the evidence
    over a source's targets (zscore_eb) beats the per-edge z-score, and the default adds the
    within-condition conditional evidence on top."""
    from causalcell.network import evaluate, infer_network, truth_frame
    from tests.network._sem import sem_cells

    G = np.zeros((60, 60))
    G[0, 2:20], G[1, 20:38] = 0.06, -0.06
    truth = truth_frame(G, [f"g{i}" for i in range(60)])
    cells = sem_cells(G, perturbed=[0, 1, *range(40, 52)], n_cells=30, guides=2, seed=0)
    aupr = {
        m: evaluate(infer_network(cells, method=m, rng=0), truth)["aupr"]
        for m in ("zscore", "zscore_eb", "causalcell")
    }
    assert aupr["zscore_eb"] > aupr["zscore"] + 0.1
    assert aupr["causalcell"] >= aupr["zscore_eb"]
    assert aupr["causalcell"] > 1.5 * aupr["zscore"]


def test_direct_posterior_reduces_to_naive_bayes_and_screens_indirect():
    from causalcell.network._ebayes import direct_posterior

    rng = np.random.default_rng(3)
    lr_t, lr_c = np.exp(rng.normal(0, 2, (4, 6))), np.exp(rng.normal(0, 2, (4, 6)))
    mask = np.ones((4, 6), bool)
    prior = np.full(4, 0.2)
    naive = direct_posterior(prior, lr_t, lr_c, mask, direct_share=1.0)
    np.testing.assert_allclose(naive, posterior(prior, lr_t, lr_c))
    # a huge total effect without conditional association: P(direct) -> d LRc / (1 - d + d LRc)
    lr_t[0, 0], lr_c[0, 0] = 1e200, 0.1
    post = direct_posterior(prior, lr_t, lr_c, mask, direct_share=0.9)
    assert post[0, 0] == pytest.approx(0.09 / (0.1 + 0.09), rel=1e-6)
    with pytest.raises(InputError):
        direct_posterior(prior, lr_t, lr_c, mask, direct_share=0.0)


def _states(rng, n_rows=40, n_cols=400):
    """Rows 0-9 regulate 20% of the genes: half of those direct, half indirect."""
    z, truth, _ = _mixture(rng, n_rows, n_cols)
    direct = truth & (rng.random(truth.shape) < 0.5)
    return z, truth, direct


def test_conditional_fit_learns_an_informative_statistic():
    """t is wide (sd 4) on direct edges only: the learned likelihood ratio rises with |t|, the
    posterior ranks direct edges above the total-effect posterior, and the weights of t's
    density in the rest stay on the null scale."""
    from causalcell.network._ebayes import conditional_fit

    rng = np.random.default_rng(4)
    z, _, direct = _states(rng)
    t = rng.normal(size=z.shape) * np.where(direct, 4.0, 1.0)
    mask = np.ones(z.shape, bool)
    total = two_group_fit(z, mask)
    fit = conditional_fit(t, total.prior, total.lr, mask, direct_share=0.9)
    order = np.argsort(np.abs(t.ravel()))
    lr_sorted = fit.lr.ravel()[order]
    assert lr_sorted[: order.size // 2].max() < 1.0 < lr_sorted[-100:].min()
    ap = [
        average_precision_score(direct.ravel(), s.ravel()) for s in (total.posterior, fit.posterior)
    ]
    assert ap[1] > ap[0] + 0.1
    assert fit.w_other[0] > 0.8


def test_conditional_fit_ignores_an_uninformative_statistic():
    """t independent of the state (and wider than N(0, 1)): the learned likelihood ratio stays
    near 1 and the ranking is the total-effect posterior's (checked on seeds 5-10: 90% of
    |log LR| <= 0.10, AP change <= 0.0013)."""
    from scipy.stats import spearmanr

    from causalcell.network._ebayes import conditional_fit

    rng = np.random.default_rng(5)
    z, truth, _ = _states(rng)
    t = rng.standard_t(3, size=z.shape)
    mask = np.ones(z.shape, bool)
    total = two_group_fit(z, mask)
    fit = conditional_fit(t, total.prior, total.lr, mask, direct_share=1.0)
    assert np.quantile(np.abs(np.log(fit.lr)), 0.9) < np.log(1.25)  # the bulk near 1
    ap = [
        average_precision_score(truth.ravel(), s.ravel()) for s in (total.posterior, fit.posterior)
    ]
    assert ap[1] == pytest.approx(ap[0], abs=0.01)
    assert spearmanr(total.posterior.ravel(), fit.posterior.ravel())[0] > 0.95
