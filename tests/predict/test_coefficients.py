"""Gene-level interaction coefficients: the kernel against exact solutions, and the causal
model on screens whose pairs combine with gene-specific coefficients (as in Norman et al.'s
table, where a gene's coefficients in other pairs predict a held-out pair's)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalcell.predict import Additive, CausalPropagation, Responses, interaction_table
from causalcell.predict._coefficients import (
    CoefficientProblem,
    fit_coefficients,
    leave_one_out,
    solve_coefficients,
)


def _problem(k_true, pairs, rng, noise=0.0, rows=40):
    X = [rng.normal(size=(2, rows)) for _ in pairs]
    y = [k_true[list(p)] @ x + noise * rng.normal(size=rows) for p, x in zip(pairs, X, strict=True)]
    return CoefficientProblem.from_rows(len(k_true), [list(p) for p in pairs], X, y)


def test_noise_free_coefficients_are_recovered_and_penalty_pulls_to_the_shared_one():
    rng = np.random.default_rng(0)
    k_true = rng.uniform(0.4, 1.6, 8)
    pairs = [(i, j) for i in range(8) for j in range(i + 1, 8)]
    problem = _problem(k_true, pairs, rng)
    k, _ = fit_coefficients(problem, 1e-9)
    np.testing.assert_allclose(k, k_true, atol=1e-6)
    shared, k0 = fit_coefficients(problem, np.inf)
    np.testing.assert_allclose(shared, k0)
    strong, _ = fit_coefficients(problem, 1e6)
    assert np.abs(strong - k0).max() < 1e-3


def test_leave_one_out_equals_refitting_without_the_combination():
    rng = np.random.default_rng(1)
    k_true = rng.uniform(0.5, 1.5, 6)
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5), (1, 4)]
    problem = _problem(k_true, pairs, rng, noise=0.3)
    for p, (k, k0) in enumerate(leave_one_out(problem, 2.0)):
        rest = CoefficientProblem(
            problem.n_genes,
            [m for i, m in enumerate(problem.members) if i != p],
            [g for i, g in enumerate(problem.gram) if i != p],
            [c for i, c in enumerate(problem.cross) if i != p],
        )
        A, b = rest.totals()
        k_ref, k0_ref = solve_coefficients(A, b, problem.information(), 2.0)
        np.testing.assert_allclose(k, k_ref)
        assert k0 == pytest.approx(k0_ref)


def _gene_coefficient_screen(seed: int, spread: float, noise: float = 0.05):
    """Singles, and pairs ``k_a y_a + k_b y_b`` off the perturbed genes (each gene its own
    coefficient; ``spread = 0``: additive)."""
    rng = np.random.default_rng(seed)
    n_genes, n_single = 80, 30
    genes = pd.Index([f"g{i}" for i in range(n_genes)])
    singles = rng.normal(0, 1.0, (n_single, n_genes)) * (rng.random((n_single, n_genes)) < 0.3)
    singles[np.arange(n_single), np.arange(n_single)] = 2.0  # each target's own change
    k = np.exp(rng.normal(0, spread, n_single)) if spread else np.ones(n_single)
    pairs = sorted({tuple(sorted(rng.choice(n_single, 2, replace=False))) for _ in range(150)})
    combos = []
    for i, j in pairs:
        y = k[i] * singles[i] + k[j] * singles[j]
        y[[i, j]] = singles[i, [i, j]] + singles[j, [i, j]]
        combos.append(y)
    labels = [f"g{i}" for i in range(n_single)] + [f"g{i}+g{j}" for i, j in pairs]
    truth = np.vstack([singles, combos])
    observed = truth + noise * rng.normal(size=truth.shape)
    r = Responses(observed, pd.Index(labels), genes, np.full(truth.shape, noise))
    return r, pd.DataFrame(truth, index=labels, columns=genes), n_single


def test_gene_coefficients_predict_held_out_pairs_better_than_additive():
    r, truth, n_single = _gene_coefficient_screen(seed=2, spread=0.4)
    labels = list(r.perturbations)
    n_train = n_single + (len(labels) - n_single) // 2
    train, test = labels[:n_train], labels[n_train:]
    model = CausalPropagation(saturation=(np.inf,), intervention="shift").fit(r.subset(train))
    assert model.coefficient_penalty_ is not None
    additive = Additive().fit(r.subset(train))
    err_model = ((model.predict(test) - truth.loc[test]) ** 2).to_numpy().mean()
    err_add = ((additive.predict(test) - truth.loc[test]) ** 2).to_numpy().mean()
    assert err_model < 0.5 * err_add
    # the model's own interaction calls (its double vs its singles) follow the true ones
    singles = truth.iloc[:n_single]
    true_calls = interaction_table(truth.loc[test], singles)
    own = interaction_table(model.predict(test), model.predict(labels[:n_single]))
    additive_accuracy = (true_calls["call"] == "additive").mean()
    assert additive_accuracy < 0.7  # the pairs do interact
    assert (own["call"] == true_calls["call"]).mean() > additive_accuracy + 0.15
    assert np.corrcoef(own["score"], true_calls["score"])[0, 1] > 0.8


def test_additive_pairs_keep_the_model_close_to_additive():
    r, _, n_single = _gene_coefficient_screen(seed=3, spread=0.0, noise=0.2)
    labels = list(r.perturbations)
    n_train = n_single + (len(labels) - n_single) // 2
    train, test = labels[:n_train], labels[n_train:]
    model = CausalPropagation(saturation=(np.inf,), intervention="shift").fit(r.subset(train))
    coefficients = np.array(list(model.coefficients_.values()) or [1.0])
    assert np.abs(coefficients - 1).max() < 0.1
    own = interaction_table(model.predict(test), model.predict(labels[:n_single]))
    assert (own["call"] == "additive").mean() > 0.95


def test_a_choice_needs_to_beat_the_simplest_by_one_standard_error():
    from causalcell.predict._causal import _one_se_choice

    rng = np.random.default_rng(4)
    simplest = rng.uniform(1, 2, 30)
    noise = rng.normal(0, 0.3, 30)
    slight = simplest - 0.02 + noise  # better on average by far less than its SE
    clear = simplest - 0.5 + 0.1 * noise
    assert _one_se_choice(simplest, {"slight": slight}, "simple") == "simple"
    assert _one_se_choice(simplest, {"slight": slight, "clear": clear}, "simple") == "clear"
