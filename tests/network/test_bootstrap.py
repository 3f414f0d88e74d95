"""Bootstrap edge confidence on linear structural-equation cells with known direct edges."""

import numpy as np
import pandas as pd

from causalcell.network._bootstrap import bootstrap_network
from tests.network._sem import chain_network, sem_cells


def _true(G):
    i, j = np.nonzero(G)
    return {(f"g{a}", f"g{b}") for a, b in zip(i, j, strict=True)}


def test_confident_edges_are_true_and_scores_are_capped_frequencies():
    G = chain_network()
    cells = sem_cells(G, perturbed=[0, 1, 2, 4, 5], n_cells=80, guides=3, seed=5)
    edges = bootstrap_network(cells, n_boot=8, rng=0)
    assert list(edges.columns) == ["source", "target", "weight", "score"]
    assert edges["score"].is_monotonic_decreasing
    assert edges["score"].between(0, 1).all()
    # without a posterior the score is the share of the 8 replicates selecting the edge
    plain = bootstrap_network(cells, method="zscore", threshold=3.0, n_boot=8, rng=0)
    assert set(np.round(plain["score"] * 8, 10)) <= set(range(9))
    sure = edges[edges["score"] >= 0.9]
    pairs = set(zip(sure["source"], sure["target"], strict=True))
    assert len(pairs) >= 4
    assert len(pairs & _true(G)) / len(pairs) >= 0.85
    assert ("g0", "g2") not in pairs  # the strong indirect edge is not confident


def test_bootstrap_is_reproducible():
    cells = sem_cells(chain_network(), perturbed=[0, 1, 4], n_cells=40, seed=6)
    a = bootstrap_network(cells, n_boot=3, rng=7)
    b = bootstrap_network(cells, n_boot=3, rng=7)
    pd.testing.assert_frame_equal(a, b)


def test_cli_network_bootstrap(tmp_path):
    import anndata as ad
    from typer.testing import CliRunner

    from causalcell.cli import app

    cells = sem_cells(chain_network(), perturbed=[0, 1, 2, 4, 5], n_cells=60, seed=1)
    adata = ad.AnnData(np.asarray(cells.X), obs=cells.obs)
    adata.var_names = list(cells.var_names)
    adata.write_h5ad(tmp_path / "cells.h5ad")
    out = tmp_path / "edges.csv"
    args = ["network", str(tmp_path / "cells.h5ad"), "--out", str(out), "--expression", "log"]
    result = CliRunner().invoke(app, [*args, "--bootstrap", "4"])
    assert result.exit_code == 0, result.output
    edges = pd.read_csv(out)
    assert list(edges.columns) == ["source", "target", "weight", "score"]
    assert edges["score"].between(0, 1).all()
    assert ("g0", "g1") in set(zip(edges["source"][:5], edges["target"][:5], strict=True))
