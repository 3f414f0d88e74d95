"""Predictors against their published formulas and on data where the answer is known."""

import numpy as np
import pandas as pd
import pytest

from causalcell import InputError
from causalcell.predict import (
    Additive,
    AutoPredictor,
    LinearEmbedding,
    Responses,
    TrainMean,
    centroid_accuracy,
    discrimination_score,
    evaluate_splits,
    leave_one_target_out,
    parse_perturbations,
    pearson_delta,
    predict,
    simulation_split,
)


def _low_rank_responses(n_genes=60, k=4, noise=0.05, seed=0) -> Responses:
    """Each gene's perturbation response is a linear function of its own position in a k-dim
    gene embedding: the structure the linear baseline assumes (and that 'train mean' ignores)."""
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n_genes, k))
    W = rng.normal(size=(k, k))
    genes = pd.Index([f"g{i}" for i in range(n_genes)])
    Y = E @ W @ E.T + noise * rng.normal(
        size=(n_genes, n_genes)
    )  # genes x perturbations (all genes perturbed)
    return Responses(Y.T.copy(), genes.copy(), genes)


def test_linear_matches_published_closed_form():
    rng = np.random.default_rng(1)
    r = _low_rank_responses(n_genes=30)
    r = r.subset(list(r.perturbations[rng.permutation(30)[:20]]))
    model = LinearEmbedding(n_components=5, ridge=0.1).fit(r)
    Y = r.delta.T
    b = Y.mean(axis=1, keepdims=True)
    U = np.linalg.svd(Y - b, full_matrices=False)[0][:, :5]
    P = U[[r.genes.get_loc(p) for p in r.perturbations]]
    W = (
        np.linalg.inv(U.T @ U + 0.1 * np.eye(5))
        @ U.T
        @ (Y - b)
        @ P
        @ np.linalg.inv(P.T @ P + 0.1 * np.eye(5))
    )
    test = [g for g in r.genes if g not in set(r.perturbations)][:3]
    expected = (U @ W @ U[[r.genes.get_loc(g) for g in test]].T + b).T
    np.testing.assert_allclose(model.predict(test).to_numpy(), expected, atol=1e-10)


def test_linear_beats_train_mean_on_unseen_genes_with_module_structure():
    r = _low_rank_responses()
    splits = leave_one_target_out(r.perturbations)
    lin = evaluate_splits(LinearEmbedding(), r, splits)
    mean = evaluate_splits(TrainMean(), r, splits)
    assert lin["pearson_delta_top20"].mean() > mean["pearson_delta_top20"].mean() + 0.2
    assert lin["mse_top20"].mean() < mean["mse_top20"].mean()
    assert lin["discrimination"].mean() > 0.9
    auto = AutoPredictor().fit(r)
    # the module model contains the linear model's gene embedding among its features
    assert auto.chosen_ in {"linear", "module", "ensemble"}
    assert auto.cv_scores_[auto.chosen_] > auto.cv_scores_["train_mean"] + 0.2


def test_auto_chooses_train_mean_when_responses_share_one_profile():
    rng = np.random.default_rng(2)
    genes = pd.Index([f"g{i}" for i in range(40)])
    common = rng.normal(size=40)
    r = Responses(common + 0.3 * rng.normal(size=(40, 40)), genes.copy(), genes)
    assert AutoPredictor().fit(r).chosen_ == "train_mean"


def test_additive_combination_is_sum_of_measured_singles():
    r = _low_rank_responses(n_genes=10)
    model = Additive().fit(r)
    pred = model.predict(["g1+g2", "g3"])
    np.testing.assert_allclose(pred.loc["g1+g2"], r.delta[1] + r.delta[2])
    np.testing.assert_allclose(pred.loc["g3"], r.delta[3])
    assert (model.uncertainty_.loc["g3"] == 0).all()


def test_metrics_on_perfect_and_shuffled_predictions():
    rng = np.random.default_rng(3)
    true = rng.normal(size=(30, 50))
    assert pearson_delta(true[0], true[0]) == pytest.approx(1.0)
    assert discrimination_score(true, true).mean() == 1.0
    assert centroid_accuracy(true, true).mean() == 1.0
    shuffled = true[rng.permutation(30)]
    assert 0.2 < discrimination_score(shuffled, true).mean() < 0.8
    mean_pred = np.tile(true.mean(axis=0), (30, 1))  # predicting the average response
    assert centroid_accuracy(mean_pred, true).mean() < 0.2


def test_simulation_split_categories():
    labels = [f"g{i}" for i in range(20)] + ["g0+g1", "g2+g3", "g4+g5", "g6+g7", "x+y"]
    split = simulation_split(labels, test_fraction=0.3, rng=0)
    assert set(split.train).isdisjoint(split.test)
    held = {p for p, c in split.category.items() if c == "unseen_single"}
    assert len(held) == 6
    for p, c in split.category.items():
        if c.startswith("combo_seen"):
            seen = sum(g in split.train for g in p.split("+"))
            assert c == f"combo_seen{seen}"
    assert split.category["x+y"] == "combo_seen0"


def test_parse_and_unknown_targets(screen):
    assert parse_perturbations("B+A, C,ctrl+D") == {"B+A": "A+B", "C": "C", "ctrl+D": "D"}
    with pytest.raises(InputError, match="control"):
        parse_perturbations("ctrl")
    adata, _ = screen
    with pytest.raises(InputError, match="unknown perturbation targets"):
        predict(adata, "NOT_A_GENE", rng=0)
    pred, sd = predict(adata, "A+B,G5", rng=0)
    assert list(pred.index) == ["A+B", "G5"] and pred.shape == sd.shape


def test_interval_coverage_is_nominal_for_calibrated_sds_and_low_when_overconfident():
    from causalcell.predict import interval_coverage

    rng = np.random.default_rng(5)
    true = rng.normal(0, 2, 20000)
    sd = rng.uniform(0.5, 1.5, 20000)
    pred = true + sd * rng.normal(size=20000)
    assert interval_coverage(pred, sd, true, top=None) == pytest.approx(0.95, abs=0.01)
    assert interval_coverage(pred, sd / 2, true, top=None) == pytest.approx(0.673, abs=0.015)


def test_coverage_is_nominal_on_the_predicted_top_genes_but_not_on_the_measured_ones():
    """Posterior intervals of a normal model are calibrated given the prediction, so the genes
    the model ranks top keep 95% coverage; the genes that truly changed most are the ones the
    shrunk prediction misses (selection on the outcome)."""
    from causalcell.predict import interval_coverage

    rng = np.random.default_rng(6)
    true = rng.normal(0, 1, (400, 500))
    pred = (true + rng.normal(0, 1, true.shape)) / 2  # posterior mean
    sd = np.full(true.shape, np.sqrt(0.5))  # posterior sd
    rows = list(zip(pred, sd, true, strict=True))
    by_pred = np.mean([interval_coverage(p, s, t, 20, select="pred") for p, s, t in rows])
    by_true = np.mean([interval_coverage(p, s, t, 20) for p, s, t in rows])
    assert by_pred == pytest.approx(0.95, abs=0.01)
    assert by_true < 0.7
    with pytest.raises(ValueError, match="select"):
        interval_coverage(pred[0], sd[0], true[0], select="both")
