"""Training data of the predictors: measured perturbation responses (deltas vs control)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell.io import normalize_label, split_label
from causalcell.predict._shrinkage import shrink_deltas


@dataclass
class Responses:
    """Measured responses: one row per perturbation, one column per gene (log1p CP10k deltas).

    Attributes
    ----------
    delta
        Perturbations x genes.
    perturbations
        Canonical labels (``"A"``, ``"A+B"``).
    genes
        Gene names.
    se
        Standard errors (NaN where unknown).
    baseline
        Mean expression of the control cells per gene (log1p CP10k), or None: a knockdown
        cannot take a gene below zero, so ``-baseline`` bounds its delta from below.
    programs
        Optional gene programs from control-cell co-expression (genes x K loadings, scaled so
        that ``programs @ programs.T`` approximates the control covariance), see
        :func:`causalcell.predict.control_programs`.
    variance
        Control-cell variance of each gene (with ``programs``).
    """

    delta: np.ndarray
    perturbations: pd.Index
    genes: pd.Index
    se: np.ndarray | None = None
    baseline: np.ndarray | None = None
    programs: np.ndarray | None = None
    variance: np.ndarray | None = None

    @classmethod
    def from_effects(cls, effects: ad.AnnData) -> Responses:
        """From :func:`causalcell.effects.effects` output."""
        baseline = None
        if "control_mean" in effects.var:
            baseline = np.nan_to_num(effects.var["control_mean"].to_numpy(float))
        return cls(
            np.nan_to_num(np.asarray(effects.layers["delta"], float)),
            pd.Index(effects.obs_names),
            pd.Index(effects.var_names),
            np.asarray(effects.layers["se"], float),
            baseline,
        )

    @cached_property
    def shrunk(self) -> np.ndarray:
        """The deltas shrunk by their standard errors (:func:`shrink_deltas`), computed once
        per data set: a causal model and the inductive model inside it start from the same
        shrunk deltas, and the shrinkage costs an SVD of the whole matrix. (A subset is a new
        data set with its own shrinkage.)"""
        return shrink_deltas(self.delta, self.se)

    def subset(self, perturbations) -> Responses:
        """Rows for the given perturbations."""
        idx = self.perturbations.get_indexer(perturbations)
        if (idx < 0).any():
            raise InputError(
                f"perturbations not in the data: {list(pd.Index(perturbations)[idx < 0][:5])}"
            )
        se = None if self.se is None else self.se[idx]
        return replace(self, delta=self.delta[idx], perturbations=self.perturbations[idx], se=se)

    @property
    def singles(self) -> dict[str, int]:
        """Row of each single-gene perturbation."""
        return {p: i for i, p in enumerate(self.perturbations) if "+" not in p}


def parse_perturbations(spec: str | list[str]) -> dict[str, str]:
    """Map each requested label (as written) to its canonical form; controls are rejected.

    ``spec`` is a comma-separated string or a list; blanks are skipped, repeats dropped.
    """
    items = [s for s in (spec.split(",") if isinstance(spec, str) else spec)]
    items = [s.strip() for s in items if str(s).strip()]
    if not items:
        raise InputError(
            "no perturbations to predict; give a comma-separated list or a file, one per line"
        )
    out = []
    for item in items:
        label = normalize_label(item)
        if label == "control":
            raise InputError(
                f"{item!r} is the control; predictions are deltas vs control (always 0)"
            )
        out.append((item, label))
    return dict(out)


def targets_of(label: str) -> list[str]:
    """Genes targeted by a canonical label."""
    return split_label(label)
