"""Calibration check: tests between random groups of control cells must be uniform."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell._utils import RngLike, as_rng
from causalcell.effects._engine import compute_effects
from causalcell.io import CONTROL, Cells


@dataclass
class Calibration:
    """Null p-values from pseudo-perturbations of control cells."""

    pvals: np.ndarray  # pseudo-perturbations x genes
    group_size: int

    @property
    def fraction_below_05(self) -> float:
        """Fraction of null p-values below 0.05 (0.05 when calibrated)."""
        finite = self.pvals[np.isfinite(self.pvals)]
        return float((finite < 0.05).mean()) if finite.size else float("nan")


def null_calibration(
    cells: Cells,
    *,
    group_size: int = 300,
    n_groups: int = 4,
    batch_key: str = "batch",
    chunk_size: int = 20_000,
    rng: RngLike = None,
) -> Calibration | None:
    """Split control cells into random pseudo-perturbations and test them against the rest.

    Half of the controls (at most) form ``n_groups`` pseudo-perturbations of ``group_size``
    cells (smaller when controls are few); the other controls stay controls. Returns None when
    there are fewer than 20 control cells.
    """
    rng = as_rng(rng)
    controls = np.flatnonzero(cells.obs["perturbation"].to_numpy() == CONTROL)
    if len(controls) < 20:
        return None
    size = min(group_size, len(controls) // (2 * n_groups))
    if size < 5:
        n_groups, size = 1, len(controls) // 2
    rows = np.sort(controls)
    obs = cells.obs.iloc[rows][[c for c in (batch_key,) if c in cells.obs.columns]].copy()
    labels = np.full(len(rows), CONTROL, dtype=object)
    order = rng.permutation(len(rows))
    for g in range(n_groups):
        labels[order[g * size : (g + 1) * size]] = f"pseudo{g}"
    obs["perturbation"] = pd.Categorical(labels)
    null_cells = cells.subset(rows, obs)
    result = compute_effects(
        null_cells,
        batch_key=batch_key,
        escape=False,
        min_cells=2,
        chunk_size=chunk_size,
        progress=False,
    )
    return Calibration(result.pval, size)
