"""The AnnData front end: causal genes found, the self-adjustment leak caught, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from causalcell import dml
from causalcell._errors import InputError


@pytest.fixture(scope="module")
def cells():
    return dml.simulate_cells(
        n_donors=30,
        cells_per_donor=60,
        n_genes=300,
        n_causal=3,
        causal_sd=0.8,
        causal_weight=2.0,
        rng=0,
    )


@pytest.fixture(scope="module")
def table(cells):
    adata, _ = cells
    return dml.dml(adata, n_components=5, rng=0)


def test_table_shape_and_columns(cells, table):
    adata, _ = cells
    assert list(table.columns) == dml.RESULT_COLUMNS
    assert len(table) == adata.n_vars
    assert (table["n_donors"] == 30).all() and (table["n_cells"] == adata.n_obs).all()
    assert (table["ci_low"] < table["estimate"]).all()


def test_causal_genes_rank_first(cells, table):
    _, truth = cells
    z = (table["estimate"] / table["se"]).to_numpy()
    assert z[truth["causal"]].min() > np.quantile(z[~truth["causal"]], 0.9)
    assert np.mean(table["pval"][~truth["causal"]] < 0.05) < 0.15


def test_reproducible_and_rng_keyword_only(cells, table):
    again = dml.dml(cells[0], n_components=5, rng=0)
    np.testing.assert_array_equal(table["estimate"], again["estimate"])


def test_leave_gene_out_catches_the_leak():
    """A high-variance causal gene dominates a PC: adjusting for that PC absorbs the gene.

    With the gene inside its own adjustment its residual variance collapses and its effect is
    lost (huge SE, no signal); the leave-gene-out downdate keeps it.
    """
    adata, truth = dml.simulate_cells(
        n_donors=30, cells_per_donor=60, n_genes=40, n_causal=1, causal_sd=1.5, rng=3
    )
    gene = adata.var_names[truth["causal"]]
    kw = {"genes": gene, "n_components": 5, "rng": 0}
    leaky = dml.dml(adata, exclude_gene=False, **kw)
    clean = dml.dml(adata, exclude_gene=True, **kw)
    assert clean["pval"].iloc[0] < 1e-3
    assert leaky["pval"].iloc[0] > 0.05
    assert leaky["se"].iloc[0] > 5 * clean["se"].iloc[0]


def test_cell_types_and_obsm_confounders(cells):
    adata, _ = cells
    adata = adata.copy()
    adata.obs["cell_type"] = np.where(np.arange(adata.n_obs) % 2 == 0, "T", "B")
    adata.obsm["X_state"] = np.random.default_rng(0).normal(size=(adata.n_obs, 3))
    out = dml.dml(adata, genes=["g0", "g1"], confounders="X_state", n_folds=3, rng=0)
    assert sorted(out["cell_type"].unique()) == ["B", "T"] and len(out) == 4


def test_log_expression_and_per_gene_learner(cells):
    adata, _ = cells
    logged = adata.copy()
    logged.X = np.log1p(logged.X.toarray())
    out = dml.dml(logged, genes=["g0"], expression="log", learner="lasso", n_folds=3, rng=0)
    assert np.isfinite(out["estimate"]).all()


def _drop(column):
    return lambda a: a.obs.drop(columns=column, inplace=True)


def _set(column, value):
    return lambda a: a.obs.__setitem__(column, value)


def _nan_phenotype(a):
    a.obs["phenotype"] = a.obs["phenotype"].astype(float)
    a.obs.iloc[0, a.obs.columns.get_loc("phenotype")] = np.nan


def _nan_counts(a):
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
    ],
)
def test_bad_input(cells, edit, kwargs, match):
    adata = cells[0].copy()
    edit(adata)
    with pytest.raises(InputError, match=match):
        dml.dml(adata, **kwargs)


def test_skips_cell_types_with_too_few_donors(cells, caplog):
    adata = cells[0].copy()
    adata.obs["cell_type"] = np.where(adata.obs["donor"].isin(["d0", "d1"]), "rare", "T")
    out = dml.dml(adata, genes=["g0"], n_components=3, rng=0)
    assert list(out["cell_type"]) == ["T"]
    assert "rare" in caplog.text
