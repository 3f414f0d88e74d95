"""Network inference against analytic truth (linear steady states) and DREAM4 gold standards."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from causalcell import InputError
from causalcell.datasets import dream4
from causalcell.io import validate_cells
from causalcell.network import Profiles, evaluate, infer_network, total_effects, truth_frame
from causalcell.network._methods import inverse


def _linear_profiles(G: np.ndarray, strengths=(1.0, 0.5), noise=0.0, seed=0) -> Profiles:
    """Steady-state shifts of x = G^T x + b when gene i is pushed down by s: -s * row i of (I-G)^-1."""
    rng = np.random.default_rng(seed)
    p = len(G)
    T = np.linalg.inv(np.eye(p) - G)
    genes = pd.Index([f"g{i}" for i in range(p)])
    rows, names, targets = [], [], []
    for i in range(p):
        for k, s in enumerate(strengths):
            rows.append(-s * T[i] + noise * rng.normal(size=p))
            names.append(f"g{i}_{k}")
            targets.append((f"g{i}",))
    delta = np.array(rows)
    se = np.full_like(delta, noise if noise else np.nan)
    return Profiles(delta, se, pd.Index(names), targets, genes)


def _chain_with_shortcut_free_dag(p=8, seed=1):
    rng = np.random.default_rng(seed)
    G = np.triu(rng.normal(0, 0.6, (p, p)) * (rng.random((p, p)) < 0.3), k=1)
    return G


def test_iv_total_effects_are_exact_on_linear_steady_states():
    G = _chain_with_shortcut_free_dag()
    te = total_effects(_linear_profiles(G, strengths=(1.0, 0.3, 0.0)))  # includes a dead guide
    np.testing.assert_allclose(te.T, np.linalg.inv(np.eye(len(G)) - G), atol=1e-12)
    assert te.per_unit.all()


def test_inverse_recovers_direct_effects_with_cycles():
    G = _chain_with_shortcut_free_dag()
    G[5, 1] = 0.4  # feedback loop 1 -> ... -> 5 -> 1
    prof = _linear_profiles(G)
    scores = inverse(prof, ridge=1e-10)
    order = [f"g{i}" for i in range(len(G))]
    assert list(scores.sources) == order and list(scores.genes) == order
    np.testing.assert_allclose(scores.weight, G, atol=1e-6)
    # with the default ridge the estimates shrink but the support still ranks first
    edges = infer_network(prof, method="inverse", rng=0)
    true = truth_frame(G, order)
    assert evaluate(edges, true, sources=order, targets=order)["aupr"] > 0.95


def test_direct_method_ranks_direct_above_indirect_edges():
    """Chain a -> b -> c: the total effect a -> c is strong, but only a -> b, b -> c are direct."""
    G = np.zeros((6, 6))
    G[0, 1], G[1, 2] = 0.9, 0.9
    G[3, 4] = -0.8
    prof = _linear_profiles(G, strengths=(1.0, 0.6, 0.3), noise=0.02, seed=3)
    direct = infer_network(prof, method="causalcell", rng=0).set_index(["source", "target"])[
        "score"
    ]
    total = infer_network(prof, method="zscore", rng=0).set_index(["source", "target"])["score"]
    assert total[("g0", "g2")] > total.quantile(0.8)  # the baseline is fooled
    assert direct[("g0", "g1")] > direct[("g0", "g2")]
    assert direct[("g1", "g2")] > direct[("g0", "g2")]


@pytest.fixture(scope="module")
def dream_small():
    return [dream4(n, size=10) for n in range(1, 6)]


def test_dream4_size10_beats_knockout_zscore(dream_small):
    scores = {"zscore": [], "causalcell": []}
    for a in dream_small:
        cells = validate_cells(a, expression="log")
        for method in scores:
            options = {"n_estimators": 100} if method == "causalcell" else None
            edges = infer_network(cells, method=method, options=options, rng=0)
            scores[method].append(
                evaluate(edges, a.uns["gold_standard"], sources=a.var_names, targets=a.var_names)[
                    "aupr"
                ]
            )
    random = np.mean([len(a.uns["gold_standard"]) / 90 for a in dream_small])
    assert np.mean(scores["causalcell"]) > np.mean(scores["zscore"])
    assert np.mean(scores["causalcell"]) > 3 * random


def test_edges_are_contract_shaped_and_reproducible(dream_small):
    cells = validate_cells(dream_small[0], expression="log")
    a = infer_network(cells, rng=5)
    b = infer_network(cells, rng=5)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["source", "target", "weight", "score"]
    assert a["score"].is_monotonic_decreasing
    assert (a["source"] != a["target"]).all()
    assert len(a) <= 10 * 9


def test_evaluate_matches_hand_computation():
    truth = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"], "sign": [1, -1]})
    edges = pd.DataFrame(
        {
            "source": ["a", "a", "b"],
            "target": ["b", "c", "c"],
            "weight": [0.5, 0.2, 0.3],
            "score": [0.9, 0.8, 0.7],
        }
    )
    m = evaluate(edges, truth, sources=["a", "b", "c"], targets=["a", "b", "c"])
    # ranking over 6 pairs: a->b (T), a->c (F), b->c (T), rest 0: AP = (1/1 + 2/3) / 2
    assert m["aupr"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["precision@10"] == pytest.approx(2 / 6)
    assert m["shd"] == 2  # top-2 = a->b, a->c: one missing (b->c) and one extra (a->c)
    assert (
        m["sign_accuracy"] == 1.0
    )  # of the true edges in the top 2 (a->b), all have the right sign
    edges.loc[2, "score"] = 0.85  # now b->c (wrong sign) is in the top 2 as well
    assert (
        evaluate(edges, truth, sources=["a", "b", "c"], targets=["a", "b", "c"])["sign_accuracy"]
        == 0.5
    )


def test_truth_frame_from_matrix():
    G = np.array([[0, 0.5, 0], [0, 0, -1], [0, 0, 0]])
    t = truth_frame(G, ["a", "b", "c"])
    assert list(map(tuple, t.to_numpy())) == [("a", "b", 1.0), ("b", "c", -1.0)]


def test_unknown_method():
    with pytest.raises(InputError, match="unknown network method"):
        infer_network(_linear_profiles(np.zeros((2, 2))), method="magic")


def test_network_from_counts(screen):
    adata, _ = screen
    edges = infer_network(adata, method="zscore", rng=0)
    assert set(edges["source"]) <= {"A", "B"}
    assert isinstance(adata, ad.AnnData)


def test_causalbench_statistical_sees_planted_shifts(screen):
    from causalcell.network import causalbench_statistical

    adata, _ = screen  # A moves G0 and G1, B moves G2
    cells = validate_cells(adata)
    planted = pd.DataFrame(
        {"source": ["A", "A", "B"], "target": ["G0", "G1", "G2"], "weight": 1.0, "score": 1.0}
    )
    out = causalbench_statistical(planted, cells, n_negative=30, rng=0)
    assert out["n_tested"] == 3
    assert out["fraction_significant"] == 1.0
    assert out["false_omission_rate"] < 0.5  # most unpredicted pairs are unshifted
