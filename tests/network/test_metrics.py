"""Network metrics against hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from causalcell.network import evaluate


def _edges(rows):
    return pd.DataFrame(rows, columns=["source", "target", "weight", "score"])


def test_auroc_false_omission_and_shd_by_hand():
    genes = ["a", "b", "c"]
    truth = pd.DataFrame({"source": ["a", "b", "c"], "target": ["b", "c", "a"], "sign": [1, 1, -1]})
    edges = _edges(
        [("a", "b", 1, 0.9), ("b", "a", 1, 0.8), ("b", "c", -1, 0.7), ("c", "a", -1, 0.1)]
    )
    m = evaluate(edges, truth, sources=genes, targets=genes)
    # 6 pairs: scores a->b .9 (T), b->a .8 (F), b->c .7 (T), c->a .1 (T), a->c 0, c->b 0
    labels = np.array([1, 0, 1, 1, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0, 0])
    assert m["auroc"] == pytest.approx(roc_auc_score(labels, scores))
    assert m["auroc"] == pytest.approx(7 / 9)  # 7 of 9 (true, false) pairs ordered right
    # AP = (1/1 + 2/3 + 3/4) / 3
    assert m["aupr"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # top-3 predicted: a->b, b->a, b->c; missing c->a, extra b->a
    assert m["shd"] == 2
    # not predicted: c->a (T), a->c, c->b -> 1 of 3
    assert m["false_omission_rate"] == pytest.approx(1 / 3)
    assert m["precision@10"] == pytest.approx(3 / 6)
    # true edges among the top 3 by score: a->b (+, right), b->c (weight -1, truth +1: wrong)
    assert m["sign_accuracy"] == pytest.approx(0.5)
    assert m["random_aupr"] == pytest.approx(0.5)


def test_evaluate_restricts_to_candidate_sources():
    truth = pd.DataFrame({"source": ["a", "x"], "target": ["b", "b"]})
    edges = _edges([("x", "b", 1, 2.0), ("a", "b", 1, 1.0), ("a", "c", 1, 0.5)])
    m = evaluate(edges, truth, sources=["a"], targets=["a", "b", "c"])
    # x is not a candidate: pairs a->b (true, first) and a->c (false)
    assert m["aupr"] == pytest.approx(1.0)
    assert m["random_aupr"] == pytest.approx(0.5)
    assert m["false_omission_rate"] == pytest.approx(0.0)  # top-1 = a->b; a->c left out
