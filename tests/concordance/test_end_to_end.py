"""End to end on the simulator's population preset: DML on single cells and MR on summary
statistics recover the causal genes, and they agree only in the cell type where those genes act.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from causalcell import concordance, dml, mr, sim

SMALL = {"n_genes": 80, "n_donors": 120, "cells_per_donor": 6, "n_causal": 3, "n_gwas": 3000}


def _run(**overrides):
    data = sim.simulate("population", rng=0, **(SMALL | overrides))
    cells = dml.dml(data.adata, rng=0)
    genes = mr.mr_genes(data.tables["sumstats.csv"], p_threshold=1e-6)
    summary = concordance.concordance(cells, genes, n_perm=999, rng=0)
    return data.truth, cells, genes, summary.set_index("cell_type")


@pytest.fixture(scope="module")
def specific():
    return _run()


def test_dml_and_mr_recover_the_causal_genes(specific):
    truth, cells, genes, _ = specific
    names = list(truth["genes"])
    causal = truth["disease_effect"] != 0
    sub = cells[cells["cell_type"] == truth["disease_cell_type"]]
    assert list(sub["gene"]) == names
    assert roc_auc_score(causal, np.abs(sub["estimate"] / sub["se"])) > 0.65
    tested = [names.index(g) for g in genes["gene"]]
    assert causal[tested].sum() == causal.sum()  # causal genes have instruments
    assert roc_auc_score(causal[tested], np.abs(genes["estimate"] / genes["se"])) > 0.9
    # MR estimates the total effect (T alpha)_k / T_kk of the simulator
    assert np.corrcoef(genes["estimate"], truth["mr_effect"][tested])[0, 1] > 0.9


def test_concordance_only_in_the_disease_cell_type(specific):
    truth, _, _, summary = specific
    disease = str(truth["disease_cell_type"])
    assert summary.loc[disease, "pval"] < 0.05 and summary.loc[disease, "r"] > 0.3
    others = summary.drop(index=disease)
    assert len(others) == 2 and (others["pval"] > 0.05).all()


def test_shared_eqtls_make_every_cell_type_concordant():
    """With every variant acting in every cell type, expression in each type carries the same
    genetic signal, so concordance is no longer specific: specificity comes from the data."""
    _, _, _, summary = _run(eqtl_sharing=1.0)
    assert (summary["pval"] < 0.05).all()
