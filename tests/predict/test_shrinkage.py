"""Shrinkage of measured deltas toward the programs shared across perturbations."""

import numpy as np
import pytest

from causalcell.predict import discrimination_score, shrink_deltas
from causalcell.predict._shrinkage import hard_threshold_rank, low_rank_part


def _program_screen(seed: int = 0, n: int = 120, p: int = 300, rank: int = 4):
    """Deltas made of a few programs (many small coordinated changes) plus a few large
    gene-specific effects, measured with unit-scale noise of known standard error."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0, 1, (rank, p)) * (rng.random((rank, p)) < 0.3)
    truth = rng.normal(0, 0.4, (n, rank)) @ loadings
    spikes = rng.random((n, p)) < 0.01
    truth[spikes] += rng.choice([-3.0, 3.0], spikes.sum())
    se = np.full((n, p), 0.5) * rng.uniform(0.7, 1.4, p)
    return truth, truth + se * rng.standard_normal((n, p)), se


def test_entry_shrinkage_pulls_noise_not_large_effects():
    delta = np.array([[3.0, 0.1], [-2.0, -0.05]])
    se = np.full_like(delta, 0.1)
    out = shrink_deltas(delta, se, method="entry")
    assert out[0, 0] == pytest.approx(3.0, rel=0.01)
    assert abs(out[0, 1]) < 0.06 and np.sign(out[0, 1]) == 1


def test_hard_threshold_finds_the_spikes_of_a_noisy_matrix():
    rng = np.random.default_rng(1)
    n, p, rank = 200, 400, 3
    signal = rng.normal(0, 1, (n, rank)) @ rng.normal(0, 1, (rank, p))
    noise = rng.standard_normal((n, p))
    singular = np.linalg.svd(signal + noise, compute_uv=False)
    assert hard_threshold_rank(singular, (n, p)) == rank
    assert hard_threshold_rank(np.linalg.svd(noise, compute_uv=False), (n, p)) == 0


def test_program_shrinkage_beats_shrinking_to_zero():
    truth, delta, se = _program_screen()
    programs, zero = shrink_deltas(delta, se), shrink_deltas(delta, se, method="entry")
    error = {k: np.mean((v - truth) ** 2) for k, v in {"programs": programs, "zero": zero}.items()}
    assert error["programs"] < 0.8 * error["zero"]
    # the small coordinated changes that tell perturbations apart survive
    discrimination = {
        k: discrimination_score(v, truth).mean()
        for k, v in {"programs": programs, "zero": zero}.items()
    }
    assert discrimination["programs"] > discrimination["zero"]
    # large gene-specific effects are kept
    spikes = np.abs(truth) >= 2.5
    assert np.median(np.abs(programs[spikes] - truth[spikes])) < 0.5


def test_pure_noise_has_no_programs_and_shrinks_as_toward_zero():
    rng = np.random.default_rng(2)
    se = np.full((80, 150), 0.3)
    delta = se * rng.standard_normal(se.shape)
    np.testing.assert_allclose(low_rank_part(delta, se), 0.0)
    np.testing.assert_allclose(shrink_deltas(delta, se), shrink_deltas(delta, se, method="entry"))


def test_shrinkage_without_standard_errors_or_with_one_row_is_the_identity():
    delta = np.array([[1.0, -2.0, 0.5]])
    assert shrink_deltas(delta, None) is delta
    assert shrink_deltas(delta, np.ones_like(delta)) is delta
    with pytest.raises(ValueError, match="method"):
        shrink_deltas(np.ones((2, 2)), np.ones((2, 2)), method="gene")
