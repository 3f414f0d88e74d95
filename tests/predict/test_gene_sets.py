"""Gene-set neighbours: targets that are not measured genes borrow from the perturbed genes
sharing their annotations; exact leave-one-out choice of the shrinkage."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from causalcell import InputError
from causalcell.predict import (
    GeneSetNeighbours,
    ModuleInductive,
    Responses,
    as_gene_sets,
    predict,
)


def _pathway_screen(seed: int = 0, noise: float = 0.3):
    """Targets (not measured genes) in 4 pathways; a pathway's targets share one response
    profile over 60 measured genes, plus noise. Gene sets: each pathway, and broad sets mixing
    pathways."""
    rng = np.random.default_rng(seed)
    genes = pd.Index([f"g{i}" for i in range(60)])
    profiles = rng.normal(0, 1, (4, 60)) * (rng.random((4, 60)) < 0.4)
    targets = [f"T{p}_{i}" for p in range(4) for i in range(8)]
    truth = np.array([profiles[int(t[1])] for t in targets])
    observed = truth + noise * rng.normal(size=truth.shape)
    sets = {f"pathway{p}": [t for t in targets if t.startswith(f"T{p}_")] for p in range(4)}
    sets["broad"] = targets[::2]
    r = Responses(observed, pd.Index(targets), genes, np.full(truth.shape, noise))
    return r, pd.DataFrame(truth, index=targets, columns=genes), sets


def test_unseen_target_borrows_its_pathways_response():
    r, truth, sets = _pathway_screen()
    held_out = ["T0_0", "T1_3", "T2_5", "T3_7"]
    train = r.subset([p for p in r.perturbations if p not in held_out])
    model = GeneSetNeighbours(sets).fit(train)
    pred = model.predict(held_out)
    err = ((pred - truth.loc[held_out]) ** 2).to_numpy().mean()
    err_mean = ((model.mean_ - truth.loc[held_out]) ** 2).to_numpy().mean()
    assert err < 0.2 * err_mean
    # a target in no set is predicted as the mean response
    np.testing.assert_allclose(model.predict(["NOTHING"]).to_numpy()[0], model.mean_)


def test_leave_one_out_error_equals_refitting_without_each_gene():
    r, _, sets = _pathway_screen(seed=1)
    # unshrunk: program shrinkage lets every row depend slightly on the others
    kw = dict(strengths=(0.5,), sharpness=(2.0,), shrink=False)
    model = GeneSetNeighbours(sets, **kw).fit(r)
    labels = list(r.perturbations)
    errors = []
    for i, label in enumerate(labels):
        rest = GeneSetNeighbours(sets, **kw).fit(r.subset([p for p in labels if p != label]))
        errors.append(np.mean((rest.unseen([label])[0] - model.Y_[i]) ** 2))
    assert model.loo_mse_[2.0, 0.5] == pytest.approx(np.mean(errors))


def _twins_among_crowds(seed: int = 0):
    """Targets in twin pairs that share one specific set and one response profile; every
    target is also in many broad random sets that say nothing about its response."""
    rng = np.random.default_rng(seed)
    n_pairs, n_genes = 15, 40
    targets = [f"T{p}_{i}" for p in range(n_pairs) for i in range(2)]
    profiles = rng.normal(0, 1, (n_pairs, n_genes))
    truth = np.repeat(profiles, 2, axis=0)
    observed = truth + 0.2 * rng.normal(size=truth.shape)
    sets = {f"twins{p}": [f"T{p}_0", f"T{p}_1"] for p in range(n_pairs)}
    for k in range(20):
        sets[f"broad{k}"] = list(rng.choice(targets, 6, replace=False))
    genes = pd.Index([f"g{i}" for i in range(n_genes)])
    r = Responses(observed, pd.Index(targets), genes, np.full(truth.shape, 0.2))
    return r, pd.DataFrame(truth, index=targets, columns=genes), sets


def test_a_close_neighbour_outweighs_many_remote_ones():
    r, truth, sets = _twins_among_crowds()
    held_out = ["T0_0", "T3_1", "T7_0", "T11_1"]
    train = r.subset([p for p in r.perturbations if p not in held_out])
    sharp = GeneSetNeighbours(sets).fit(train)
    flat = GeneSetNeighbours(sets, sharpness=(1.0,)).fit(train)
    assert sharp.sharpness_ > 1.0
    assert min(sharp.loo_mse_.values()) < min(flat.loo_mse_.values())

    def error(model):
        return float(((model.predict(held_out) - truth.loc[held_out]) ** 2).to_numpy().mean())

    assert error(sharp) < 0.8 * error(flat)


def test_more_noise_chooses_stronger_shrinkage():
    weak = GeneSetNeighbours(_pathway_screen(noise=0.1)[2]).fit(_pathway_screen(noise=0.1)[0])
    r, _, sets = _pathway_screen(noise=2.0)
    strong = GeneSetNeighbours(sets).fit(r)
    assert strong.strength_ > weak.strength_


def test_module_model_uses_gene_sets_for_targets_that_are_not_measured():
    r, truth, sets = _pathway_screen(seed=2)
    held_out = ["T0_1", "T1_1", "T2_1", "T3_1"]
    train = r.subset([p for p in r.perturbations if p not in held_out])
    plain = ModuleInductive().fit(train).predict(held_out)
    with_sets = ModuleInductive(gene_sets=sets).fit(train).predict(held_out)
    err = lambda p: ((p - truth.loc[held_out]) ** 2).to_numpy().mean()  # noqa: E731
    assert err(with_sets) < 0.3 * err(plain)


def test_gene_sets_are_shared_by_copies_and_clones():
    sets = as_gene_sets({"a": ["X", "Y"], "b": ("named set", ["Y", "Z"])})
    assert copy.deepcopy(sets) is sets
    assert clone(ModuleInductive(gene_sets=sets)).gene_sets is sets
    assert sets["b"] == frozenset({"Y", "Z"}) and sets.genes == {"X", "Y", "Z"}
    with pytest.raises(InputError, match="GMT path or a mapping"):
        as_gene_sets(["X", "Y"])


def test_predict_accepts_annotated_unknown_targets_only(tmp_path):
    r, _, sets = _pathway_screen(seed=3)
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("".join(f"{k}\t{k}\t" + "\t".join(v) + "\n" for k, v in sets.items()))
    train = r.subset([p for p in r.perturbations if p != "T2_2"])
    pred, sd = predict(train, ["T2_2"], model="module", gene_sets=gmt)
    assert pred.shape == sd.shape == (1, 60)
    with pytest.raises(InputError, match="gene sets"):
        predict(train, ["NOTHING"], model="module", gene_sets=gmt)


def test_a_target_the_module_model_cannot_place_gets_the_mean_of_all_singles():
    # no target is a measured gene: the programs' centre (mean over measured targets) is
    # empty, and an unplaceable target must still get the mean response, not zero
    r, _, _ = _pathway_screen(seed=3)
    train = r.subset([p for p in r.perturbations if p != "T0_0"])
    pred = ModuleInductive().fit(train).predict(["T0_0"]).to_numpy()[0]
    np.testing.assert_allclose(pred, train.shrunk.mean(axis=0))
    assert np.abs(pred).max() > 0.1
