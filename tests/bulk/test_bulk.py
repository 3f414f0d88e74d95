"""Bulk aggregation: analytic mixtures, recoverability against the simulator's exact bulk
truth, deconvolution and composition-adjusted effects, pseudobulk sums and bad input."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from causalcell._errors import InputError
from causalcell.bulk import (
    bulk_delta,
    bulk_effects,
    composition_adjusted_effects,
    deconvolve,
    mixture_log1p,
    pseudobulk,
    recoverability,
    samples_needed,
    type_profiles,
)
from causalcell.bulk._recover import verdicts
from causalcell.io import validate_cells
from causalcell.sim import simulate

SMALL = {"n_genes": 80, "n_single": 6, "truth_panel": 64, "cells_per_sample": 200}


@pytest.fixture(scope="module")
def world_pair():
    """Bulk samples and single cells of the same simulated world (same seed)."""
    bulk = simulate("bulk_mixture", rng=3, **SMALL)
    cells = simulate(
        "bulk_mixture", rng=3, mode="cells", cells_per_perturbation=400, n_control=2000, **SMALL
    )
    return bulk, cells


def _matrix(table: pd.DataFrame, value: str, truth: dict) -> np.ndarray:
    wide = table.pivot(index="perturbation", columns="gene", values=value)
    return wide.loc[list(truth["perturbations"]), list(truth["genes"])].to_numpy()


def test_one_type_mixture_is_the_log1p_cp10k_ratio():
    ctrl = np.array([[100.0, 50.0, 850.0]])
    pert = np.array([[25.0, 50.0, 925.0]])
    delta, var = bulk_delta(ctrl, pert, np.ones((5, 1)))
    expected = np.log1p(1e4 * pert[0] / pert.sum()) - np.log1p(1e4 * ctrl[0] / ctrl.sum())
    np.testing.assert_allclose(delta, expected)
    np.testing.assert_allclose(var, 0.0, atol=1e-24)  # no composition, no composition noise


def test_opposite_responses_flip_the_sign_and_a_rare_type_is_diluted():
    # gene 0: halves in the abundant-mRNA type A, rises 10x in type B (barely expressed there):
    # the cells' average log change is up, the pooled mRNA goes down
    other = 1e4
    ctrl = np.array([[100.0, 0.0, other], [1.0, 0.0, other]])
    pert = np.array([[50.0, 0.0, other], [10.0, 0.0, other]])
    # gene 1: up 4x in type B only, present at 5% of cells
    ctrl[:, 1], pert[:, 1] = [20.0, 20.0], [20.0, 80.0]
    even = np.tile([0.5, 0.5], (10, 1))
    rare = np.tile([0.95, 0.05], (10, 1))
    pure = np.eye(2)
    type_delta = mixture_log1p(pert, pure) - mixture_log1p(ctrl, pure)
    cell_even, cell_rare = even[0] @ type_delta, rare[0] @ type_delta
    bulk_even, _ = bulk_delta(ctrl, pert, even)
    bulk_rare, _ = bulk_delta(ctrl, pert, rare)
    assert cell_even[0] > 0.5 and bulk_even[0] < -0.2
    strongest = type_delta[np.abs(type_delta).argmax(axis=0), np.arange(3)]
    needed, responds = np.ones(3), np.abs(strongest) >= 0.1
    assert verdicts(cell_even, strongest, responds, bulk_even, needed, 4, 0.1)[0] == "sign_flip"
    # in 5% of cells: bulk shows a small rise, a tenth of what type B's cells do
    assert 0 < bulk_rare[1] < 0.15 * type_delta[1, 1]
    assert verdicts(cell_rare, strongest, responds, bulk_rare, needed, 4, 0.1)[1] == "diluted"
    assert verdicts(cell_even, strongest, responds, bulk_even, needed, 4, 0.1)[2] == "none"


def test_samples_needed_is_the_two_sample_z_formula():
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    n = samples_needed(np.array([0.5, -0.5, 0.0]), np.array([1.0, 1.0, 1.0]))
    assert n[0] == n[1] == np.ceil(z**2 / 0.25)
    assert np.isinf(n[2])


def test_recoverability_predicts_the_simulated_bulk_delta(world_pair):
    bulk, cells = world_pair
    conc = bulk.truth["config"]["bulk"]["proportion_concentration"]
    draws = np.random.default_rng(0).dirichlet(np.full(3, conc), 3000)
    result = recoverability(validate_cells(cells.adata), proportions=draws)
    truth = bulk.truth["delta"]
    pred = _matrix(result.table, "bulk_delta", bulk.truth)
    big = np.abs(truth) > 0.05
    assert big.sum() > 30
    assert np.corrcoef(pred[big], truth[big])[0, 1] > 0.97
    # the prediction error is small next to the effects (exact truth vs 400-cell groups)
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 0.25 * np.abs(truth[big]).mean()
    assert set(result.table["verdict"]) <= {
        "recoverable",
        "underpowered",
        "diluted",
        "sign_flip",
        "none",
    }
    summary = result.summary()
    assert list(summary.index) == sorted(bulk.truth["perturbations"])


def test_recoverability_is_reproducible_and_needs_cell_types(world_pair):
    _, cells = world_pair
    valid = validate_cells(cells.adata)
    a = recoverability(valid, rng=1).table
    b = recoverability(valid, rng=1).table
    pd.testing.assert_frame_equal(a, b)
    no_type = validate_cells(cells.adata[:, :].copy())
    no_type.obs.drop(columns="cell_type", inplace=True)
    with pytest.raises(InputError, match="cell_type"):
        recoverability(no_type)
    with pytest.raises(InputError, match="cell types"):
        recoverability(valid, proportions=np.ones((4, 2)))


def test_deconvolution_and_composition_adjustment(world_pair):
    bulk, cells = world_pair
    reference = type_profiles(validate_cells(cells.adata)).counts[0]
    true_props = bulk.truth["proportions"]
    est = deconvolve(bulk.adata.X.toarray(), reference)
    for k in range(true_props.shape[1]):
        assert np.corrcoef(est[:, k], true_props[:, k])[0, 1] > 0.9
    samples = validate_cells(bulk.adata)
    truth = bulk.truth["delta"]

    def rmse(props):
        table = bulk_effects(samples, props)
        return np.sqrt(np.mean((_matrix(table, "delta", bulk.truth) - truth) ** 2))

    raw, adjusted = rmse(None), rmse(est)
    assert adjusted < 0.7 * raw  # composition is a large share of the sample-to-sample noise
    assert rmse(true_props) < raw
    # the one-call form deconvolves with the same reference
    profiles = type_profiles(validate_cells(cells.adata))
    table, props = composition_adjusted_effects(samples, profiles)
    np.testing.assert_allclose(props, est)
    pd.testing.assert_frame_equal(table, bulk_effects(samples, est))
    with pytest.raises(InputError, match="lack genes"):
        composition_adjusted_effects(validate_cells(bulk.adata[:, 1:].copy()), profiles)


def test_bulk_effects_null_is_calibrated():
    # 30 samples per arm of pure noise: p-values uniform (no composition, no effect)
    rng = np.random.default_rng(0)
    X = rng.poisson(50.0, size=(60, 400))
    obs = pd.DataFrame(
        {"perturbation": ["control"] * 30 + ["A"] * 30}, index=[f"s{i}" for i in range(60)]
    )
    table = bulk_effects(validate_cells(ad.AnnData(X, obs=obs)))
    assert 0.03 < (table["pvalue"] < 0.05).mean() < 0.08
    with pytest.raises(InputError, match="replicate"):
        bulk_effects(validate_cells(ad.AnnData(X[:2], obs=obs.iloc[[0, 30]])))


def test_pseudobulk_sums_counts_per_group():
    rng = np.random.default_rng(1)
    X = sp.csr_matrix(rng.poisson(1.0, size=(50, 6)))
    obs = pd.DataFrame(
        {
            "perturbation": rng.choice(["control", "A"], 50),
            "donor": rng.choice(["d1", "d2", "d3"], 50),
        },
        index=[f"c{i}" for i in range(50)],
    )
    cells = validate_cells(ad.AnnData(X, obs=obs))
    out = pseudobulk(cells, ["perturbation", "donor"])
    for label, row in out.obs.iterrows():
        mask = (obs["perturbation"] == row["perturbation"]) & (obs["donor"] == row["donor"])
        np.testing.assert_array_equal(out[label].X.toarray()[0], X[mask.to_numpy()].sum(axis=0).A1)
        assert row["n_cells"] == mask.sum()
    assert out.X.sum() == X.sum()
    with pytest.raises(InputError, match="sample"):
        pseudobulk(cells, "sample")
    obs.loc["c3", "donor"] = None
    with pytest.raises(InputError, match="missing"):
        pseudobulk(validate_cells(ad.AnnData(X, obs=obs)), ["perturbation", "donor"])


def test_cli_bulk_writes_tables_and_figure(world_pair, tmp_path):
    from causalcell.cli import main

    bulk, cells = world_pair
    cells.adata.write_h5ad(tmp_path / "cells.h5ad")
    bulk.adata.write_h5ad(tmp_path / "bulk.h5ad")
    out = tmp_path / "rec.csv"
    args = [str(tmp_path / "cells.h5ad"), "--out", str(out), "--bulk", str(tmp_path / "bulk.h5ad")]
    assert main(["bulk", *args, "--figure", str(tmp_path / "rec.png")]) == 0
    table = pd.read_csv(out)
    assert len(table) == len(bulk.truth["perturbations"]) * bulk.adata.n_vars
    effects = pd.read_csv(tmp_path / "rec.effects.csv")
    assert {"delta", "se", "fdr"} <= set(effects.columns)
    assert (tmp_path / "rec.png").stat().st_size > 0
    assert main(["bulk", *args[:3], "--cell-type-key", "tissue"]) == 2
