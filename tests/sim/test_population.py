"""Population mode: cell-type-specific eQTLs, the analytic genetic covariance, the environment."""

from __future__ import annotations

import numpy as np

from causalcell.sim import get_preset, simulate
from causalcell.sim._population import _causal_genes, _genetics, _mean_state, genetic_covariance
from causalcell.sim._world import draw_world


def test_genetic_covariance_matches_monte_carlo():
    config = get_preset("population").override(n_genes=60, eqtl_sharing=0.3)
    rng = np.random.default_rng(0)
    world = draw_world(config, rng=rng)
    gen = _genetics(world, rng)
    alpha = np.zeros(60)
    alpha[_causal_genes(gen, 60, 4, 0, rng)] = 1.0
    dosage = gen.genotypes(40_000, rng)
    liability = _mean_state(world, gen.basal_shift(dosage, 60, 0), 0) @ alpha
    cov = genetic_covariance(gen, world.reg.T, alpha, 0)
    for c in range(3):
        x = _mean_state(world, gen.basal_shift(dosage, 60, c), c)
        empirical = ((x - x.mean(0)) * (liability - liability.mean())[:, None]).mean(0)
        np.testing.assert_allclose(empirical, cov[c], atol=0.05 * np.abs(cov).max())
        zero = cov[c] == 0
        assert not zero.any() or np.abs(empirical[zero]).max() < 0.02 * np.abs(cov).max()


def test_specific_eqtls_and_causal_genes_with_instruments():
    data = simulate("population", rng=1, n_genes=60, n_donors=10, cells_per_donor=3, n_gwas=500)
    t = data.truth
    assert (t["eqtl_active"].sum(axis=0) == 1).all()  # eqtl_sharing=0: one cell type each
    names = list(t["genes"])
    on = {names.index(g) for g in t["snp_gene"][t["eqtl_active"][0]]}
    assert {names.index(g) for g in t["causal_genes"]} <= on
    assert (t["genetic_cov"][1:] == 0).all()  # other cell types carry no genetic signal
    assert (t["confounder_effect"] == 0).all()


def test_environment_shifts_one_module_everywhere_and_the_liability():
    kw = {"n_genes": 60, "n_donors": 200, "cells_per_donor": 3, "n_gwas": 2000}
    data = simulate("population", rng=2, confounder_sd=1.5, **kw)
    t, a = data.truth, data.adata
    env = t["donor_environment"]
    assert np.corrcoef(env, t["donor_liability"])[0, 1] > 0.3
    gene = int(np.argmax(np.abs(t["confounder_effect"])))
    x = np.log1p(a.X[:, gene].toarray().ravel())
    donor = a.obs["donor"].astype(str).str.removeprefix("donor").astype(int).to_numpy()
    means = np.bincount(donor, weights=x) / np.bincount(donor)
    assert np.corrcoef(means, env)[0, 1] > 0.5
