"""Causal predictor: propagate a joint intervention through a linear-in-log model with a
saturating per-gene response, so that combinations show genetic interactions.

Each single response ``y_a`` (measured, shrunk by its standard errors toward the programs that
the measured perturbations share, :mod:`causalcell.predict._shrinkage`; or predicted for a gene
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

With shift interventions each gene's drive can also carry a coefficient of its own,
``z = sum_g k_g z_g`` (Norman et al.'s double ~ ``c_a y_a + c_b y_b``, with a gene's coefficient
shared by all its combinations and shrunk to a common one, see
:mod:`causalcell.predict._coefficients`); the shrinkage, or ``k = 1``, is chosen by the error on
each measured combination when it is left out of the fit.

Both choices are made against the simplest model (additive shifts, ``k = 1``) by the paired
per-combination errors on the top-20 changed genes, and a candidate replaces it only when it
is better by more than one standard error of those differences: with a few dozen measured
combinations the best of a grid is often better by chance, and a spurious saturation or
coefficient turns additive pairs into interaction calls.

A measured perturbation is predicted as the model's estimate of its true response: the
measurement shrunk by its standard errors (``shrink=True``), i.e. the very singles that its
combinations combine. So the model's own genetic-interaction call (its double against its
singles) is exactly additive when ``c = inf`` and shift interventions are chosen, and any
interaction it calls comes from the fitted saturation, clamping or coefficients, not from
shrinkage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from causalcell.predict._coefficients import CoefficientProblem, fit_coefficients, leave_one_out
from causalcell.predict._data import Responses, targets_of
from causalcell.predict._metrics import mse
from causalcell.predict._models import MODELS, _Predictor, measured_se

SATURATION_GRID = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, np.inf)
# penalties of the gene coefficients, in combinations' worth (inf: one shared coefficient)
COEFFICIENT_GRID = (1.0, 2.0, 4.0, 8.0, 16.0, np.inf)
_CLIP = 0.995
_FIT_ROWS = 50  # genes per combination used to fit the coefficients (moved most by its singles)


def _one_se_choice(simplest: np.ndarray, candidates: dict, default):
    """The candidate with the lowest mean error if it beats ``simplest`` (per-combination
    errors, paired) by more than one standard error of the differences, else ``default``:
    a few measured combinations cannot tell nearly equal choices apart, and a spurious
    interaction model miscalls additive pairs."""
    best, margin = default, 0.0
    for key, err in candidates.items():
        diff = simplest - err
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
        if diff.mean() > se and diff.mean() > margin:
            best, margin = key, diff.mean()
    return best


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


def joint_drive(
    drives: np.ndarray,
    targets: list[int | None],
    intervention: str,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Drive of a joint intervention from the single drives (rows) of its targets.

    ``shift``: the sum, each drive times its gene's coefficient in ``weights`` (default 1)
    except on the targets themselves (their own change is the intervention, not a response).
    ``clamp``: each target held at its own single drive, the others' effects on it cut
    (``d T[S, S] = v_S``); falls back to the sum when a target is not measured or barely moves.
    """
    if intervention == "shift":
        if weights is None:
            return drives.sum(axis=0)
        z = weights @ drives
        own = [t for t in targets if t is not None]
        z[own] = drives[:, own].sum(axis=0)
        return z
    if any(t is None for t in targets):
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
    coefficients
        Candidate penalties of per-gene coefficients (``inf``: one shared coefficient; empty:
        none), chosen against ``k = 1`` by leave-one-combination-out error.
    shrink
        Shrink measured singles by their standard errors (toward the programs shared across
        perturbations, :func:`~causalcell.predict.shrink_deltas`) before combining them.

    Attributes
    ----------
    c_, intervention_
        Chosen saturation scale and intervention type.
    coefficient_penalty_
        Chosen penalty of the gene coefficients (None: additive drives, ``k = 1``).
    coefficients_, coefficient_default_
        Fitted coefficient per gene of the measured combinations, and the shared one that
        every other gene gets.
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
        coefficients: tuple[float, ...] = COEFFICIENT_GRID,
        shrink: bool = True,
    ) -> None:
        self.inductive = inductive
        self.saturation = saturation
        self.intervention = intervention
        self.coefficients = coefficients
        self.shrink = shrink

    def fit(self, responses: Responses) -> CausalPropagation:
        from causalcell.predict._modules import ModuleInductive

        self._setup(responses)
        base = self.inductive if self.inductive is not None else ModuleInductive()
        self.inductive_ = clone(base).fit(responses)
        self._row = {g: i for i, g in enumerate(self.genes_)}
        self.measured_se_ = measured_se(responses)
        Y = responses.shrunk if self.shrink else responses.delta
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
        """Pick ``c`` and the intervention type by the error on the measured combinations:
        additive shifts unless another choice is better by more than one standard error."""
        kinds = ("shift", "clamp") if self.intervention == "auto" else (self.intervention,)
        self.c_, self.intervention_ = np.inf, kinds[0]
        self.coefficient_penalty_, self.coefficients_, self.coefficient_default_ = None, {}, 1.0
        self.combo_sd_ = np.zeros(len(self.genes_))
        if not combos:
            return
        unseen = self._unseen([p for p, _ in combos])
        parts = [self._parts(p, unseen) for p, _ in combos]

        def errors(c: float, kind: str) -> np.ndarray:
            return np.array(
                [
                    mse(self._combine(*part, c, kind)[0], true)
                    for (_, true), part in zip(combos, parts, strict=True)
                ]
            )

        simplest = errors(np.inf, kinds[0])
        candidates = {(c, kind): errors(c, kind) for kind in kinds for c in self.saturation}
        self.c_, self.intervention_ = _one_se_choice(simplest, candidates, (np.inf, kinds[0]))
        if self.intervention_ == "shift":
            self._choose_coefficients(combos, parts)
        resid = [
            self._combine(*part, self.c_, self.intervention_, self._weights(label))[0] - true
            for (label, true), part in zip(combos, parts, strict=True)
        ]
        self.combo_sd_ = np.sqrt(np.mean(np.square(resid), axis=0))

    def _choose_coefficients(self, combos: list, parts: list) -> None:
        """Per-gene coefficients when they predict left-out measured combinations better
        than ``k = 1`` (combinations of measured singles only; needs three)."""
        usable = [
            i
            for i, (label, _) in enumerate(combos)
            if all(g in self.singles_ for g in targets_of(label))
        ]
        if len(usable) < 3 or not self.coefficients:
            return
        genes = sorted({g for i in usable for g in targets_of(combos[i][0])})
        index = {g: j for j, g in enumerate(genes)}
        members, X, y = [], [], []
        for i in usable:
            (label, true), (values, _, targets) = combos[i], parts[i]
            s_pos, s_neg = self._scales(self.c_, values)
            drives = unsaturate(values, s_pos, s_neg)
            own = [t for t in targets if t is not None]
            size = np.abs(drives.sum(axis=0))
            size[own] = -np.inf  # a target's own change is the intervention, not how it combines
            rows = np.argsort(-size)[:_FIT_ROWS]
            members.append([index[g] for g in targets_of(label)])
            X.append(drives[:, rows])
            y.append(unsaturate(true, s_pos, s_neg)[rows])
        problem = CoefficientProblem.from_rows(len(genes), members, X, y)

        def errors(weights: list[np.ndarray]) -> np.ndarray:
            return np.array(
                [
                    mse(self._combine(*parts[i], self.c_, "shift", w)[0], combos[i][1])
                    for i, w in zip(usable, weights, strict=True)
                ]
            )

        equal = errors([np.ones(len(m)) for m in problem.members])
        candidates = {}
        for lam in self.coefficients:
            held_out = leave_one_out(problem, lam)
            candidates[lam] = errors(
                [k[m] for (k, _), m in zip(held_out, problem.members, strict=True)]
            )
        self.coefficient_penalty_ = _one_se_choice(equal, candidates, None)
        if self.coefficient_penalty_ is not None:
            k, k0 = fit_coefficients(problem, self.coefficient_penalty_)
            self.coefficients_ = dict(zip(genes, k.tolist(), strict=True))
            self.coefficient_default_ = k0

    def _weights(self, label: str) -> np.ndarray | None:
        """Coefficients of the genes of ``label`` (None: all 1)."""
        if self.coefficient_penalty_ is None:
            return None
        return np.array(
            [self.coefficients_.get(g, self.coefficient_default_) for g in targets_of(label)]
        )

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
        self,
        values: np.ndarray,
        sds: np.ndarray,
        targets: list[int | None],
        c: float,
        kind: str,
        weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        s_pos, s_neg = self._scales(c, values)
        drives = unsaturate(values, s_pos, s_neg)
        z = joint_drive(drives, targets, kind, weights)
        y = np.maximum(saturate(z, s_pos, s_neg), -self.floor_)
        s = np.where(z >= 0, s_pos, s_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(np.isfinite(s), 1.0 - np.tanh(z / s) ** 2, 1.0)
        w = np.ones(len(sds)) if weights is None else np.abs(weights)
        sd = np.sqrt(np.sum((w[:, None] * sds) ** 2, axis=0)) * slope
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
            y, sd = self._combine(*parts, self.c_, self.intervention_, self._weights(label))
            values.append(y)
            sds.append(np.sqrt(sd**2 + self.combo_sd_**2))
        self.s_pos_, self.s_neg_ = self._scales(self.c_)
        return self._frame(labels, np.array(values), np.array(sds))


MODELS["causal"] = CausalPropagation
