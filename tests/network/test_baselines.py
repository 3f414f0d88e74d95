"""GENIE3-style trees and PC (causal-learn) on data with a known structure."""

import numpy as np
import pytest

from causalcell.network._baselines import genie3_kernel, pc_kernel


def test_genie3_ranks_the_true_regulator_first():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    X[:, 4] = np.tanh(2 * X[:, 1]) + 0.1 * rng.normal(size=300)  # g1 -> g4, nonlinear
    imp = genie3_kernel(X, np.array([0, 1, 2, 3]), n_estimators=30, seed=0)
    assert imp[:, 4].argmax() == 1
    assert imp[:, 4].sum() == pytest.approx(1.0)
    assert imp[0, 0] == 0.0  # no self-regulation


def test_pc_orients_a_collider():
    pytest.importorskip("causallearn")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 800))
    c = a + b + 0.5 * rng.normal(size=800)  # a -> c <- b: a v-structure PC can orient
    d = c + 0.5 * rng.normal(size=800)  # c -> d follows (no new collider)
    A = pc_kernel(np.c_[a, b, c, d], alpha=0.01, max_k=None)
    assert A[0, 2] == 1 and A[1, 2] == 1 and A[2, 0] == 0
    assert A[0, 1] == 0 and A[1, 0] == 0  # a, b independent
    assert A[2, 3] == 1
