"""Confounder representations: PCA against numpy's SVD, the autoencoder's gene exclusion."""

from __future__ import annotations

import numpy as np
import pytest

from causalcell import dml


@pytest.mark.parametrize("shape", [(120, 30), (25, 60)])
def test_pca_matches_svd(shape):
    expr = np.random.default_rng(0).normal(size=shape) * np.linspace(3, 1, shape[1])
    scores, loadings = dml.pca_scores(expr, 4)
    centred = expr - expr.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(vt[:4] @ loadings), np.eye(4), atol=1e-8)
    np.testing.assert_allclose(scores, centred @ loadings)


def test_pca_downdate_is_the_gene_s_own_term():
    expr = np.random.default_rng(1).normal(size=(80, 10))
    conf = dml.pca_confounders(expr, np.array([3, 7]), 4)
    scores, loadings = dml.pca_scores(expr, 4)
    np.testing.assert_allclose(conf.loadings[0], loadings[[3, 7]])
    without = np.delete(expr - expr.mean(0), 3, axis=1) @ np.delete(loadings, 3, axis=0)
    downdated = scores - np.outer(expr[:, 3] - expr[:, 3].mean(), loadings[3])
    np.testing.assert_allclose(downdated, without, atol=1e-12)


def test_autoencoder_embedding_never_sees_its_genes():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    expr = rng.normal(size=(150, 12))
    targets = np.array([0, 5])
    kw = {"n_gene_groups": 2, "epochs": 2, "hidden": 8}
    conf = dml.autoencoder_confounders(expr, targets, 3, rng=1, **kw)
    changed = expr.copy()
    changed[:, 0] = rng.normal(size=150) * 10
    again = dml.autoencoder_confounders(changed, targets, 3, rng=1, **kw)
    group = next(i for i, g in enumerate(conf.groups) if 0 in targets[g])
    np.testing.assert_allclose(conf.features[group], again.features[group])
    assert conf.features[0].shape == (150, 3)
    other = 1 - group
    assert not np.allclose(conf.features[other], again.features[other])


def test_autoencoder_front_end():
    pytest.importorskip("torch")
    from causalcell import sim

    adata = sim.simulate(
        "population", rng=0, n_genes=40, n_donors=10, cells_per_donor=20, n_gwas=500
    ).adata
    out = dml.dml(
        adata[adata.obs["cell_type"] == "type0"].copy(),
        genes=["GENE01", "GENE02"],
        confounders="autoencoder",
        n_components=3,
        n_folds=3,
        rng=0,
    )
    assert np.isfinite(out["estimate"]).all() and len(out) == 2
