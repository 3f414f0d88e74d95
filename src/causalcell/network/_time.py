"""Time-resolved direct effects: the shape of each response over time as evidence of directness.

Right after a fast perturbation (degron, induction) of gene ``i`` at ``t = 0``, a first-order
model of mRNA dynamics (``dx_j/dt = (inputs_j - x_j) / tau_j``) gives a direct target ``j`` the
response ``A (1 - exp(-t / tau_j))``: it starts at once, linearly in ``t``. A target reached
through a mediator starts later (as ``t^2`` for one intermediate step, the shape
``1 - exp(-t/tau) (1 + t/tau)`` for equal time constants). The estimator here fits the direct
shape to every (perturbation, gene) response over all time points by weighted least squares,
with ``tau`` chosen per edge on a log grid spanning the sampled times; the score is the |z| of
the fitted amplitude ``A``. Early time points carry the direct-specific signal (the onset); the
later ones pin down the amplitude and, through their lag, lower the fit of indirect responses.
Effects are estimated separately at each time point against the control cells of that time
point, so drifts of the controls over time cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell.io import Cells
from causalcell.network._methods import EdgeScores, _no_self, register
from causalcell.network._profiles import Profiles


@dataclass
class TimeCourse:
    """Effects of each condition on each gene at each time point, vs the controls of that time.

    Attributes
    ----------
    delta, se
        Times x conditions x genes (NaN where a condition was not measured at a time; ``se``
        NaN where unknown, e.g. one profile per condition).
    times
        Sorted time points (hours after the perturbation).
    conditions, targets, genes
        As in :class:`~causalcell.network.Profiles`.
    """

    delta: np.ndarray
    se: np.ndarray
    times: np.ndarray
    conditions: pd.Index
    targets: list[tuple[str, ...]]
    genes: pd.Index

    @classmethod
    def from_profiles(cls, profiles: dict[float, Profiles]) -> TimeCourse:
        """Stack per-time :class:`Profiles` (conditions are aligned by name)."""
        times = np.array(sorted(profiles), float)
        first = profiles[times[0]]
        conditions = pd.Index(sorted(set().union(*(p.conditions for p in profiles.values()))))
        target_of = {}
        for p in profiles.values():
            target_of.update(dict(zip(p.conditions, p.targets, strict=True)))
        shape = (len(times), len(conditions), len(first.genes))
        delta, se = np.full(shape, np.nan), np.full(shape, np.nan)
        for k, t in enumerate(times):
            p = profiles[t]
            rows = conditions.get_indexer(p.conditions)
            cols = p.genes.get_indexer(first.genes)
            delta[k, rows] = p.delta[:, cols]
            se[k, rows] = p.se[:, cols]
        targets = [target_of[c] for c in conditions]
        return cls(delta, se, times, conditions, targets, pd.Index(first.genes))

    @classmethod
    def from_cells(
        cls, cells: Cells, *, level: str = "perturbation", rng: np.random.Generator | None = None
    ) -> TimeCourse:
        """Estimate effects at each time point of ``cells.obs['time']`` separately."""
        from causalcell.effects import compute_effects, to_anndata

        if "time" not in cells.obs.columns:
            raise InputError(
                f"{cells.source or 'cells'}: the time-resolved method needs obs['time'] "
                "(hours after the perturbation)"
            )
        time = cells.obs["time"].to_numpy(float)
        times = np.unique(time[np.isfinite(time)])
        if len(times) < 2:
            raise InputError(
                f"obs['time'] has {len(times)} distinct finite value(s); the time-resolved "
                "method needs at least 2 time points"
            )
        rng = np.random.default_rng(rng)
        profiles = {}
        for t in times:
            rows = np.flatnonzero(time == t)
            result = compute_effects(cells.subset(rows), escape=False, rng=rng, progress=False)
            profiles[float(t)] = Profiles.from_effects(to_anndata(result), level=level)
        return cls.from_profiles(profiles)

    def scale(self) -> np.ndarray:
        """Noise scale of each entry: ``se``, or the sd of the gene over conditions at that time
        where ``se`` is unknown (one profile per condition)."""
        sd = np.nanstd(self.delta, axis=1, keepdims=True)
        ok = np.isfinite(self.se) & (self.se > 0)
        return np.where(ok, self.se, np.broadcast_to(sd, self.se.shape))


def direct_shape(times: np.ndarray, tau: float) -> np.ndarray:
    """Response of a direct target with time constant ``tau`` to a step at 0 (plateau 1)."""
    return 1.0 - np.exp(-np.asarray(times, float) / tau)


def lagged_shape(times: np.ndarray, tau: float) -> np.ndarray:
    """Response of a target one mediator away (both time constants ``tau``; plateau 1)."""
    x = np.asarray(times, float) / tau
    return 1.0 - np.exp(-x) * (1.0 + x)


def kinetic_fit(
    delta: np.ndarray, scale: np.ndarray, times: np.ndarray, taus: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``delta(t) = A f_tau(t)`` (direct shape) per entry by weighted least squares.

    Parameters
    ----------
    delta, scale
        Times x ... arrays: responses and their noise scale (NaN entries are left out).
    times
        The time points (first axis).
    taus
        Grid of time constants; default 9 values log-spaced from the first to the last time.

    Returns
    -------
    z, amplitude
        Arrays shaped like ``delta[0]``: the z-score of ``A`` and ``A`` itself, at the ``tau``
        of least weighted residual sum of squares.
    """
    times = np.asarray(times, float)
    if taus is None:
        taus = np.geomspace(times[0], times[-1], 9)
    w = np.where(np.isfinite(delta) & np.isfinite(scale) & (scale > 0), 1.0 / scale**2, 0.0)
    d = np.nan_to_num(delta)
    best_rss = np.full(delta.shape[1:], np.inf)
    z, amp = np.zeros(delta.shape[1:]), np.zeros(delta.shape[1:])
    for tau in taus:
        f = direct_shape(times, tau).reshape((-1,) + (1,) * (delta.ndim - 1))
        info = np.sum(w * f**2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(info > 0, np.sum(w * f * d, axis=0) / info, 0.0)
        rss = np.sum(w * (d - a * f) ** 2, axis=0)
        better = rss < best_rss
        best_rss = np.where(better, rss, best_rss)
        amp = np.where(better, a, amp)
        z = np.where(better, a * np.sqrt(info), z)
    return z, amp


@register(
    "time",
    "Time-resolved direct edges: |z| of the direct (first-order, no-lag) response shape fitted "
    "over the time points",
    "this package",
)
def time_direct(
    course: TimeCourse, rng: np.random.Generator | None = None, *, taus=None
) -> EdgeScores:
    """Score of ``i -> j``: |z| of the direct-shape amplitude of ``j``'s response to perturbing
    ``i`` alone; ``weight = -A`` (a loss of function of an activator lowers its targets, so the
    weight is signed like the regulation, as for the total effects)."""
    groups: dict[str, list[int]] = {}
    for c, t in enumerate(course.targets):
        if len(t) == 1:
            groups.setdefault(t[0], []).append(c)
    if not groups:
        raise InputError("no single-gene perturbations in the time course")
    sources = pd.Index(sorted(groups))
    z, amp = kinetic_fit(course.delta, course.scale(), course.times, taus)
    score = np.zeros((len(sources), len(course.genes)))
    weight = np.zeros_like(score)
    for i, src in enumerate(sources):
        rows = groups[src]
        # several conditions of one source (guides): Stouffer of their z
        score[i] = np.abs(z[rows].sum(axis=0)) / np.sqrt(len(rows))
        weight[i] = -amp[rows].mean(axis=0)
    return _no_self(EdgeScores(score, weight, sources, course.genes))


time_direct.needs_time = True  # infer_network builds a TimeCourse for it
