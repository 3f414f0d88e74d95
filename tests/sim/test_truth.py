"""Simulated data against their saved truth: analytic properties and sampling agreement."""

import numpy as np
import pytest

from causalcell.sim import PRESETS, simulate
from causalcell.sim._cells import _steady_states, design_cells
from causalcell.sim._world import draw_world


def _log1p_cp10k(X):
    X = X.toarray().astype(float)
    return np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4)


def _z_matrix(data, min_cells=20):
    """Z-scores (labels x genes) of measured minus true delta, sampling se included.

    Labels with fewer than ``min_cells`` cells (rare MOI combinations) are left out: their
    variance estimates are too noisy for normal z-scores.
    """
    a, t = data.adata, data.truth
    L = _log1p_cp10k(a.X)
    lab = a.obs["perturbation"].to_numpy()
    ctrl = L[lab == "control"]
    z = []
    for i, p in enumerate(t["perturbations"]):
        pert = L[lab == p]
        if len(pert) < min_cells:
            continue
        diff = pert.mean(0) - ctrl.mean(0) - t["delta"][i]
        var = pert.var(0, ddof=1) / len(pert) + ctrl.var(0, ddof=1) / len(ctrl)
        z.append(diff / np.sqrt(var + t["delta_se"][i] ** 2 + 1e-12))
    return np.array(z)


def _agrees(z: np.ndarray, check_mean: bool = True) -> bool:
    """Whether z-scores look N(0, 1), overall and label by label (mean squared z near 1).

    The z-scores of one data set share the control cells, so their overall mean varies more
    than 1/sqrt(entries): over 10 seeds its sd was 0.035 at 300 genes (0.11 at 80 genes, hence
    300 genes here). Along a trajectory the control cells' sampled positions shift many genes
    at once and the mean has sd ~0.15 (8 seeds), so it is not checked there.
    """
    msq = (z**2).mean(axis=1)
    return bool(
        (not check_mean or abs(z.mean()) < 0.15)
        and 0.85 < z.std() < 1.2
        and np.mean(np.abs(z) > 4) < 0.003
        and msq.max() < 1.8
        and msq.min() > 0.5
    )


# Every perturbation kind and design feature whose truth is an exact mixture: measured deltas
# must scatter around the saved deltas as N(0, 1), overall and perturbation by perturbation.
CASES = {
    "induction": {"kind": "induction"},
    "degron_steady": {"kind": "degron"},
    "crispri_moi2": {"kind": "crispri", "moi": 2.0, "n_single": 3},
    "combos_order_2_and_3": {"n_combo": 4, "combo_order": (2, 3)},
    "crispra_hill_trajectory": {
        "kind": "crispra",
        "hill": 2.0,
        "trajectory": True,
        "n_cell_types": 3,
        "dead_rate": 0.3,
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_measured_delta_agrees_with_true_delta_per_perturbation(case):
    kw = {"n_genes": 300, "n_single": 5, "n_combo": 0, "cells_per_perturbation": 300}
    data = simulate("small", rng=11, n_control=1500, **(kw | CASES[case]))
    z = _z_matrix(data)
    assert _agrees(z, check_mean="trajectory" not in CASES[case])
    labels = data.truth["perturbations"]
    if case == "combos_order_2_and_3":
        assert {p.count("+") for p in labels} == {0, 1, 2}
    if case == "crispri_moi2":
        assert max(p.count("+") for p in labels) >= 2 and len(z) >= 5


def test_wrong_truth_is_detected():
    """The agreement check has power: a truth 30% too small, or of another label, fails it."""
    data = simulate(
        "small",
        rng=12,
        n_genes=300,
        n_single=5,
        n_combo=0,
        cells_per_perturbation=300,
        n_control=1500,
    )
    assert _agrees(_z_matrix(data))
    right = data.truth["delta"].copy()
    data.truth["delta"] = 0.7 * right
    assert not _agrees(_z_matrix(data))
    data.truth["delta"] = np.roll(right, 1, axis=0)
    assert not _agrees(_z_matrix(data))


@pytest.mark.parametrize("hill", [None, 2.0])
def test_knockout_of_gene_without_out_edges_moves_only_that_gene(hill):
    data = simulate(
        "small", rng=13, hill=hill, target_regulators=0.0, n_single=10, n_combo=0, n_genes=80
    )
    t = data.truth
    genes = list(t["genes"])
    escape = PRESETS["small"].perturbation.escape_rate
    leaves = [p for p in t["perturbations"] if not t["G"][genes.index(p)].any()]
    assert len(leaves) >= 3
    for p in leaves:
        i, k = list(t["perturbations"]).index(p), genes.index(p)
        moved = np.flatnonzero(np.abs(t["delta_latent"][i]) > 1e-12)
        assert moved.tolist() == [k]
        # and the target moves by its knockout, averaged over guides (dead ones too) and escape
        eff = t["guide_efficacy"][t["guide_target"] == p]
        shift = (1 - escape) * np.mean(np.log1p(eff * (t["fold"] - 1)))
        assert t["delta_latent"][i, k] == pytest.approx(shift, abs=1e-9)


def test_affine_steady_state_of_simulated_cells_is_propagation_through_total_effects():
    world = draw_world(PRESETS["small"].override(kind="crispri", n_genes=60), rng=14)
    design = design_cells(world, np.random.default_rng(15))
    rng = np.random.default_rng(16)
    b = world.basal(design.cell_type, None, rng)
    x = _steady_states(world, b, design.E)
    shift = design.E.toarray()
    hit = shift > 0
    shift[hit] = np.log1p(shift[hit] * (world.fold - 1))
    I_G = np.eye(60) - world.net.G
    np.testing.assert_allclose(x, np.linalg.solve(I_G.T, (b + shift).T).T, atol=1e-9)
    np.testing.assert_allclose(x, (b + shift) + x @ world.net.G, atol=1e-9)  # x = b + s + x G


def test_degron_response_is_direct_effects_to_first_order_in_time():
    """Truth of a degron time course: delta_latent(t) = t * shift * G[k] / tau + O(t^2)."""
    times = (0.01, 0.02)
    data = simulate(
        "degron_timecourse",
        rng=17,
        n_genes=80,
        n_single=4,
        cells_per_perturbation=2,
        n_control=2,
        times=times,
        dt=0.0005,
        sde_noise=0.0,
        burn_in=0.0,
    )
    t = data.truth
    genes = list(t["genes"])
    errors = []
    for i, p in enumerate(t["perturbations"]):
        k = genes.index(p)
        eff = t["guide_efficacy"][t["guide_target"] == p]
        escape = PRESETS["degron_timecourse"].perturbation.escape_rate
        shift = (1 - escape) * np.mean(np.log1p(eff * (t["fold"] - 1)))
        slope = shift * t["G"][k] / t["tau"]  # first-order rate of every gene
        slope[k] = 0.0  # the degron removes protein activity; the mRNA follows its regulators
        direct = (t["G"][k] != 0) & (np.arange(len(genes)) != k)
        for j, when in enumerate(times):
            resp = t["delta_latent_by_time"][i, j]
            resp = np.where(np.arange(len(genes)) == k, 0.0, resp)
            np.testing.assert_allclose(resp[~direct], 0, atol=5 * when**2)  # indirect: O(t^2)
            errors.append(np.abs(resp[direct] / when - slope[direct]).max())
        assert np.abs(slope[direct]).max() > 0.5
    errors = np.array(errors).reshape(-1, 2)
    np.testing.assert_allclose(errors[:, 1] / errors[:, 0], 2, rtol=0.15)  # error of dx/t: O(t)


def test_same_seed_identical_cells_other_seed_other_cells():
    one, again, other = (simulate("small", rng=s, n_genes=60) for s in (21, 21, 22))
    assert (one.adata.X != again.adata.X).nnz == 0 and one.adata.obs.equals(again.adata.obs)
    np.testing.assert_array_equal(one.truth["delta"], again.truth["delta"])
    assert (one.adata.X != other.adata.X).nnz > 0.5 * one.adata.X.nnz
    assert not np.array_equal(one.truth["G"], other.truth["G"])


def test_dead_guides_do_nothing_and_working_guides_knock_down_by_efficacy():
    data = simulate(
        "small",
        rng=23,
        kind="crispri",
        n_genes=80,
        n_single=6,
        n_combo=0,
        dead_rate=0.3,
        escape_rate=0.0,
        cells_per_perturbation=300,
    )
    a, t = data.adata, data.truth
    assert np.any(t["guide_efficacy"] == 0)
    L = _log1p_cp10k(a.X)
    ctrl = a.obs["perturbation"].to_numpy() == "control"
    genes = list(a.var_names)
    knock, eff, z_dead = [], [], []
    for g, target, e in zip(t["guide"], t["guide_target"], t["guide_efficacy"], strict=True):
        cells = a.obs["guide"].to_numpy() == g
        x, c = L[cells, genes.index(target)], L[ctrl, genes.index(target)]
        diff = x.mean() - c.mean()
        if e == 0:
            z_dead.append(diff / np.sqrt(x.var() / x.size + c.var() / c.size))
        else:
            knock.append(diff)
            eff.append(e)
    assert np.all(np.abs(z_dead) < 4)
    assert np.corrcoef(eff, knock)[0, 1] < -0.5  # stronger guides knock down more


def test_trajectory_programs_propagate_through_the_network():
    data = simulate("small", rng=24, trajectory=True, n_cell_types=3, n_genes=80, n_single=2)
    a, t = data.adata, data.truth
    s = a.obs["pseudotime"].to_numpy()
    assert s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(
        a.obs["cell_type"].astype(str).to_numpy(),
        np.char.add("type", np.rint(2 * s).astype(int).astype(str)),
    )
    ctrl = a.obs["perturbation"].to_numpy() == "control"
    L = _log1p_cp10k(a.X[ctrl])
    s = s[ctrl]
    measured = L[s > 0.9].mean(0) - L[s < 0.1].mean(0)
    # affine mechanism: moving from the start to the end shifts log expression by the change of
    # program propagated through (I - G)^-1, evaluated at the bins' mean pseudotimes
    progs = t["programs"]
    end = 0.95 * 2 - 1  # mean position of s > 0.9 on the second segment
    predicted = progs[1] + end * (progs[2] - progs[1]) - (progs[0] + 0.1 * (progs[1] - progs[0]))
    predicted = predicted @ t["T"]
    assert np.corrcoef(measured, predicted)[0, 1] > 0.9
