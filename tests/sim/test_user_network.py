"""Simulating on a user's network (edge DataFrame, CSV path or Network) with real symbols."""

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from causalcell._errors import InputError
from causalcell.cli import main
from causalcell.sim import Network, network_from_edges, perron_root, simulate

SLICE = Path(__file__).parents[1] / "data" / "sim" / "dorothea_slice.csv"


@pytest.fixture(scope="module")
def edges():
    return pd.read_csv(SLICE)


@pytest.fixture(scope="module")
def data(edges):
    return simulate("small", network=edges, rng=0)


def test_var_names_are_the_edge_list_symbols(data, edges):
    genes = sorted(set(edges["tf"]) | set(edges["target"]))
    assert list(data.adata.var_names) == genes
    assert list(data.truth["genes"]) == genes
    assert data.truth["network_source"] == "user"
    labels = set(data.adata.obs["perturbation"]) - {"control"}
    assert {g for lab in labels for g in lab.split("+")} <= set(genes)


def test_direct_effects_follow_the_edges_and_signs(data, edges):
    G, index = data.truth["G"], {g: i for i, g in enumerate(data.truth["genes"])}
    src = edges["tf"].map(index).to_numpy()
    tgt = edges["target"].map(index).to_numpy()
    assert (G != 0).sum() == len(edges)
    np.testing.assert_array_equal(np.sign(G[src, tgt]), np.sign(edges["mor"]))
    assert perron_root(G) <= 0.6 + 1e-9  # scaled to the preset's spectral radius


def test_single_targets_are_mostly_the_slice_tfs(data, edges):
    singles = [p for p in data.truth["perturbations"] if "+" not in p]
    assert np.mean(np.isin(singles, edges["tf"].unique())) >= 0.7


def test_measured_delta_agrees_with_truth_on_user_network(edges):
    data = simulate("small", network=edges, rng=1, cells_per_perturbation=250, n_combo=0)
    a, t = data.adata, data.truth
    X = a.X.toarray().astype(float)
    L = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4)
    lab = a.obs["perturbation"].to_numpy()
    ctrl = L[lab == "control"]
    z = []
    for i, p in enumerate(t["perturbations"]):
        pert = L[lab == p]
        var = pert.var(0, ddof=1) / len(pert) + ctrl.var(0, ddof=1) / len(ctrl)
        diff = pert.mean(0) - ctrl.mean(0) - t["delta"][i]
        z.append(diff / np.sqrt(var + t["delta_se"][i] ** 2 + 1e-12))
    z = np.concatenate(z)
    assert abs(z.mean()) < 0.15 and 0.85 < z.std() < 1.2


def test_weights_are_kept_up_to_one_scale(edges):
    weighted = edges.rename(columns={"tf": "source"}).drop(columns=["mor", "confidence"])
    weighted["weight"] = np.linspace(-1, 1, len(weighted)) + 0.01
    t = simulate("small", network=weighted, rng=0, n_combo=0).truth
    index = {g: i for i, g in enumerate(t["genes"])}
    got = t["G"][weighted["source"].map(index), weighted["target"].map(index)]
    ratio = got / weighted["weight"].to_numpy()
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


def test_network_object_is_used_as_is(edges):
    net = network_from_edges(edges, spectral_radius=0.5, rng=3)
    t = simulate("small", network=net, rng=0, n_single=4, n_combo=0).truth
    np.testing.assert_array_equal(t["G"], net.G)
    assert list(t["genes"]) == list(net.genes)


def test_n_genes_caps_to_the_largest_regulons(edges):
    t = simulate("small", network=SLICE, n_genes=30, rng=0, n_single=4, n_combo=0).truth
    assert len(t["genes"]) == 30
    biggest = edges.groupby("tf").size().idxmax()
    assert biggest in set(t["genes"])


def test_same_seed_same_cells_on_user_network(data, edges):
    again = simulate("small", network=edges, rng=0)
    assert (again.adata.X != data.adata.X).nnz == 0


def test_bad_networks_raise_input_error(edges):
    with pytest.raises(InputError, match="source"):
        simulate("small", network=edges.rename(columns={"tf": "regulator"}))
    with pytest.raises(InputError, match="label"):
        plus = edges.replace({"target": {"CCL5": "CCL5+X"}})
        simulate("small", network=plus)
    G = np.array([[0.0, 2.0], [0.0, 0.0]]) + np.array([[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(InputError, match="unstable"):
        simulate("small", network=Network(G, np.array(["A", "B"]), np.zeros(2, int)))
    with pytest.raises(InputError, match="cannot read"):
        simulate("small", network="/nonexistent/edges.csv")


def test_cli_simulate_on_edges(tmp_path):
    out = tmp_path / "sim"
    code = main(["simulate", "--edges", str(SLICE), "--out", str(out), "--seed", "2"])
    assert code == 0
    cells = ad.read_h5ad(out / "cells.h5ad")
    truth = np.load(out / "truth.npz", allow_pickle=False)
    assert "STAT1" in cells.var_names and list(truth["genes"]) == list(cells.var_names)
    assert truth["delta"].shape == (len(truth["perturbations"]), cells.n_vars)
