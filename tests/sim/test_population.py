"""Population mode: cell-type-specific eQTLs, the analytic genetic covariance, the environment."""

from __future__ import annotations

import dataclasses

import numpy as np

from causalcell.sim import get_preset, simulate
from causalcell.sim._population import (
    Liability,
    MarginalOLS,
    _causal_genes,
    _genetics,
    _mean_state,
    _ols,
    genetic_covariance,
)
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


def test_genotypes_are_binomial():
    config = get_preset("population").override(n_genes=60)
    rng = np.random.default_rng(3)
    gen = _genetics(draw_world(config, rng=rng), rng)
    dosage = gen.genotypes(50_000, rng)
    assert set(np.unique(dosage)) <= {0.0, 1.0, 2.0}
    for value, prob in ((0, (1 - gen.maf) ** 2), (1, 2 * gen.maf * (1 - gen.maf)), (2, gen.maf**2)):
        freq = (dosage == value).mean(axis=0)
        se = np.sqrt(prob * (1 - prob) / len(dosage))
        assert np.abs((freq - prob) / se).max() < 5


def test_linear_liability_equals_steady_state_definition():
    """The affine shortcut ``const + centred dosage @ weight`` is the steady-state liability."""
    config = get_preset("population").override(n_genes=80, pleiotropy_rate=0.3)
    rng = np.random.default_rng(4)
    world = draw_world(config, rng=rng)
    gen = _genetics(world, rng)
    alpha = np.zeros(80)
    alpha[_causal_genes(gen, 80, 5, 0, rng)] = rng.normal(size=5)
    fast = Liability.build(world, gen, alpha, 0)
    assert fast.weight is not None and fast.snps.size < gen.gene.size
    dosage = gen.genotypes(300, rng)
    x = _mean_state(world, gen.basal_shift(dosage, 80, 0), 0)
    direct = (x - world.reg.setpoint) @ alpha + (dosage - 2 * gen.maf) @ gen.pleiotropy
    np.testing.assert_allclose(fast(dosage), direct, atol=1e-10)
    np.testing.assert_allclose(fast(dosage[:, fast.snps], fast.snps), direct, atol=1e-10)
    solved = dataclasses.replace(fast, weight=None)  # the general (nonlinear) path
    np.testing.assert_allclose(solved(dosage), direct, atol=1e-10)


def test_blockwise_marginal_ols_equals_stacked_ols():
    rng = np.random.default_rng(5)
    g = rng.binomial(2, 0.3, (1000, 7)).astype(float)
    y = g @ rng.normal(size=7) + rng.normal(size=1000) + 3.0
    acc = MarginalOLS()
    for rows in np.array_split(np.arange(1000), [100, 450, 460]):
        acc.add(g[rows], y[rows])
    for got, want in zip(acc.result(), _ols(g, y), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_nonlinear_population_runs_and_donor_design_is_control():
    data = simulate(
        "population", rng=6, n_genes=50, n_donors=8, cells_per_donor=2, n_gwas=300, hill=2.0
    )
    t, obs = data.truth, data.adata.obs
    assert np.isfinite(t["donor_liability"]).all()
    assert (obs["perturbation"] == "control").all()
    assert obs["guide"].astype(str).str.fullmatch(r"NT_g\d").all()
    assert len(obs) == 8 * 3 * 2 and np.isfinite(data.tables["sumstats.csv"]["se_outcome"]).all()
