"""Shared fixtures: the bundled real screen and small seeded count data with known effects."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp


@pytest.fixture(scope="session")
def papalexi() -> ad.AnnData:
    from causalcell.datasets import papalexi2021

    return papalexi2021()


@pytest.fixture(scope="session")
def papalexi_effects(papalexi) -> ad.AnnData:
    from causalcell.effects import effects

    return effects(papalexi, rng=0, progress=False)


def make_counts_screen(
    *,
    n_genes: int = 40,
    n_control: int = 600,
    cells_per_guide: int = 150,
    effects: dict[str, dict[int, float]] | None = None,
    guide_efficacy: dict[str, list[float]] | None = None,
    batch_shift: float = 0.0,
    depth: float = 2.0,
    seed: int = 0,
) -> tuple[ad.AnnData, dict]:
    """Negative-binomial counts with planted log-fold changes per perturbation.

    ``effects[p][j]`` is the log-fold change of gene ``j`` in responding cells of ``p``;
    ``guide_efficacy[p]`` is, per guide, the probability that a cell responds (escapers
    otherwise). ``depth`` scales the mean library size. Two batches; ``batch_shift`` multiplies gene 0 by exp(shift) in batch 2.
    """
    rng = np.random.default_rng(seed)
    effects = effects or {"A": {0: -1.5, 1: 1.0}, "B": {2: -2.0}}
    guide_efficacy = guide_efficacy or {p: [1.0, 1.0] for p in effects}
    base = rng.lognormal(0.0, 1.0, n_genes)
    rows, labels, guides, responds = [], [], [], []
    for p, eff in {"control": {}, **effects}.items():
        efficacies = [1.0] * 3 if p == "control" else guide_efficacy[p]
        for g, e in enumerate(efficacies):
            n = n_control // 3 if p == "control" else cells_per_guide
            lfc = np.zeros(n_genes)
            for j, v in eff.items():
                lfc[j] = v
            respond = rng.random(n) < e
            rows.append(np.where(respond[:, None], lfc[None], 0.0))
            labels += [p] * n
            guides += [f"NT_g{g}" if p == "control" else f"{p}_g{g}"] * n
            responds.append(respond if p != "control" else np.zeros(n, bool))
    lfc = np.vstack(rows)
    n_cells = len(labels)
    batch = rng.integers(0, 2, n_cells)
    shift = np.zeros((n_cells, n_genes))
    shift[batch == 1, 0] = batch_shift
    size = rng.lognormal(np.log(depth), 0.3, n_cells)
    mu = size[:, None] * base[None] * np.exp(lfc + shift)
    theta = 5.0
    counts = rng.negative_binomial(theta, theta / (theta + mu))
    adata = ad.AnnData(
        X=sp.csr_matrix(counts.astype(np.int32)),
        obs=pd.DataFrame(
            {"perturbation": labels, "guide": guides, "batch": [f"b{b}" for b in batch]},
            index=[f"cell{i}" for i in range(n_cells)],
        ),
        var=pd.DataFrame(index=[f"G{j}" for j in range(n_genes)]),
    )
    return adata, {"responds": np.concatenate(responds), "base": base, "size": size}


@pytest.fixture
def screen():
    return make_counts_screen()
