"""Condition-level effect profiles: what network inference reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell.io import split_label


@dataclass
class Profiles:
    """Effects of each condition (a guide or a perturbation) on each gene, vs control.

    Attributes
    ----------
    delta
        Conditions x genes effects on the analysis scale.
    se
        Their standard errors (NaN where unknown, e.g. one profile per condition).
    conditions
        Condition names (guides, or perturbations).
    targets
        Targeted genes of each condition.
    genes
        Gene names (columns).
    cells
        The validated cells behind the profiles, when known (single-cell input): methods that
        use the within-condition covariance of cells read it (see :func:`covariance`).
    """

    delta: np.ndarray
    se: np.ndarray
    conditions: pd.Index
    targets: list[tuple[str, ...]]
    genes: pd.Index
    cells: Any = field(default=None, repr=False)
    _covariance: Any = field(default=None, repr=False)

    def covariance(self):
        """Within-condition covariance of the cells (cached), or None without replicate cells."""
        if self._covariance is None and self.cells is not None:
            from causalcell.network._direct import within_covariance

            self._covariance = within_covariance(self.cells) or False
        return self._covariance or None

    def __post_init__(self) -> None:
        if self.delta.shape != (len(self.conditions), len(self.genes)):
            raise ValueError("delta must be conditions x genes")
        if len(self.conditions) == 0:
            raise InputError("no perturbation conditions to infer a network from")

    @classmethod
    def from_effects(cls, effects: ad.AnnData, *, level: str = "guide") -> Profiles:
        """Profiles from :func:`causalcell.effects.effects` output.

        ``level='guide'`` uses each guide as its own condition (guides of one target differ in
        strength, which is what the instrumental-variable estimate of total effects exploits);
        falls back to perturbations when there are no guides.
        """
        guides = effects.uns.get("guides")
        if level == "guide" and guides is not None and len(guides):
            delta = np.asarray(effects.uns["guide_delta"], float)
            se = np.asarray(effects.uns["guide_se"], float)
            targets = [tuple(split_label(p)) for p in guides["perturbation"]]
            return cls(delta, se, pd.Index(guides.index), targets, pd.Index(effects.var_names))
        targets = [tuple(split_label(p)) for p in effects.obs_names]
        return cls(
            np.asarray(effects.layers["delta"], float),
            np.asarray(effects.layers["se"], float),
            pd.Index(effects.obs_names),
            targets,
            pd.Index(effects.var_names),
        )

    def z(self) -> np.ndarray:
        """Standardised effects: ``delta / se``, or ``delta / sd`` of the gene over conditions where
        the standard error is unknown (one profile per condition)."""
        sd = np.nanstd(self.delta, axis=0)
        scale = np.where(np.isfinite(self.se) & (self.se > 0), self.se, sd[None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num(self.delta / scale)

    def single_target_conditions(self) -> dict[str, list[int]]:
        """Conditions of each gene perturbed alone (the instruments of that gene)."""
        out: dict[str, list[int]] = {}
        for c, t in enumerate(self.targets):
            if len(t) == 1:
                out.setdefault(t[0], []).append(c)
        return out

    def perturbs(self, gene: str) -> np.ndarray:
        """Boolean mask of conditions that perturb ``gene`` (alone or in a combination)."""
        return np.array([gene in t for t in self.targets])
