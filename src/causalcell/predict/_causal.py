"""Causal predictor: propagate a joint intervention through a linear-in-log model with a
saturating per-gene response, so that combinations show genetic interactions.

Each single response ``y_a`` (measured, shrunk by its standard errors; or predicted for a gene
never perturbed by an inductive model) is mapped back to the latent *drive* of the linear model,
``z_a = phi^-1(y_a)``. A combination's drive is the joint intervention propagated through the
total effects: the sum of the singles' drives for shift interventions (CRISPRi/a), or, for hard
interventions (knockout), the solution that holds every target at its own single level,
``d T[S, S] = v_S``, ``z = d T[S, :]`` with ``T`` the singles' drives per unit own change
(a target's effect through another clamped target is cut). The response is ``phi(z)``, per gene

    phi_j(z) = s_j tanh(z / s_j),   s_j = c * (largest change of gene j among the singles),

separately for increases and decreases, and never below ``-control expression`` (a knockdown
cannot take a gene below zero). ``c`` and the intervention type are chosen on the measured
combinations (``c = inf``: additive); without measured combinations the model is additive in
the drive with the floor at zero expression.

A measured perturbation is predicted as the model's estimate of its true response: the
measurement shrunk by its standard errors (``shrink=True``), i.e. the very singles that its
combinations combine. So the model's own genetic-interaction call (its double against its
singles) is exactly additive when ``c = inf`` and shift interventions are chosen, and any
interaction it calls comes from the fitted saturation or clamping, not from shrinkage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from causalcell.predict._data import Responses, targets_of
from causalcell.predict._metrics import _top_de
from causalcell.predict._models import MODELS, _Predictor, shrink_deltas

SATURATION_GRID = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, np.inf)
_CLIP = 0.995


def saturate(z: np.ndarray, s_pos: np.ndarray, s_neg: np.ndarray) -> np.ndarray:
    """``s tanh(z / s)`` per gene, with scale ``s_pos`` for increases and ``s_neg`` for
    decreases (an infinite scale is the identity)."""
    s = np.where(z >= 0, s_pos, s_neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s * np.tanh(z / s)
    return np.where(np.isfinite(s), out, z)


def unsaturate(y: np.ndarray, s_pos: np.ndarray, s_neg: np.ndarray) -> np.ndarray:
    """Inverse of :func:`saturate` (responses beyond ``0.995 s`` are clipped there)."""
    s = np.where(y >= 0, s_pos, s_neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s * np.arctanh(np.clip(y / s, -_CLIP, _CLIP))
    return np.where(np.isfinite(s), out, y)


def joint_drive(drives: np.ndarray, targets: list[int | None], intervention: str) -> np.ndarray:
    """Drive of a joint intervention from the single drives (rows) of its targets.

    ``shift``: the sum. ``clamp``: each target held at its own single drive, the others' effects
    on it cut (``d T[S, S] = v_S``); falls back to the sum when a target is not measured or
    barely moves.
    """
    if intervention == "shift" or any(t is None for t in targets):
        return drives.sum(axis=0)
    idx = np.asarray(targets, int)
    own = drives[np.arange(len(idx)), idx]
    if np.any(np.abs(own) < 1e-3):
        return drives.sum(axis=0)
    unit = drives / own[:, None]
    M = unit[:, idx]
    try:
        d = np.linalg.solve(M.T, own)
    except np.linalg.LinAlgError:
        return drives.sum(axis=0)
    return d @ unit


class CausalPropagation(_Predictor):
    """Causal propagation with saturation (see the module docstring).

    Parameters
    ----------
    inductive
        Predictor of single-gene responses never measured (default
        :class:`~causalcell.predict.ModuleInductive`); cloned and fitted on the same data.
    saturation
        Candidate values of ``c`` (``inf`` = no saturation), chosen on measured combinations.
    intervention
        ``"shift"``, ``"clamp"`` or ``"auto"`` (chosen on measured combinations).
    shrink
        Shrink measured singles by their standard errors before combining them.

    Attributes
    ----------
    c_, intervention_
        Chosen saturation scale and intervention type.
    s_pos_, s_neg_
        Per-gene saturation scales of increases and decreases.
    combo_sd_
        Per-gene sd of the error on the measured combinations (in-sample).
    """

    def __init__(
        self,
        inductive: _Predictor | None = None,
        saturation: tuple[float, ...] = SATURATION_GRID,
        intervention: str = "auto",
        shrink: bool = True,
    ) -> None:
        self.inductive = inductive
        self.saturation = saturation
        self.intervention = intervention
        self.shrink = shrink

    def fit(self, responses: Responses) -> CausalPropagation:
        from causalcell.predict._modules import ModuleInductive

        self._setup(responses)
        base = self.inductive if self.inductive is not None else ModuleInductive()
        self.inductive_ = clone(base).fit(responses)
        self._row = {g: i for i, g in enumerate(self.genes_)}
        se = np.zeros_like(responses.delta) if responses.se is None else responses.se
        self.measured_se_ = dict(zip(responses.perturbations, np.nan_to_num(se), strict=True))
        Y = shrink_deltas(responses.delta, responses.se) if self.shrink else responses.delta
        # a measured perturbation is predicted as the model's estimate of its true response
        # (the shrunk measurement), the same single responses that its combinations combine
        self.measured_ = dict(zip(responses.perturbations, Y, strict=True))
        single = [len(targets_of(p)) == 1 for p in responses.perturbations]
        self.singles_ = {
            p: y for p, y, s in zip(responses.perturbations, Y, single, strict=True) if s
        }
        ref = Y[single] if any(single) else Y
        self.range_pos_ = np.maximum(ref.max(axis=0, initial=0.0), 1e-3)
        self.range_neg_ = np.maximum(-ref.min(axis=0, initial=0.0), 1e-3)
        self.floor_ = (
            np.full(len(self.genes_), np.inf)
            if responses.baseline is None
            else np.maximum(responses.baseline, 1e-6)
        )
        combos = [
            (p, y)
            for p, y, s in zip(responses.perturbations, responses.delta, single, strict=True)
            if not s
        ]
        self._choose(combos)
        return self

    def _choose(self, combos: list[tuple[str, np.ndarray]]) -> None:
        """Pick ``c`` and the intervention type by the error on the measured combinations."""
        kinds = ("shift", "clamp") if self.intervention == "auto" else (self.intervention,)
        self.c_, self.intervention_ = np.inf, kinds[0]
        self.combo_sd_ = np.zeros(len(self.genes_))
        if not combos:
            return
        unseen = self._unseen([p for p, _ in combos])
        parts = [self._parts(p, unseen) for p, _ in combos]
        best = np.inf
        for kind in kinds:
            for c in self.saturation:
                err = 0.0
                for (_, true), part in zip(combos, parts, strict=True):
                    top = _top_de(true, 20)
                    err += float(np.sum((self._combine(*part, c, kind)[0][top] - true[top]) ** 2))
                if err < best - 1e-12:
                    best, self.c_, self.intervention_ = err, c, kind
        resid = [
            self._combine(*part, self.c_, self.intervention_)[0] - true
            for (_, true), part in zip(combos, parts, strict=True)
        ]
        self.combo_sd_ = np.sqrt(np.mean(np.square(resid), axis=0))

    def _unseen(self, labels: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Inductive prediction and sd of every never-perturbed gene in ``labels``, in one
        call (a call per gene dominated the time of large designs)."""
        genes = sorted({g for label in labels for g in targets_of(label)} - set(self.singles_))
        if not genes:
            return {}
        pred = self.inductive_.predict(genes).to_numpy()
        sd = self.inductive_.uncertainty_.to_numpy()
        return {g: (pred[i], sd[i]) for i, g in enumerate(genes)}

    def _parts(
        self, label: str, unseen: dict[str, tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray, list[int | None]]:
        values, sds, targets = [], [], []
        for gene in targets_of(label):
            value, sd = (
                (self.singles_[gene], self.measured_se_[gene])
                if gene in self.singles_
                else unseen[gene]
            )
            values.append(value)
            sds.append(sd)
            targets.append(self._row.get(gene))
        return np.array(values), np.array(sds), targets

    def _scales(self, c: float, values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Saturation scales; the observed range of a gene includes the singles combined."""
        pos, neg = self.range_pos_, self.range_neg_
        if values is not None:
            pos = np.maximum(pos, values.max(axis=0))
            neg = np.maximum(neg, -values.min(axis=0))
        return c * pos, np.minimum(c * neg, self.floor_)

    def _combine(
        self, values: np.ndarray, sds: np.ndarray, targets: list[int | None], c: float, kind: str
    ) -> tuple[np.ndarray, np.ndarray]:
        s_pos, s_neg = self._scales(c, values)
        drives = unsaturate(values, s_pos, s_neg)
        z = joint_drive(drives, targets, kind)
        y = np.maximum(saturate(z, s_pos, s_neg), -self.floor_)
        s = np.where(z >= 0, s_pos, s_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(np.isfinite(s), 1.0 - np.tanh(z / s) ** 2, 1.0)
        sd = np.sqrt(np.sum(sds**2, axis=0)) * slope
        return y, sd

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "c_")
        values, sds = [], []
        unseen = self._unseen([label for label in labels if label not in self.measured_])
        for label in labels:
            if label in self.measured_:
                values.append(self.measured_[label])
                sds.append(self.measured_se_[label])
                continue
            parts = self._parts(label, unseen)
            if len(parts[2]) == 1:
                values.append(np.maximum(parts[0][0], -self.floor_))
                sds.append(parts[1][0])
                continue
            y, sd = self._combine(*parts, self.c_, self.intervention_)
            values.append(y)
            sds.append(np.sqrt(sd**2 + self.combo_sd_**2))
        self.s_pos_, self.s_neg_ = self._scales(self.c_)
        return self._frame(labels, np.array(values), np.array(sds))


MODELS["causal"] = CausalPropagation
