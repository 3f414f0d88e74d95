"""Prior networks as a soft prior: formats, invariants, and effect on a simulated data set."""

import numpy as np
import pandas as pd
import pytest

from causalcell import InputError
from causalcell.network import EdgeScores, apply_prior, evaluate, infer_network, read_prior
from tests.network.test_time import direct_truth, small_degron


def test_read_prior_accepts_dorothea_and_keeps_the_best_confidence(tmp_path):
    path = tmp_path / "doro.csv"
    pd.DataFrame(
        {
            "tf": ["A", "A", "B"],
            "confidence": ["C", "a", "E"],
            "target": ["x", "x", "y"],
            "mor": [1, 1, -1],
        }
    ).to_csv(path, index=False)
    prior = read_prior(path)
    assert prior.to_dict("records") == [
        {"source": "A", "target": "x", "prior": 1.0},
        {"source": "B", "target": "y", "prior": 0.2},
    ]
    with pytest.raises(InputError, match="source,target"):
        read_prior(pd.DataFrame({"regulator": ["A"], "gene": ["x"]}))
    with pytest.raises(InputError, match="not found"):
        read_prior(tmp_path / "missing.csv")


def test_apply_prior_reweights_only_supported_edges():
    scores = EdgeScores(
        np.array([[0.0, 1.0, 2.0]]), np.ones((1, 3)), pd.Index(["A"]), pd.Index(["x", "y", "z"])
    )
    prior = pd.DataFrame({"source": ["A", "A", "Q"], "target": ["x", "y", "x"], "prior": 1.0})
    out = apply_prior(scores, prior, strength=1.0)
    # no evidence stays no evidence; a prior edge gains a factor e; others are untouched
    np.testing.assert_allclose(out.score, [[0.0, np.e, 2.0]])
    np.testing.assert_allclose(apply_prior(scores, prior, strength=0.0).score, scores.score)
    with pytest.raises(InputError):
        apply_prior(scores, prior, strength=-1.0)


def test_correct_prior_helps_and_random_prior_costs_little():
    """Half of the true edges as prior vs as many random pairs, same strength."""
    sim = small_degron()
    truth, perts, genes = direct_truth(sim)
    rng = np.random.default_rng(0)
    n = len(truth) // 2
    correct = truth.iloc[rng.permutation(len(truth))[:n]][["source", "target"]]
    random = pd.DataFrame({"source": rng.choice(perts, n), "target": rng.choice(genes, n)})

    def aupr(prior):
        edges = infer_network(sim.adata, method="time", prior=prior, rng=0)
        return evaluate(edges, truth, sources=perts, targets=genes)["aupr"]

    base = aupr(None)
    assert aupr(correct) > base + 0.05
    assert aupr(random) > 0.85 * base
