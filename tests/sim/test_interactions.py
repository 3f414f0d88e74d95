"""Genetic interactions in the simulator's truth: the `norman` mechanism makes a minority of
pairs non-additive, the affine mechanism none."""

import numpy as np
import pytest

from causalcell.predict._interactions import call_interaction, interaction_score
from causalcell.sim import get_preset
from causalcell.sim._cells import expected_deltas
from causalcell.sim._mechanism import Regulation
from causalcell.sim._world import draw_world

# a scaled-down `norman`: same mechanism and design rules, fewer genes and perturbations
SMALL = dict(
    n_genes=150,
    n_single=30,
    n_combo=40,
    combo_pairs=15,
    truth_panel=4,
    guides_per_target=1,
    dead_rate=0.0,
    escape_rate=0.0,
)


def _scores(config, key: str, seed: int = 0) -> np.ndarray:
    """Interaction score of every true pair delta (perturbed genes left out)."""
    world = draw_world(config, rng=seed)
    labels = ["+".join(world.genes[list(p)]) for p in world.perturbations]
    delta = expected_deltas(world, labels, rng=seed)[key]
    row = {p: i for i, p in enumerate(world.perturbations)}
    out = []
    for p, i in row.items():
        if len(p) != 2:
            continue
        keep = np.ones(delta.shape[1], bool)
        keep[list(p)] = False
        singles = np.stack([delta[row[(g,)], keep] for g in p])
        out.append(interaction_score(delta[i, keep], singles))
    return np.array(out)


def test_norman_pairs_include_non_additive():
    scores = _scores(get_preset("norman").override(**SMALL), "delta")
    calls = np.array([call_interaction(s) for s in scores])
    non_additive = np.mean(calls != "additive")
    assert scores.size >= 30
    assert 0.05 <= non_additive <= 0.6  # a clear minority, as in a real GI screen
    assert np.median(scores[np.isfinite(scores)]) == pytest.approx(1.0, abs=0.1)


def test_affine_pairs_are_exactly_additive():
    config = get_preset("norman").override(
        **{**SMALL, "hill": None, "n_pairs": 0, "combo_pairs": 0}
    )
    scores = _scores(config, "delta_latent")
    scores = scores[np.isfinite(scores)]
    assert scores.size >= 30
    np.testing.assert_allclose(scores, 1.0, atol=1e-8)


def test_promoter_response_keeps_G_the_jacobian():
    rng = np.random.default_rng(0)
    G = np.triu(rng.normal(0, 0.3, (6, 6)) * (rng.random((6, 6)) < 0.5), k=1)
    G[0, 2] = G[1, 2] = 0.4  # genes 0 and 1 co-activate gene 2
    setpoint = rng.normal(0, 1, 6)
    reg = Regulation(G, 1.0, setpoint=setpoint, gain=3.0, offset=rng.uniform(-0.6, 0.6, 6))
    eps, eye = 1e-6, np.eye(6)
    jac = np.stack(
        [
            (reg.drive((setpoint + eps * e)[None]) - reg.drive((setpoint - eps * e)[None]))[0]
            for e in eye
        ]
    ) / (2 * eps)
    np.testing.assert_allclose(jac, G, atol=1e-6)
    # co-activation of gene 2 is not the sum of the single activations
    base = reg.drive(setpoint[None])[0, 2]
    single = [reg.drive((setpoint + 2.0 * eye[k])[None])[0, 2] - base for k in (0, 1)]
    joint = reg.drive((setpoint + 2.0 * eye[0] + 2.0 * eye[1])[None])[0, 2] - base
    assert abs(joint - sum(single)) > 0.05 * abs(sum(single))
    # without the promoter gain (and pair terms) the Hill mechanism adds up exactly
    plain = Regulation(G, 1.0, setpoint=setpoint)
    base = plain.drive(setpoint[None])[0, 2]
    single = [plain.drive((setpoint + 2.0 * eye[k])[None])[0, 2] - base for k in (0, 1)]
    joint = plain.drive((setpoint + 2.0 * eye[0] + 2.0 * eye[1])[None])[0, 2] - base
    assert joint == pytest.approx(sum(single))
