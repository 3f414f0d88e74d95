"""Gene-set neighbours: a never-perturbed gene borrows the responses of the perturbed genes that
share its annotations (GO biological processes, say; the prior knowledge GEARS encodes as its
GO graph), so that a target need not be a measured gene to be predicted.

Model for a single-gene perturbation of ``g``::

    y_g = m + sum_t s(g, t)^q (y_t - m) / (lam + sum_t s(g, t)^q)

over the perturbed training genes ``t``, with ``m`` their mean response and ``s`` the cosine
similarity of the genes' annotation vectors (each set weighted by its inverse frequency, so a
shared specific process counts more than a shared broad one). ``lam`` shrinks a gene with few
or weak neighbours toward ``m``; the exponent ``q`` sets how much the closest neighbours count
over the many weakly similar ones (GO similarities are low and dense: with ``q = 1`` a gene's
one close neighbour is outweighed by the sum of dozens of remote ones). Both are chosen by the
exact leave-one-out error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from causalcell._errors import InputError
from causalcell.predict._data import Responses, targets_of
from causalcell.predict._models import _Predictor

STRENGTHS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SHARPNESS = (1.0, 2.0, 3.0)


class GeneSets(Mapping):
    """Read-only ``{set id: genes}``; copies share it (estimators holding it are cloned by
    every cross-validation fold, and GO has thousands of sets)."""

    def __init__(self, sets: Mapping[str, frozenset[str]]) -> None:
        self._sets = dict(sets)
        self.genes = frozenset().union(*self._sets.values())
        # gene -> (set columns, inverse-frequency weights), built once: annotation vectors of a
        # few targets then cost their own memberships, not a pass over every set
        n = len(self._sets)
        columns: dict[str, list[int]] = {}
        self.weights = np.array([np.log1p(n / max(len(v), 1)) for v in self._sets.values()])
        for j, members in enumerate(self._sets.values()):
            for g in members:
                columns.setdefault(g, []).append(j)
        self.columns = {g: np.array(c) for g, c in columns.items()}

    def __getitem__(self, key: str) -> frozenset[str]:
        return self._sets[key]

    def __iter__(self):
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __deepcopy__(self, memo) -> GeneSets:
        return self

    def __repr__(self) -> str:
        return f"GeneSets({len(self)} sets, {len(self.genes)} genes)"


def as_gene_sets(gene_sets) -> GeneSets:
    """:class:`GeneSets` from a GMT path or a mapping (values: genes, or ``(name, genes)``)."""
    from causalcell.concordance._api import _as_sets

    if isinstance(gene_sets, GeneSets):
        return gene_sets
    return GeneSets({key: genes for key, (_, genes) in _as_sets(gene_sets).items()})


def annotation_vectors(genes: list[str], gene_sets: GeneSets) -> sp.csr_matrix:
    """Unit-norm rows (genes x sets) of inverse-frequency weights; a gene without annotations
    is a zero row."""
    empty = np.zeros(0, int)
    cols = [gene_sets.columns.get(g, empty) for g in genes]
    rows = np.repeat(np.arange(len(genes)), [len(c) for c in cols])
    cols = np.concatenate(cols) if cols else empty
    X = sp.csr_matrix((gene_sets.weights[cols], (rows, cols)), shape=(len(genes), len(gene_sets)))
    return normalize(X, norm="l2", axis=1)


class GeneSetNeighbours(_Predictor):
    """Single-gene responses as a shrunk, similarity-weighted average of the perturbed genes
    that share annotations with the target (see the module docstring); combinations are the
    sum of their singles, measured perturbations their (shrunk) measurement.

    Parameters
    ----------
    gene_sets
        GMT path or mapping of set id -> genes (for example GO biological processes).
    strengths
        Values of ``lam`` tried (leave-one-out choice).
    sharpness
        Exponents ``q`` of the similarity tried (leave-one-out choice, jointly with ``lam``).
    shrink
        Empirical-Bayes shrinkage of measured deltas before averaging.

    Attributes
    ----------
    strength_, sharpness_
        Chosen ``lam`` and ``q``.
    loo_mse_
        Leave-one-out mean squared error of each ``(q, lam)`` tried.
    """

    def __init__(
        self,
        gene_sets=None,
        strengths: tuple[float, ...] = STRENGTHS,
        sharpness: tuple[float, ...] = SHARPNESS,
        shrink: bool = True,
    ) -> None:
        self.gene_sets = gene_sets
        self.strengths = strengths
        self.sharpness = sharpness
        self.shrink = shrink

    def fit(self, responses: Responses) -> GeneSetNeighbours:
        if self.gene_sets is None:
            raise InputError("GeneSetNeighbours needs gene_sets (a GMT path or a mapping)")
        self._setup(responses)
        self.sets_ = as_gene_sets(self.gene_sets)
        Y = responses.shrunk if self.shrink else responses.delta
        self.measured_ = dict(zip(responses.perturbations, Y, strict=True))
        single = [i for i, p in enumerate(responses.perturbations) if len(targets_of(p)) == 1]
        self.train_genes_ = [targets_of(responses.perturbations[i])[0] for i in single]
        self.Y_ = Y[single]
        self.mean_ = self.Y_.mean(axis=0) if len(single) else np.zeros(len(self.genes_))
        self.vectors_ = annotation_vectors(self.train_genes_, self.sets_)
        self.loo_mse_ = {}
        self.strength_ = self.strengths[-1] if self.strengths else 1.0
        self.sharpness_ = self.sharpness[0] if self.sharpness else 1.0
        if len(single) >= 3:
            S = (self.vectors_ @ self.vectors_.T).toarray()
            np.fill_diagonal(S, 0.0)  # leave each training gene out of its own average
            n = len(single)
            mean_loo = (n * self.mean_ - self.Y_) / (n - 1)
            for q in self.sharpness:
                for lam in self.strengths:
                    pred = self._average(S**q, mean_loo, lam)
                    self.loo_mse_[q, lam] = float(np.mean((pred - self.Y_) ** 2))
            self.sharpness_, self.strength_ = min(self.loo_mse_, key=self.loo_mse_.get)
        return self

    def _average(self, S: np.ndarray, mean: np.ndarray, lam: float) -> np.ndarray:
        """``mean + S (Y - mean) / (lam + row sums of S)``; ``mean`` a vector or one per row."""
        mean = np.broadcast_to(mean, (len(S), self.Y_.shape[1]))
        weights = S / (lam + S.sum(axis=1, keepdims=True))
        # sum_t w_t (y_t - m) with m the row's own mean
        return mean + weights @ self.Y_ - weights.sum(axis=1, keepdims=True) * mean

    def similarity(self, genes: list[str]) -> np.ndarray:
        """Annotation similarity of ``genes`` (rows) to the perturbed training genes."""
        check_is_fitted(self, "vectors_")
        return (annotation_vectors(genes, self.sets_) @ self.vectors_.T).toarray()

    def kernel(self, genes: list[str]) -> np.ndarray:
        """Similarities raised to the chosen sharpness ``q`` (the kernel of the average)."""
        return self.similarity(genes) ** self.sharpness_

    def annotated(self, gene: str) -> bool:
        """Whether ``gene`` belongs to any gene set (else it is predicted as the mean)."""
        check_is_fitted(self, "sets_")
        return gene in self.sets_.genes

    def unseen(self, genes: list[str]) -> np.ndarray:
        """Predicted responses to perturbing each of ``genes`` alone from the *other* perturbed
        genes (a training gene is left out of its own average)."""
        S = self.kernel(genes)
        position = {g: j for j, g in enumerate(self.train_genes_)}
        for i, g in enumerate(genes):
            if g in position:
                S[i, position[g]] = 0.0
        return self._average(S, self.mean_, self.strength_)

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "Y_")
        values, sds = [], []
        for label in labels:
            if label in self.measured_:
                values.append(self.measured_[label])
            else:
                values.append(self.unseen(targets_of(label)).sum(axis=0))
            sds.append(self.scale_)
        return self._frame(labels, np.array(values), np.array(sds))
