"""Design: target-reaching search (beam vs exhaustive, recovery of a known perturbation) and
batch selection of the next experiments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalcell._errors import InputError
from causalcell.design import (
    all_pairs,
    coverage_batch,
    greedy_batch,
    next_experiments,
    reach_target,
    score_candidates,
)
from causalcell.predict import Additive, Responses
from causalcell.sim import simulate


@pytest.fixture(scope="module")
def screen():
    """Noise-free responses of an affine world: 20 knockouts and 6 pairs."""
    data = simulate("small", rng=4, n_single=20, n_combo=6)
    truth = data.truth
    responses = Responses(
        np.asarray(truth["delta"], float),
        pd.Index(truth["perturbations"]),
        pd.Index(truth["genes"]),
    )
    singles = [p for p in responses.perturbations if "+" not in p]
    pairs = [p for p in responses.perturbations if "+" in p]
    return responses, singles, pairs


def _target(responses: Responses, label: str) -> pd.Series:
    row = pd.Series(responses.delta[responses.perturbations.get_loc(label)], index=responses.genes)
    return row.drop(label.split("+"))  # the state to reach: downstream genes only


def test_a_measured_single_is_its_own_best_design(screen):
    responses, singles, _ = screen
    model = Additive().fit(responses.subset(singles))
    for label in singles[:5]:
        best = reach_target(model, _target(responses, label), singles, max_order=1)
        assert best.index[0] == label
        assert best["remaining"].iloc[0] < 1e-9


def test_beam_finds_the_exhaustive_best_pair_and_recovers_true_pairs(screen):
    responses, singles, pairs = screen
    model = Additive().fit(responses.subset(singles))
    hits = 0
    for label in pairs:
        target = _target(responses, label)
        found = reach_target(model, target, singles, max_order=2, beam=len(singles), top=5)
        exhaustive = score_candidates(model, singles + all_pairs(singles), target)
        assert found["score"].iloc[0] == pytest.approx(exhaustive["score"].min())
        hits += label in found.index
    # additivity holds approximately in an affine world: most true pairs rank in the top 5
    assert hits >= len(pairs) - 1


def test_risk_prefers_confident_designs(screen):
    responses, singles, _ = screen
    model = Additive().fit(responses.subset(singles))
    target = _target(responses, singles[0])
    plain = reach_target(model, target, singles, max_order=1, risk=0.0, top=len(singles))
    cautious = reach_target(model, target, singles, max_order=1, risk=5.0, top=len(singles))
    np.testing.assert_allclose(
        cautious.loc[plain.index, "score"],
        plain["remaining"] + 5.0 * plain["uncertainty"],
    )


def test_greedy_batch_skips_redundant_candidates():
    profiles = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, -1.0, 0.5], [0.1, 0.0, 0.2]])
    value = np.array([10.0, 9.0, 5.0, 1.0])
    # the second candidate repeats the first (r = 1): the third comes next
    assert greedy_batch(value, profiles, 2) == [0, 2]


def test_coverage_batch_represents_every_cluster():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 30))
    # 10 members of cluster 0, 3 of cluster 1, 3 of cluster 2
    members = np.repeat([0, 1, 2], [10, 3, 3])
    profiles = centres[members] + 0.1 * rng.normal(size=(16, 30))
    picks, gains = coverage_batch(profiles, 3)
    assert sorted(members[picks]) == [0, 1, 2]  # one per cluster, the big one first
    assert members[picks[0]] == 0 and np.all(np.diff(gains) <= 0)


def test_next_experiments_strategies(screen):
    responses, singles, _ = screen
    model = Additive().fit(responses.subset(singles[:10]))
    pool = singles[10:]
    picks = next_experiments(model, pool, 4, strategy="effect")
    assert len(picks) == 4 and set(picks.index) <= set(pool)
    assert picks["value"].iloc[0] == picks["value"].max()
    a = next_experiments(model, pool, 4, strategy="random", rng=1)
    b = next_experiments(model, pool, 4, strategy="random", rng=1)
    assert list(a.index) == list(b.index)
    with pytest.raises(InputError, match="strategy"):
        next_experiments(model, pool, 4, strategy="greedy")


def test_bad_targets_are_refused(screen):
    responses, singles, _ = screen
    model = Additive().fit(responses.subset(singles))
    with pytest.raises(InputError, match="not measured"):
        reach_target(model, pd.Series({"NOTAGENE": 1.0}), singles)
    with pytest.raises(InputError, match="NaN"):
        reach_target(model, pd.Series({responses.genes[0]: np.nan}), singles)
    with pytest.raises(InputError, match="all zero"):
        reach_target(model, pd.Series({responses.genes[0]: 0.0}), singles)
    with pytest.raises(InputError, match="candidate"):
        reach_target(model, pd.Series({responses.genes[0]: 1.0}), [])


def test_cli_design_target_and_next(tmp_path):
    from causalcell.cli import main
    from causalcell.effects import effects

    data = simulate("small", rng=5)
    eff = effects(data.adata, escape=False, rng=0, progress=False)
    path = tmp_path / "effects.h5ad"
    eff.write_h5ad(path)
    label = next(p for p in eff.obs_names if "+" not in p)
    row = pd.Series(eff.layers["delta"][eff.obs_names.get_loc(label)], index=eff.var_names)
    pd.DataFrame({"gene": row.index, "delta": row.to_numpy()}).to_csv(
        tmp_path / "target.csv", index=False
    )
    out = tmp_path / "designs.csv"
    args = [str(path), "--out", str(out), "--model", "additive"]
    assert (
        main(["design", *args, "--target", str(tmp_path / "target.csv"), "--max-order", "1"]) == 0
    )
    assert pd.read_csv(out)["perturbation"].iloc[0] == label
    assert main(["design", *args, "--next", "3", "--strategy", "effect"]) == 0
    picks = pd.read_csv(out)
    assert len(picks) == 3 and not set(picks["perturbation"]) & set(eff.obs_names)
    assert main(["design", *args]) == 2  # neither --target nor --next
    # candidates: an unknown gene is a clear error; gene sets make an unmeasured one known
    target = ["--target", str(tmp_path / "target.csv"), "--max-order", "1"]
    assert main(["design", *args, *target, "--candidates", f"{label},NOPE"]) == 2
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(f"S1\tset one\tNOPE\t{label}\n")
    with_sets = [*target, "--candidates", f"{label},NOPE", "--gene-sets", str(gmt)]
    assert main(["design", str(path), "--out", str(out), *with_sets]) == 0
    assert set(pd.read_csv(out)["perturbation"]) <= {label, "NOPE"}
