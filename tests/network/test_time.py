"""Time-resolved direct effects: kinetic shapes, and the degron time course of the simulator."""

from functools import lru_cache

import numpy as np
import pytest

from causalcell import InputError
from causalcell.network import evaluate, infer_network, kinetic_fit, truth_frame
from causalcell.network._time import direct_shape, lagged_shape

TIMES = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])


@lru_cache(maxsize=1)
def small_degron(seed: int = 1):
    """A small degron time course (60 genes, 10 degraded regulators, 4 time points)."""
    from causalcell.sim import simulate

    return simulate(
        "degron_timecourse",
        rng=seed,
        n_genes=60,
        n_single=10,
        times=(0.25, 0.5, 1.0, 4.0),
        cells_per_perturbation=30,
        n_control=60,
    )


def direct_truth(sim):
    genes, perts = list(sim.truth["genes"]), list(sim.truth["perturbations"])
    truth = truth_frame(sim.truth["G"], genes)
    return truth[truth["source"].isin(perts)], perts, genes


def test_kinetic_fit_recovers_amplitude_and_prefers_direct_over_lagged_shapes():
    tau = 1.0
    noise = np.full((len(TIMES), 2), 0.05)
    delta = np.stack([2.0 * direct_shape(TIMES, tau), 2.0 * lagged_shape(TIMES, tau)], axis=1)
    z, amp = kinetic_fit(delta, noise, TIMES, taus=np.geomspace(0.25, 8, 25))
    assert amp[0] == pytest.approx(2.0, rel=0.05)
    # same plateau, but the lagged response fits the direct shape worse and scores lower
    assert abs(z[0]) > abs(z[1])
    # NaN (unmeasured) time points are left out, not counted as zero responses
    delta[2, 0] = np.nan
    _, amp_nan = kinetic_fit(delta, noise, TIMES, taus=np.geomspace(0.25, 8, 25))
    assert amp_nan[0] == pytest.approx(2.0, rel=0.05)


def test_time_method_beats_the_late_zscore_on_direct_edges():
    sim = small_degron()
    truth, perts, genes = direct_truth(sim)
    a = sim.adata

    def aupr(edges):
        return evaluate(edges, truth, sources=perts, targets=genes)["aupr"]

    timed = infer_network(a, method="time", rng=0)
    late = a[a.obs["time"].to_numpy() == a.obs["time"].max()].copy()
    late_z = infer_network(late, method="zscore", level="perturbation", rng=0)
    random = len(truth) / (len(perts) * (len(genes) - 1))
    assert aupr(timed) > aupr(late_z) > 3 * random
    assert set(timed.columns) == {"source", "target", "weight", "score"}
    assert timed["score"].is_monotonic_decreasing
    # the weight is signed like the regulation: agrees with the true sign on the top edges
    top = timed.head(20).merge(truth, on=["source", "target"])
    assert len(top) >= 10 and (np.sign(top["weight"]) == top["sign"]).mean() >= 0.8


def test_time_method_needs_time_points():
    sim = small_degron()
    a = sim.adata[sim.adata.obs["time"].to_numpy() == 0.25].copy()
    with pytest.raises(InputError, match="at least 2 time points"):
        infer_network(a, method="time")
    del a.obs["time"]
    with pytest.raises(InputError, match="obs\\['time'\\]"):
        infer_network(a, method="time")


def test_time_course_from_log_profiles_without_standard_errors():
    """Bulk time courses (one profile per condition and time): the noise scale falls back to the
    sd of each gene over conditions at that time; conditions missing at a time stay NaN."""
    import pandas as pd

    from causalcell.network import Profiles, TimeCourse

    rng = np.random.default_rng(0)
    genes = pd.Index(["a", "b", "c"])

    def prof(names):
        delta = rng.normal(size=(len(names), 3))
        return Profiles(
            delta, np.full_like(delta, np.nan), pd.Index(names), [(n,) for n in names], genes
        )

    early, late = prof(["a", "b"]), prof(["a", "b", "c"])
    course = TimeCourse.from_profiles({1.0: late, 0.5: early})
    assert list(course.times) == [0.5, 1.0] and list(course.conditions) == ["a", "b", "c"]
    assert np.isnan(course.delta[0, 2]).all()
    np.testing.assert_allclose(course.scale()[1, 0], late.delta.std(axis=0))
    np.testing.assert_allclose(course.scale()[0, 0], early.delta.std(axis=0))
