import numpy as np
import pandas as pd
import pytest

from causalcell._errors import InputError
from causalcell.sim import network_from_edges, perron_root, random_network


def test_random_network_structure():
    net = random_network(400, regulator_fraction=0.1, spectral_radius=0.5, rng=0)
    G = net.G
    assert G.shape == (400, 400)
    assert perron_root(G) <= 0.5 + 1e-9
    out_deg = (G != 0).sum(axis=1)[net.regulators]
    assert out_deg.max() >= 4 * np.median(out_deg)  # hubs: heavy-tailed out-degree
    assert (np.diag(G) != 0).any()  # autoregulation
    assert ((G != 0) & (G.T != 0) & ~np.eye(400, dtype=bool)).any()  # two-gene feedback
    assert (G > 0).any() and (G < 0).any()
    same = net.module[:, None] == net.module[None, :]
    assert (G[same] != 0).sum() > (G[~same] != 0).sum()  # modules
    assert len(set(net.genes)) == 400 and sorted(net.genes) == list(net.genes)


def test_perron_root_matches_eigenvalues():
    A = np.random.default_rng(1).normal(size=(30, 30)) * (
        np.random.default_rng(2).random((30, 30)) < 0.2
    )
    assert perron_root(A) == pytest.approx(max(abs(np.linalg.eigvals(abs(A)))), rel=1e-6)


def test_random_network_seeded():
    assert np.array_equal(random_network(50, rng=3).G, random_network(50, rng=3).G)
    assert not np.array_equal(random_network(50, rng=3).G, random_network(50, rng=4).G)


def test_network_from_edges_signs_and_names():
    edges = pd.DataFrame({"tf": ["A", "A", "B"], "target": ["B", "C", "C"], "mor": [1, -1, 1]})
    net = network_from_edges(edges, rng=0)
    assert list(net.genes) == ["A", "B", "C"]
    assert net.G[0, 1] > 0 and net.G[0, 2] < 0 and net.G[1, 2] > 0
    assert (net.G != 0).sum() == 3
    with pytest.raises(InputError, match="weight"):
        network_from_edges(edges.drop(columns="mor"))
