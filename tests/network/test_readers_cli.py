"""`causalcell network` end to end on the bundled readers' data (--expression log, --method
time, --prior)."""

import pandas as pd
import pytest

from causalcell.cli import main
from causalcell.datasets import dream4
from causalcell.network import evaluate
from tests.network.test_time import direct_truth, small_degron


def test_network_cli_on_dream4_steady_states_with_log_expression(tmp_path):
    """Bulk-like data, one profile per condition already on the analysis scale: the knockout
    z-score through the CLI reproduces the AUPRs computed independently for DREAM4 size-10
    networks 1 and 3 (../shared/data/dream4/baseline_scores_computed_here.csv: 0.785, 0.640)."""
    for net, expected in ((1, 0.785), (3, 0.640)):
        a = dream4(net, size=10, data=("knockouts",))
        gold = a.uns.pop("gold_standard")
        path, out = tmp_path / f"d{net}.h5ad", tmp_path / f"e{net}.csv"
        a.write_h5ad(path)
        args = ["network", str(path), "--out", str(out), "--expression", "log"]
        assert main([*args, "--method", "zscore"]) == 0
        edges = pd.read_csv(out)
        assert list(edges.columns) == ["source", "target", "weight", "score"]
        assert (edges["source"] != edges["target"]).all()
        aupr = evaluate(edges, gold, sources=a.var_names, targets=a.var_names)["aupr"]
        assert aupr == pytest.approx(expected, abs=0.001)


def test_network_cli_time_method_with_prior(tmp_path):
    sim = small_degron()
    truth, perts, genes = direct_truth(sim)
    path = tmp_path / "degron.h5ad"
    sim.adata.write_h5ad(path)
    prior = tmp_path / "prior.csv"
    truth.head(len(truth) // 2)[["source", "target"]].to_csv(prior, index=False)
    out, out_prior = tmp_path / "t.csv", tmp_path / "tp.csv"
    assert main(["network", str(path), "--out", str(out), "--method", "time"]) == 0
    args = ["network", str(path), "--out", str(out_prior), "--method", "time"]
    assert main([*args, "--prior", str(prior)]) == 0

    def aupr(file):
        return evaluate(pd.read_csv(file), truth, sources=perts, targets=genes)["aupr"]

    assert aupr(out_prior) > aupr(out)
    assert main([*args, "--prior", str(tmp_path / "nope.csv")]) == 2


def test_predict_cli_with_log_expression_adds_single_deltas(tmp_path):
    """--expression log on `predict`: one profile per condition, no count normalisation; the
    additive model predicts a pair as the sum of the two measured single-gene shifts."""
    a = dream4(1, size=10, data=("knockouts",))
    del a.uns["gold_standard"]
    path, out = tmp_path / "d.h5ad", tmp_path / "p.csv"
    a.write_h5ad(path)
    args = ["predict", str(path), "--perturbations", "G1+G2", "--out", str(out)]
    assert main([*args, "--expression", "log", "--model", "additive"]) == 0
    pred = pd.read_csv(out, index_col=0)
    x = pd.DataFrame(a.X, index=a.obs["perturbation"], columns=a.var_names)
    expected = (x.loc["G1"] - x.loc["control"]) + (x.loc["G2"] - x.loc["control"])
    pd.testing.assert_series_equal(
        pred.loc["G1+G2"], expected, check_names=False, atol=1e-9, rtol=0
    )
