"""The effects engine on seeded count data with planted effects, guides and escapers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from causalcell.effects import effects
from causalcell.io import validate_cells
from tests.conftest import make_counts_screen


def test_planted_effects_are_found(screen):
    adata, _ = screen
    e = effects(adata, rng=0, progress=False)
    assert list(e.obs_names) == ["A", "B"]
    assert set(e.layers) == {"delta", "se", "pval", "fdr"}
    q, d = e.layers["fdr"], e.layers["delta"]
    assert q[0, 0] < 1e-6 and d[0, 0] < -0.5
    assert q[0, 1] < 1e-6 and d[0, 1] > 0.3
    assert q[1, 2] < 1e-6 and d[1, 2] < -0.5
    null = np.ones_like(q, bool)
    null[0, [0, 1]] = null[1, 2] = False
    # size factors make every gene shift a little when one gene moves a lot; most stay null
    assert (q[null] < 0.05).mean() < 0.2
    assert e.obs.loc["A", "n_cells"] == 300


def test_same_result_from_backed_file_and_chunks(tmp_path, screen):
    import anndata as ad

    adata, _ = screen
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    mem = effects(adata, rng=0, progress=False)
    backed = effects(ad.read_h5ad(path, backed="r"), chunk_size=97, rng=0, progress=False)
    for layer in ("delta", "se", "pval"):
        np.testing.assert_allclose(backed.layers[layer], mem.layers[layer], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(backed.uns["cells"]["escape_prob"], mem.uns["cells"]["escape_prob"])


def test_same_seed_same_output(screen):
    adata, _ = screen
    a = effects(adata, rng=7, progress=False).uns["cells"]["escape_prob"].to_numpy()
    b = effects(adata, rng=7, progress=False).uns["cells"]["escape_prob"].to_numpy()
    np.testing.assert_array_equal(a, b)


def test_escapers_and_guide_efficacy():
    adata, truth = make_counts_screen(
        effects={"A": {0: -2.0, 1: 1.5, 3: -1.0, 4: 1.0}},
        guide_efficacy={"A": [0.9, 0.3, 0.0]},
        cells_per_guide=300,
        seed=11,
    )
    e = effects(adata, rng=0, progress=False)
    guides = e.uns["guides"]
    assert guides.loc["A_g0", "responder_fraction"] == pytest.approx(0.9, abs=0.1)
    assert guides.loc["A_g1", "responder_fraction"] == pytest.approx(0.3, abs=0.1)
    assert guides.loc["A_g2", "responder_fraction"] < 0.1
    assert (
        guides.loc["A_g0", "signature_ratio"]
        > guides.loc["A_g1", "signature_ratio"]
        > guides.loc["A_g2", "signature_ratio"]
    )
    cells = e.uns["cells"]
    responds = truth["responds"][adata.obs["perturbation"].to_numpy() != "control"]
    # the probabilities keep all the ranking information of the scores, and are calibrated
    auc_scores = roc_auc_score(~responds, -cells["score"])
    assert roc_auc_score(~responds, cells["escape_prob"]) >= auc_scores - 1e-9
    assert auc_scores > 0.9
    assert cells["escape_prob"].mean() == pytest.approx((~responds).mean(), abs=0.08)
    brier = np.mean((cells["escape_prob"] - ~responds) ** 2)
    assert brier < 0.5 * np.var(~responds)
    assert e.obs.loc["A", "responder_fraction"] == pytest.approx(responds.mean(), abs=0.08)


def test_responders_only_restores_full_effect():
    adata, truth = make_counts_screen(
        effects={"A": {0: -2.0, 1: 1.5, 3: -1.0}}, guide_efficacy={"A": [0.5, 0.5]}, seed=5
    )
    pooled = effects(adata, rng=0, progress=False)
    responders = effects(adata, rng=0, responders_only=True, progress=False)
    full = effects(
        adata[~((adata.obs["perturbation"] == "A").to_numpy() & ~truth["responds"])].copy(),
        escape=False,
        progress=False,
    )
    d_pool, d_resp, d_full = (x.layers["delta"][0, 0] for x in (pooled, responders, full))
    assert abs(d_resp - d_full) < 0.25 * abs(d_full)
    assert abs(d_pool) < 0.7 * abs(d_full)


def test_knockdown_of_measured_target():
    adata, _ = make_counts_screen(
        effects={"G3": {3: -np.log(4)}}, depth=40.0, seed=2
    )  # perturbation named as gene G3
    e = effects(adata, rng=0, progress=False)
    assert e.obs.loc["G3", "target_measured"]
    assert e.obs.loc["G3", "knockdown"] == pytest.approx(0.75, abs=0.08)
    assert e.obs.loc["G3", "knockdown_pval"] < 1e-6


def test_log_expression_one_profile_per_condition():
    """DREAM-style data: one profile per knockout, replicate wild types give the variance."""
    import anndata as ad
    import pandas as pd

    rng = np.random.default_rng(0)
    wt = rng.normal(5, 0.1, (6, 4))
    ko = np.array([[2.0, 5.0, 5.0, 5.0]])
    a = ad.AnnData(
        np.vstack([wt, ko]),
        obs=pd.DataFrame({"perturbation": ["control"] * 6 + ["G0"]}, index=list("abcdefg")),
        var=pd.DataFrame(index=["G0", "G1", "G2", "G3"]),
    )
    e = effects(a, expression="log", min_cells=1, escape=False, progress=False)
    assert e.layers["delta"][0, 0] == pytest.approx(2.0 - wt[:, 0].mean())
    assert e.layers["pval"][0, 0] < 1e-6
    assert np.isfinite(e.layers["se"]).all()


def test_small_groups_are_dropped_and_listed():
    adata, _ = make_counts_screen(seed=1)
    adata.obs["perturbation"] = adata.obs["perturbation"].astype(str)
    adata.obs.iloc[-2:, adata.obs.columns.get_loc("perturbation")] = "RARE"
    e = effects(adata, min_cells=3, progress=False)
    assert "RARE" not in e.obs_names
    assert e.uns["effects"]["params"]["dropped_perturbations"] == {"RARE": 2}


def test_cells_object_accepted(screen):
    adata, _ = screen
    e = effects(validate_cells(adata), escape=False, progress=False)
    assert e.n_obs == 2


def test_guides_of_combination_cells_count_for_the_combination_only():
    """A cell carrying 'A_g0+B_g1' is a cell of perturbation 'A+B', not of guide A_g0's
    profile (which would then mix in B's effects; see test_guides_combinations.py)."""
    adata, _ = make_counts_screen(seed=3)
    obs = adata.obs.copy()
    combo = np.flatnonzero(obs["guide"].astype(str) == "A_g0")[:40]
    obs["perturbation"] = obs["perturbation"].astype(str)
    obs["guide"] = obs["guide"].astype(str)
    obs.iloc[combo, obs.columns.get_loc("perturbation")] = "A+B"
    obs.iloc[combo, obs.columns.get_loc("guide")] = "A_g0+B_g1"
    adata.obs = obs
    e = effects(adata, rng=0, progress=False, escape=False)
    guides = e.uns["guides"]
    assert list(e.obs_names) == ["A", "A+B", "B"]
    assert guides.loc["A_g0", "perturbation"] == "A"
    assert guides.loc["A_g0", "n_cells"] == 110  # the single-perturbation cells only
    assert guides.loc["B_g1", "n_cells"] == 150
    assert e.obs.loc["A+B", "n_cells"] == 40
