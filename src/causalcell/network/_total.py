"""Total effects of each perturbed gene with the guide as instrument."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell.network._profiles import Profiles


@dataclass
class TotalEffects:
    """Total effects ``T[i, j]`` of perturbed gene ``sources[i]`` on gene ``genes[j]``.

    ``T`` is per unit change of the source where the source is measured (instrumental-variable
    estimate), otherwise the effect of the perturbation itself; ``z`` is its evidence.
    """

    T: np.ndarray
    se: np.ndarray
    z: np.ndarray
    sources: pd.Index
    genes: pd.Index
    per_unit: np.ndarray  # per source: True if T is per unit change of the source


def total_effects(profiles: Profiles) -> TotalEffects:
    """Instrumental-variable total effects from condition profiles.

    For a measured source ``i`` with conditions ``c`` (its guides), each condition's own change of
    ``i`` (``delta[c, i]``, the first stage) is an instrument strength, and the total effect is the
    ratio estimator pooled over instruments (two-stage least squares without intercept):
    ``T[i, j] = sum_c delta[c, i] delta[c, j] / sum_c delta[c, i]^2``. A dead guide (no change of
    ``i``) gets no weight. For an unmeasured source the perturbation is assumed to lower it
    (knockout, CRISPRi: loss of function) by one unit, so ``T = -mean delta``: the sign is that of
    the regulation (an activator's knockout lowers its targets: positive ``T``).
    The evidence ``z[i, j]`` combines the conditions' z-scores weighted by instrument strength
    (Stouffer), so it does not depend on the scaling.
    """
    groups = profiles.single_target_conditions()
    sources = pd.Index(sorted(groups))
    col = {g: k for k, g in enumerate(profiles.genes)}
    zc = profiles.z()
    n, p = len(sources), len(profiles.genes)
    T, se, z = np.zeros((n, p)), np.full((n, p), np.nan), np.zeros((n, p))
    per_unit = np.zeros(n, bool)
    for i, src in enumerate(sources):
        rows = groups[src]
        d = profiles.delta[rows]
        s = profiles.se[rows]
        if src in col:
            first = d[:, col[src]]
            denom = np.sum(first**2)
            if denom > 0 and np.any(first != 0):
                per_unit[i] = True
                T[i] = first @ d / denom
                with np.errstate(invalid="ignore"):
                    se[i] = np.sqrt((first**2) @ (s**2)) / denom
                # weights first / ||first||: unit norm (Stouffer) and signed like T
                z[i] = (first / np.sqrt(denom)) @ zc[rows]
                continue
        T[i] = -d.mean(axis=0)
        with np.errstate(invalid="ignore"):
            se[i] = np.sqrt(np.nansum(s**2, axis=0)) / len(rows)
        z[i] = -zc[rows].sum(axis=0) / np.sqrt(len(rows))
    return TotalEffects(T, se, z, sources, profiles.genes, per_unit)
