"""The AnnData front end on the simulator's population preset: causal genes found, nulls
calibrated, the self-adjustment leak caught, bad input."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from causalcell import dml, sim
from causalcell._errors import InputError

SMALL = {"n_genes": 80, "n_donors": 120, "cells_per_donor": 6, "n_causal": 3, "n_gwas": 3000}


@pytest.fixture(scope="module")
def population():
    return sim.simulate("population", rng=0, **SMALL)


@pytest.fixture(scope="module")
def table(population):
    return dml.dml(population.adata, rng=0)


def test_table_shape_and_columns(population, table):
    adata = population.adata
    assert list(table.columns) == dml.RESULT_COLUMNS
    assert len(table) == adata.n_vars * 3
    assert (table["n_donors"] == 120).all() and (table["n_cells"] == 120 * 6).all()
    assert (table["ci_low"] < table["estimate"]).all() and (
        table["estimate"] < table["ci_high"]
    ).all()
    # t reference on donors - 1 degrees of freedom: p < 0.05 exactly when 0 is outside the CI
    outside = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    np.testing.assert_array_equal(outside, table["pval"] < 0.05)


def test_a_causal_gene_ranks_above_the_genes_without_genetic_link():
    """One causal gene carrying the whole heritability (0.5): in the disease cell type its z-score
    beats 90% of the true nulls (no genetic covariance with the disease there). It does for each
    of seeds 0-9 of this setup (seed 8 by a hair; seed 4 has only 2 null genes); when several causal genes share the heritability, the weakest are
    out of reach of 120 donors (docs/benchmarks/concordance.md), so no per-gene claim is made."""
    population = sim.simulate("population", rng=0, **(SMALL | {"n_causal": 1}))
    truth = population.truth
    disease = str(truth["disease_cell_type"])
    c = list(truth["cell_types"]).index(disease)
    table = dml.dml(population.adata[population.adata.obs["cell_type"] == disease].copy(), rng=0)
    z = np.abs(table["estimate"] / table["se"]).to_numpy()
    causal = truth["disease_effect"] != 0
    null = truth["genetic_cov"][c] == 0
    assert causal.sum() == 1 and null.sum() > 10
    assert z[causal][0] > np.quantile(z[null], 0.9)


def test_random_phenotype_nulls_are_calibrated(population):
    """Donor-level labels drawn independently of everything: p < 0.05 for ~5% of gene tests."""
    adata = population.adata[population.adata.obs["cell_type"] == "type1"].copy()
    donors = adata.obs["donor"].cat.codes.to_numpy()
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(25):
        label = rng.permutation(np.arange(120) % 2)
        adata.obs["phenotype"] = label[donors]
        out = dml.dml(adata, n_components=5, rng=rng)
        hits.append(out["pval"].to_numpy() < 0.05)
    rate = np.mean(hits)
    assert 0.03 <= rate <= 0.07, rate


def test_reproducible(population, table):
    again = dml.dml(population.adata, rng=0)
    np.testing.assert_array_equal(table["estimate"], again["estimate"])


def test_unit_auto_is_donor_for_a_donor_label_and_cell_level_runs(population, table):
    adata = population.adata
    donor = dml.dml(adata, genes=["GENE00"], unit="donor", rng=0)
    np.testing.assert_allclose(donor["estimate"], table[table["gene"] == "GENE00"]["estimate"])
    cell = dml.dml(adata, genes=["GENE00"], unit="cell", rng=0)
    assert np.isfinite(cell["estimate"]).all() and len(cell) == 3
    assert not np.allclose(cell["estimate"], donor["estimate"])


def _dominant_gene_cells(rng: np.random.Generator) -> ad.AnnData:
    """Log expression where one causal gene, with a large donor-level programme, dominates PC1.

    Donor state ``u`` (2 dims) drives 29 genes in every cell; gene ``g0`` carries a donor
    effect ``b`` of sd 3 that also sets the phenotype (donors above the median of ``b + u``).
    """
    n_donors, per = 40, 20
    donor = np.repeat(np.arange(n_donors), per)
    u = rng.normal(size=(n_donors, 2))
    b = rng.normal(0, 3.0, n_donors)
    expr = np.empty((n_donors * per, 30))
    expr[:, 0] = b[donor] + rng.normal(0, 0.5, len(donor))
    z = u[donor] + rng.normal(size=(len(donor), 2))
    expr[:, 1:] = z @ rng.normal(0, 0.5, (2, 29)) + rng.normal(0, 0.5, (len(donor), 29))
    liability = b + u.sum(1)
    obs = pd.DataFrame(
        {"donor": [f"d{d}" for d in donor], "phenotype": (liability > np.median(liability))[donor]}
    )
    obs["phenotype"] = obs["phenotype"].astype(int)
    obs.index = obs.index.astype(str)
    return ad.AnnData(X=expr, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(30)]))


def test_leave_gene_out_catches_the_leak():
    """Adjusting g0 for a PC that is mostly g0 absorbs its effect; the downdate keeps it."""
    adata = _dominant_gene_cells(np.random.default_rng(3))
    kw = {"genes": ["g0"], "n_components": 3, "expression": "log", "cell_type_key": None}
    leaky = dml.dml(adata, exclude_gene=False, rng=0, **kw)
    clean = dml.dml(adata, exclude_gene=True, rng=0, **kw)
    assert clean["pval"].iloc[0] < 1e-3
    assert leaky["pval"].iloc[0] > 0.05


def test_cell_types_and_obsm_confounders(population):
    adata = population.adata[population.adata.obs["cell_type"] != "type2"].copy()
    adata.obsm["X_state"] = np.random.default_rng(0).normal(size=(adata.n_obs, 3))
    out = dml.dml(adata, genes=["GENE00", "GENE01"], confounders="X_state", n_folds=3, rng=0)
    assert sorted(out["cell_type"].unique()) == ["type0", "type1"] and len(out) == 4


def test_log_expression_and_per_gene_learner(population):
    adata = population.adata[population.adata.obs["cell_type"] == "type0"].copy()
    logged = adata.copy()
    logged.X = np.log1p(logged.X.toarray())
    out = dml.dml(logged, genes=["GENE00"], expression="log", learner="lasso", n_folds=3, rng=0)
    assert np.isfinite(out["estimate"]).all()


def _drop(column):
    return lambda a: a.obs.drop(columns=column, inplace=True)


def _set(column, value):
    return lambda a: a.obs.__setitem__(column, value)


def _nan_phenotype(a):
    a.obs["phenotype"] = a.obs["phenotype"].astype(float)
    a.obs.iloc[0, a.obs.columns.get_loc("phenotype")] = np.nan


def _nan_counts(a):
    a.X = a.X.astype(np.float32)
    a.X.data[0] = np.nan


@pytest.mark.parametrize(
    ("edit", "kwargs", "match"),
    [
        (_drop("phenotype"), {}, "'phenotype' not found"),
        (_drop("donor"), {}, "'donor' not found"),
        (_set("phenotype", 2.5), {}, "0/1 case label"),
        (_set("phenotype", "case"), {}, "must be numeric"),
        (_set("phenotype", 1), {}, "constant"),
        (_set("donor", "d0"), {}, "single donor"),
        (_nan_phenotype, {}, "missing values"),
        (_nan_counts, {}, "NaN"),
        (lambda a: None, {"genes": ["NOPE"]}, "NOPE"),
        (lambda a: None, {"confounders": "umap"}, "umap"),
        (lambda a: None, {"cell_type_key": "tissue"}, "'tissue' not found"),
        (lambda a: None, {"unit": "sample"}, "unit must be"),
        (lambda a: None, {"unit": "donor", "donor_key": None}, "needs donor_key"),
    ],
)
def test_bad_input(population, edit, kwargs, match):
    adata = population.adata.copy()
    edit(adata)
    with pytest.raises(InputError, match=match):
        dml.dml(adata, **kwargs)


def test_skips_cell_types_with_too_few_donors(population, caplog):
    adata = population.adata.copy()
    rare = adata.obs["donor"].isin(["donor0", "donor1"]).to_numpy()
    adata.obs["cell_type"] = np.where(rare, "rare", "T")
    out = dml.dml(adata, genes=["GENE00"], n_components=3, rng=0)
    assert list(out["cell_type"]) == ["T"]
    assert "rare" in caplog.text


def test_confounder_adjustment_removes_environmental_confounding():
    """A donor-level environment shifts one module and the disease: without adjustment its
    genes look causal in a cell type where nothing is; PCA confounders remove that."""
    data = sim.simulate("population", rng=0, confounder_sd=1.0, **SMALL)
    adata = data.adata[data.adata.obs["cell_type"] == "type1"].copy()
    adata.obsm["none"] = np.zeros((adata.n_obs, 1))
    confounded = np.abs(data.truth["confounder_effect"]) > 1e-12
    assert (data.truth["genetic_cov"][1] == 0).all()  # no genetic link in type1
    adjusted = dml.dml(adata, rng=0)["pval"].to_numpy()
    naive = dml.dml(adata, confounders="none", rng=0)["pval"].to_numpy()
    assert np.mean(naive[confounded] < 0.05) > 0.4
    assert np.mean(adjusted[confounded] < 0.05) < 0.2
