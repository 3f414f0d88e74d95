"""Module-inductive predictor: responses as changes of gene programs, so that a gene never
perturbed borrows from its module (co-expression in control cells) and its network position
(how it responds to the measured perturbations, and what it drives in unperturbed cells).

Model for a single-gene perturbation of ``g`` (log1p CP10k delta, genes)::

    y_g = m + L c_g + gamma * k_g * beta_g,    y_g[g] = k_g

- ``L`` (genes x K): response programs, the top-K principal axes of the measured responses;
- ``c_g = F_g W``: program changes, a ridge regression (penalty chosen by leave-one-out) on
  the target's features ``F_g``: its loadings on the response programs (where it sits as a
  responder: the Ahlmann-Eltze gene embedding), on the control co-expression programs (its
  module), and its observational downstream profile projected on ``L``;
- ``beta_g``: regression of every gene on ``g`` across control cells (what ``g`` drives when
  it fluctuates on its own), scaled by the predicted knockdown ``k_g`` and one fitted ``gamma``;
- ``k_g``: the target's own change from its control expression ``b_g`` (log1p CP10k), by
  whichever of two one-parameter forms fits the measured targets better: a fold change on the
  count scale, ``log1p(F expm1(b_g)) - b_g`` (CRISPRa/i: a fold that saturates the log change
  of highly expressed genes at ``log F``), or a change proportional to ``b_g``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

from causalcell._utils import RngLike, as_rng
from causalcell.predict._data import Responses, targets_of
from causalcell.predict._models import MODELS, _Predictor, measured_se

ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def control_programs(
    cells, *, n_programs: int = 30, max_cells: int = 5000, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Co-expression programs of the control cells.

    Parameters
    ----------
    cells
        :class:`causalcell.io.Cells`.
    n_programs
        Number of programs (principal axes of control-cell log expression).
    max_cells
        Control cells used at most (a random subset beyond).
    rng
        Seed or Generator (subset and randomized SVD).

    Returns
    -------
    loadings, variance
        Genes x K loadings scaled so that ``loadings @ loadings.T`` approximates the control
        covariance of log1p CP10k expression, and each gene's control variance.
    """
    from causalcell.effects._kernels import log_normalize

    rng = as_rng(rng)
    rows = np.flatnonzero(cells.obs["perturbation"].astype(str).to_numpy() == "control")
    if len(rows) > max_cells:
        rows = np.sort(rng.choice(rows, max_cells, replace=False))
    if len(rows) < 3:
        return np.zeros((cells.n_genes, 0)), np.zeros(cells.n_genes)
    block = log_normalize(cells.X[rows], cells.expression)
    X = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
    X -= X.mean(axis=0)
    k = int(min(n_programs, *X.shape) - 1)
    _, s, Vt = randomized_svd(X, k, random_state=int(rng.integers(2**31 - 1)))
    loadings = Vt.T * (s / np.sqrt(len(rows) - 1))
    return loadings, X.var(axis=0, ddof=1)


def _observational_beta(programs: np.ndarray, variance: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Regression slopes of every gene on each gene in ``idx`` across control cells."""
    cov = programs[idx] @ programs.T
    beta = cov / np.maximum(variance[idx], 1e-12)[:, None]
    beta[np.arange(len(idx)), idx] = 0.0  # the target itself is modelled apart
    return beta


class ModuleInductive(_Predictor):
    """Program-level predictor of unseen single-gene perturbations (see the module docstring).

    Combinations are the sum of their singles (the shrunk measurement where measured, which
    is also what a measured perturbation is predicted as); use :class:`CausalPropagation` for
    combinations with saturation.

    Parameters
    ----------
    n_programs
        Response programs ``K``.
    alphas
        Ridge penalties tried (leave-one-out choice).
    observational
        Use the control-cell co-expression programs when the responses carry them.
    shrink
        Empirical-Bayes shrinkage of measured deltas by their standard errors before fitting.
    uncertainty_folds
        Folds of the cross-validation that estimates the per-gene uncertainty of an unseen
        gene (0: the in-sample residual sd, faster, for model selection loops).
    random_state
        Seed of those folds.
    gene_sets
        Optional GMT path or mapping of set id -> genes (for example GO biological processes):
        a target that is not a measured gene (so has no co-expression or response-program
        features) is predicted from the perturbed genes sharing its annotations
        (:class:`~causalcell.predict.GeneSetNeighbours`) instead of the mean response.

    Attributes
    ----------
    programs_
        Response programs ``L`` (genes x K).
    gamma_
        Weight of the observational downstream profile.
    own_change_
        Model of a target's own change from its control expression (:class:`OwnChange`).
    cv_sd_
        Per-gene sd of the error on held-out singles (5-fold), the uncertainty of an unseen gene.
    own_sd_
        Sd of the held-out error of a target's own change, the uncertainty of an unseen
        gene's own column (None with ``uncertainty_folds=0``).
    """

    def __init__(
        self,
        n_programs: int = 20,
        alphas: tuple[float, ...] = ALPHAS,
        observational: bool = True,
        shrink: bool = True,
        uncertainty_folds: int = 5,
        random_state: int | None = 0,
        gene_sets=None,
    ) -> None:
        self.n_programs = n_programs
        self.alphas = alphas
        self.observational = observational
        self.shrink = shrink
        self.uncertainty_folds = uncertainty_folds
        self.random_state = random_state
        self.gene_sets = gene_sets

    # -- fitting -------------------------------------------------------------------------
    def fit(self, responses: Responses) -> ModuleInductive:
        self._setup(responses)
        self.measured_se_ = measured_se(responses)
        Y = responses.shrunk if self.shrink else responses.delta
        self.shrunk_ = dict(zip(responses.perturbations, Y, strict=True))
        # a measured perturbation is predicted as the model's estimate of its true response
        # (the shrunk measurement), the same singles that its combinations add up
        self.measured_ = self.shrunk_
        self._row = {g: i for i, g in enumerate(self.genes_)}
        rows, tgt = self._usable(responses.perturbations)
        self.baseline_ = (
            responses.baseline if responses.baseline is not None else np.ones(len(self.genes_))
        )
        self.own_change_ = OwnChange.fit(Y[rows, tgt], self.baseline_[tgt])
        obs = self.observational and responses.programs is not None
        self.obs_ = (responses.programs, responses.variance) if obs else None
        self._fit_core(Y[rows], tgt)
        self.cv_sd_ = self._cv_sd(Y[rows], tgt)
        # a target the model cannot place (not a measured gene, no annotation) gets the mean
        # response of all single perturbations, not of those on measured genes only (the
        # programs' centre): with few or no measured targets that mean is biased or zero
        single = [len(targets_of(p)) == 1 for p in responses.perturbations]
        self.fallback_ = Y[single].mean(axis=0) if any(single) else self.mean_
        self.neighbours_ = None
        if self.gene_sets is not None:
            from causalcell.predict._gene_sets import GeneSetNeighbours

            self.neighbours_ = GeneSetNeighbours(self.gene_sets, shrink=self.shrink)
            self.neighbours_.fit(responses)
        return self

    def _usable(self, labels) -> tuple[np.ndarray, np.ndarray]:
        rows, tgt = [], []
        for i, p in enumerate(labels):
            parts = targets_of(p)
            if len(parts) == 1 and parts[0] in self._row:
                rows.append(i)
                tgt.append(self._row[parts[0]])
        return np.asarray(rows, int), np.asarray(tgt, int)

    def _fit_core(self, Y: np.ndarray, tgt: np.ndarray) -> None:
        """Programs, ridge map and observational weight from singles ``Y`` on targets ``tgt``."""
        n_genes = len(self.genes_)
        Y = Y.copy()
        own = Y[np.arange(len(tgt)), tgt].copy()
        Y[np.arange(len(tgt)), tgt] = 0.0  # the own change is modelled apart
        self.mean_ = Y.mean(axis=0) if len(Y) else np.zeros(n_genes)
        Yc = Y - self.mean_
        k = int(max(1, min(self.n_programs, len(Y) - 1, n_genes)))
        if len(Y) >= 2:
            self.programs_ = np.linalg.svd(Yc, full_matrices=False)[2][:k].T
        else:
            self.programs_ = np.zeros((n_genes, 1))
        kd = self.own_change_.predict(self.baseline_[tgt]) if len(tgt) else own
        base = Yc
        self.gamma_ = 0.0
        if self.obs_ is not None and len(tgt) >= 3:
            downstream = kd[:, None] * _observational_beta(*self.obs_, tgt)
            denom = float((downstream**2).sum())
            self.gamma_ = max(0.0, float((downstream * Yc).sum()) / denom) if denom > 0 else 0.0
            base = Yc - self.gamma_ * downstream
        C = base @ self.programs_
        self.ridge_ = None
        if len(Y) >= 3:
            self.ridge_ = RidgeCV(alphas=self.alphas).fit(self._features(tgt), C)

    def _features(self, idx: np.ndarray) -> np.ndarray:
        feats = [self.programs_[idx]]
        if self.obs_ is not None:
            programs, variance = self.obs_
            feats.append(programs[idx] / np.sqrt(np.maximum(variance[idx], 1e-12))[:, None])
            kd = self.own_change_.predict(self.baseline_[idx])
            feats.append(
                kd[:, None] * _observational_beta(programs, variance, idx) @ self.programs_
            )
        return np.hstack(feats)

    def _cv_sd(self, Y: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        """Per-gene sd of held-out errors over folds of the usable singles; also sets
        ``own_sd_`` from the same errors."""
        self.own_sd_ = None
        if len(Y) < 2:
            return self.scale_
        # few singles: leave one out rather than the in-sample residuals, which understate
        # the error of a gene never perturbed (Papalexi, 8 measured targets: 95% intervals
        # held 0.69 of held-out changes in sample)
        n_folds = min(self.uncertainty_folds, len(Y))
        if self.uncertainty_folds < 2 or n_folds < 3:
            return np.sqrt(np.mean((self._unseen(tgt) - Y) ** 2, axis=0))
        state = (self.programs_, self.mean_, self.gamma_, self.ridge_)
        preds, truths, targets = [], [], []
        folds = KFold(n_folds, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(Y):
            self._fit_core(Y[train], tgt[train])
            preds.append(self._unseen(tgt[test]))
            truths.append(Y[test])
            targets.append(tgt[test])
        self.programs_, self.mean_, self.gamma_, self.ridge_ = state
        pred, true, own = np.vstack(preds), np.vstack(truths), np.concatenate(targets)
        rows = np.arange(len(own))
        # a gene is a target in one held-out row only, so its column's sd barely sees the
        # own-change error: that gets one sd of its own, over all targets
        self.own_sd_ = float(np.sqrt(np.mean((pred[rows, own] - true[rows, own]) ** 2)))
        return np.sqrt(np.mean((pred - true) ** 2, axis=0))

    # -- prediction ------------------------------------------------------------------------
    def _unseen(self, idx: np.ndarray) -> np.ndarray:
        """Predicted responses to perturbing genes ``idx`` (never perturbed)."""
        out = np.tile(self.mean_, (len(idx), 1))
        if self.ridge_ is not None:
            out += self.ridge_.predict(self._features(idx)) @ self.programs_.T
        kd = self.own_change_.predict(self.baseline_[idx])
        if self.obs_ is not None and self.gamma_ > 0:
            out += self.gamma_ * kd[:, None] * _observational_beta(*self.obs_, idx)
        out[np.arange(len(idx)), idx] = kd
        return out

    def single(self, gene: str, *, measured: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Response to perturbing ``gene`` alone and its per-gene sd: the (shrunk) measurement
        when ``measured`` and available, else the program-level prediction."""
        if measured and gene in self.shrunk_:
            return self.shrunk_[gene], self.measured_se_[gene]
        if gene in self._row:
            j = self._row[gene]
            pred = self._unseen(np.array([j]))[0]
            sd = self.cv_sd_.copy()
            if self.own_sd_ is not None:
                sd[j] = self.own_sd_
            return pred, sd
        if self.neighbours_ is not None and self.neighbours_.annotated(gene):
            return self.neighbours_.unseen([gene])[0], self.scale_
        return self.fallback_, self.scale_

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "programs_")
        values, sds = [], []
        for label in labels:
            if label in self.measured_:
                values.append(self.measured_[label])
                sds.append(self.measured_se_[label])
                continue
            parts = [self.single(g) for g in targets_of(label)]
            values.append(np.sum([v for v, _ in parts], axis=0))
            sds.append(np.sqrt(np.sum([s**2 for _, s in parts], axis=0)))
        return self._frame(labels, np.array(values), np.array(sds))


@dataclass(frozen=True)
class OwnChange:
    """A perturbed gene's own change (log1p CP10k) from its control expression ``b``.

    ``form="fold"``: ``log1p(value * expm1(b)) - b``, a fold change on the count scale;
    ``form="ratio"``: ``value * b``. :meth:`fit` takes the median fold or ratio of the measured
    targets and keeps the form with the smaller squared error on them.
    """

    form: str = "ratio"
    value: float = 0.0

    @classmethod
    def fit(cls, own: np.ndarray, baseline: np.ndarray) -> OwnChange:
        ok = baseline > 1e-6
        if not ok.any():
            return cls()
        own, base = own[ok], baseline[ok]
        candidates = [cls("ratio", float(np.median(own / base)))]
        fold = np.expm1(np.maximum(base + own, 0.0)) / np.expm1(base)
        candidates.append(cls("fold", float(np.median(fold))))
        errors = [np.mean((c.predict(base) - own) ** 2) for c in candidates]
        return candidates[int(np.argmin(errors))]

    def predict(self, baseline: np.ndarray) -> np.ndarray:
        baseline = np.asarray(baseline, float)
        if self.form == "fold":
            return np.log1p(self.value * np.expm1(baseline)) - baseline
        return self.value * baseline


MODELS["module"] = ModuleInductive
