import dataclasses
import json

import numpy as np
import pytest
from scipy import sparse

from causalcell._errors import InputError
from causalcell.sim import PRESETS, list_presets, simulate


@pytest.fixture(scope="module")
def small():
    return simulate("small", rng=0)


def _log1p_cp10k(X):
    X = X.toarray().astype(float)
    return np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4)


def test_output_follows_the_contract(small):
    a, truth = small.adata, small.truth
    assert sparse.isspmatrix_csr(a.X) and a.X.dtype in (np.int32, np.int64)
    assert a.X.min() >= 0 and a.var_names.is_unique
    labels = set(a.obs["perturbation"])
    assert "control" in labels
    for label in labels - {"control"}:
        assert label.split("+") == sorted(label.split("+"))
        assert set(label.split("+")) <= set(a.var_names)
    ctrl = a.obs["perturbation"] == "control"
    assert a.obs.loc[ctrl, "guide"].str.fullmatch(r"NT_g\d+").all()
    first = a.obs.loc[~ctrl, "guide"].iloc[0].split("+")
    assert all(g.rsplit("_g", 1)[0] in a.var_names for g in first)
    assert {"batch", "cell_type"} <= set(a.obs)
    assert list(truth["genes"]) == list(a.var_names)
    assert set(truth["perturbations"]) == labels - {"control"}
    n_p, n_g = len(truth["perturbations"]), a.n_vars
    assert truth["delta"].shape == truth["delta_se"].shape == (n_p, n_g)
    assert truth["G"].shape == truth["T"].shape == (n_g, n_g)
    np.testing.assert_allclose(truth["T"] @ (np.eye(n_g) - truth["G"]), np.eye(n_g), atol=1e-9)


def test_same_seed_same_cells_and_truth(small):
    again = simulate("small", rng=0)
    assert (small.adata.X != again.adata.X).nnz == 0
    assert small.adata.obs.equals(again.adata.obs)
    np.testing.assert_array_equal(small.truth["delta"], again.truth["delta"])
    other = simulate("small", rng=1)
    assert not np.array_equal(small.truth["G"], other.truth["G"])


def _z_scores(data):
    a, truth = data.adata, data.truth
    L = _log1p_cp10k(a.X)
    lab = a.obs["perturbation"].to_numpy()
    ctrl = L[lab == "control"]
    zs = []
    for i, p in enumerate(truth["perturbations"]):
        pert = L[lab == p]
        diff = pert.mean(0) - ctrl.mean(0)
        var = pert.var(0, ddof=1) / len(pert) + ctrl.var(0, ddof=1) / len(ctrl)
        zs.append((diff - truth["delta"][i]) / np.sqrt(var + truth["delta_se"][i] ** 2 + 1e-12))
    return np.array(zs)


@pytest.mark.parametrize(
    "overrides",
    [
        {"cells_per_perturbation": 300, "n_control": 1500},
        {
            "kind": "crispra",
            "hill": 2.0,
            "n_pairs": 10,
            "n_cell_types": 2,
            "dropout": 0.2,
            "n_genes": 100,
            "n_combo": 2,
        },
        {"kind": "crispri", "off_target_rate": 0.3, "escape_rate": 0.2},
    ],
)
def test_measured_delta_agrees_with_true_delta(overrides):
    kw = {"cells_per_perturbation": 300, "n_control": 1500} | overrides
    z = _z_scores(simulate("small", rng=2, **kw))
    assert abs(z.mean()) < 0.15
    assert 0.85 < z.std() < 1.15
    assert np.mean(np.abs(z) > 4) < 0.002


def test_true_delta_is_not_trivial(small):
    delta = small.truth["delta"]
    assert np.abs(delta).max() > 1.0  # knockouts move their targets strongly
    idx = {g: j for j, g in enumerate(small.truth["genes"])}
    own = [delta[i, idx[p]] for i, p in enumerate(small.truth["perturbations"]) if "+" not in p]
    assert np.all(np.array(own) < -0.5)


def test_crispri_latent_delta_is_efficacy_weighted_total_effect():
    data = simulate("small", rng=3, kind="crispri", n_combo=0, escape_rate=0.1)
    t = data.truth
    fold = t["fold"]
    for i, p in enumerate(t["perturbations"]):
        eff = t["guide_efficacy"][t["guide_target"] == p]
        mean_shift = 0.9 * np.mean(np.log1p(eff * (fold - 1)))
        k = list(t["genes"]).index(p)
        np.testing.assert_allclose(t["delta_latent"][i], mean_shift * t["T"][k], atol=1e-10)


def test_moi_labels_are_canonical_and_have_truth():
    data = simulate("small", rng=4, moi=1.5, n_single=4, n_combo=0, cells_per_perturbation=20)
    labels = set(data.adata.obs["perturbation"])
    assert any(lab.count("+") >= 1 for lab in labels)
    assert labels - {"control"} == set(data.truth["perturbations"])


def test_unknown_preset_and_parameter_raise_input_error():
    with pytest.raises(InputError, match="small"):
        simulate("nope")
    with pytest.raises(InputError, match="n_genes"):
        simulate("small", n_gnes=5)


def test_override_names_are_unique_across_sections():
    cfg = PRESETS["small"]
    names = [
        f.name
        for s in dataclasses.fields(cfg)
        if dataclasses.is_dataclass(getattr(cfg, s.name))
        for f in dataclasses.fields(getattr(cfg, s.name))
    ]
    assert len(names) == len(set(names))
    assert set(list_presets()) >= {
        "small",
        "perturbseq",
        "norman",
        "degron_timecourse",
        "bulk_mixture",
        "population",
    }


def test_write_is_readable_without_pickle(small, tmp_path):
    small.write(tmp_path)
    truth = np.load(tmp_path / "truth.npz", allow_pickle=False)
    assert {"genes", "G", "perturbations", "delta", "T", "guide_efficacy"} <= set(truth.files)
    meta = json.loads((tmp_path / "truth.json").read_text())
    assert meta["preset"] == "small" and len(meta["edges"]) == int((small.truth["G"] != 0).sum())
    import anndata as ad

    back = ad.read_h5ad(tmp_path / "cells.h5ad")
    assert (back.X != small.adata.X).nnz == 0
    assert not list(tmp_path.glob(".*.tmp"))


def test_degron_time_course_truth_and_early_directness():
    data = simulate(
        "degron_timecourse",
        rng=5,
        n_genes=150,
        n_single=4,
        cells_per_perturbation=150,
        n_control=600,
        times=(0.25, 4.0),
    )
    a, t = data.adata, data.truth
    assert t["delta_by_time"].shape == (4, 2, 150) and np.array_equal(t["times"], [0.25, 4.0])
    L = _log1p_cp10k(a.X)
    lab, tm = a.obs["perturbation"].to_numpy(), a.obs["time"].to_numpy()
    zs = []
    for k, when in enumerate(t["times"]):
        ctrl = L[(lab == "control") & (tm == when)]
        for i, p in enumerate(t["perturbations"]):
            pert = L[(lab == p) & (tm == when)]
            var = (
                pert.var(0) / len(pert) + ctrl.var(0) / len(ctrl) + t["delta_se_by_time"][i, k] ** 2
            )
            zs.append((pert.mean(0) - ctrl.mean(0) - t["delta_by_time"][i, k]) / np.sqrt(var))
    assert abs(np.mean(zs)) < 0.15 and np.mean(np.abs(zs) > 4) < 0.005
    # early on, the latent response is concentrated on direct targets; later it spreads
    idx = {g: j for j, g in enumerate(t["genes"])}
    share = np.zeros((2, 2))  # (early, late) x (direct, indirect) absolute latent response
    for i, p in enumerate(t["perturbations"]):
        direct = t["G"][idx[p]] != 0
        indirect = ~direct & (np.arange(150) != idx[p])
        for k, resp in enumerate(np.abs(t["delta_latent_by_time"][i])):
            share[k] += resp[direct].sum(), resp[indirect].sum()
    assert share[0, 1] < 0.2 * share[0, 0]
    assert share[1, 1] / share[1, 0] > 2 * share[0, 1] / share[0, 0]


def test_bulk_mixture_sums_cells_and_truth_tracks_measurement():
    data = simulate(
        "bulk_mixture",
        rng=6,
        n_genes=80,
        n_single=3,
        samples_per_condition=12,
        cells_per_sample=200,
    )
    a, t = data.adata, data.truth
    assert a.n_obs == 4 * 12 and a.X.dtype == np.int64
    assert t["proportions"].shape == (48, 3)
    np.testing.assert_allclose(t["proportions"].sum(axis=1), 1)
    L = _log1p_cp10k(a.X)
    lab = a.obs["perturbation"].to_numpy()
    for i, p in enumerate(t["perturbations"]):
        measured = L[lab == p].mean(0) - L[lab == "control"].mean(0)
        assert np.corrcoef(measured, t["delta"][i])[0, 1] > 0.9


def test_population_mr_summary_statistics_recover_causal_effects():
    data = simulate("population", rng=7, n_genes=80, n_donors=20, cells_per_donor=10)
    a, t = data.adata, data.truth
    assert {"donor", "cell_type", "phenotype"} <= set(a.obs)
    assert set(a.obs["phenotype"]) <= {0, 1}
    # phenotype is a donor property
    assert (a.obs.groupby("donor", observed=True)["phenotype"].nunique() == 1).all()
    table = data.tables["sumstats.csv"]
    genes = list(t["genes"])
    est, true = [], []
    for gene, sub in table.groupby("gene"):
        w = sub["beta_exposure"] ** 2 / sub["se_outcome"] ** 2
        ivw = (sub["beta_exposure"] * sub["beta_outcome"] / sub["se_outcome"] ** 2).sum() / w.sum()
        est.append(ivw)
        true.append(t["mr_effect"][genes.index(gene)])
    assert np.corrcoef(est, true)[0, 1] > 0.9
    one = next(k for k in data.tables if k.startswith("sumstats/"))
    assert list(data.tables[one].columns) == [
        "beta_exposure",
        "se_exposure",
        "beta_outcome",
        "se_outcome",
        "snp",
    ]


def test_counts_do_not_depend_on_thread_count():
    from causalcell.sim._cells import CHUNK, design_cells, sample_counts_for
    from causalcell.sim._world import draw_world

    world = draw_world(
        PRESETS["small"].override(n_control=CHUNK + 100), rng=np.random.default_rng(0)
    )
    design = design_cells(world, np.random.default_rng(1))
    one = sample_counts_for(world, design, 2, n_jobs=1)
    two = sample_counts_for(world, design, 2, n_jobs=2)
    assert (one != two).nnz == 0


def test_public_api_is_exported():
    import causalcell.sim as sim

    assert all(hasattr(sim, name) for name in sim.__all__)
