"""Predictors of perturbation responses, with one fit/predict API (scikit-learn style).

``fit(responses)`` learns from measured deltas; ``predict(labels)`` returns a DataFrame
(perturbations x genes) of predicted deltas vs control and sets ``uncertainty_`` (same shape,
a per-gene standard deviation of the prediction error estimated on the training data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from causalcell.predict._data import Responses, targets_of


def measured_se(responses: Responses) -> dict[str, np.ndarray]:
    """Per perturbation, the standard errors of its measured deltas (0 where unknown)."""
    if responses.se is None:
        return {p: np.zeros(len(responses.genes)) for p in responses.perturbations}
    se = np.nan_to_num(responses.se, nan=0.0)
    return dict(zip(responses.perturbations, se, strict=True))


class _Predictor(BaseEstimator):
    """Shared plumbing: gene index, per-gene error scale, output frames."""

    def _setup(self, responses: Responses) -> None:
        self.genes_ = responses.genes
        self.train_perturbations_ = responses.perturbations
        # error scale of "predicting the average response": a per-gene prior uncertainty
        self.scale_ = (
            responses.delta.std(axis=0)
            if len(responses.perturbations) > 1
            else np.zeros(len(responses.genes))
        )

    def _frame(self, labels: list[str], values: np.ndarray, sd: np.ndarray) -> pd.DataFrame:
        self.uncertainty_ = pd.DataFrame(
            sd, index=pd.Index(labels, name="perturbation"), columns=self.genes_
        )
        return pd.DataFrame(
            values, index=pd.Index(labels, name="perturbation"), columns=self.genes_
        )


class NoChange(_Predictor):
    """Predict no change: every delta is 0."""

    def fit(self, responses: Responses) -> NoChange:
        self._setup(responses)
        return self

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "genes_")
        n = len(labels)
        return self._frame(labels, np.zeros((n, len(self.genes_))), np.tile(self.scale_, (n, 1)))


class TrainMean(_Predictor):
    """Predict the mean response of the training perturbations (of the same order)."""

    def fit(self, responses: Responses) -> TrainMean:
        self._setup(responses)
        order = np.array([len(targets_of(p)) for p in responses.perturbations])
        self.mean_ = responses.delta.mean(axis=0)
        self.mean_by_order_ = {
            k: responses.delta[order == k].mean(axis=0) for k in np.unique(order)
        }
        return self

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "mean_")
        values = np.array([self.mean_by_order_.get(len(targets_of(p)), self.mean_) for p in labels])
        return self._frame(
            labels, values.reshape(len(labels), -1), np.tile(self.scale_, (len(labels), 1))
        )


class Additive(_Predictor):
    """Combinations as the sum of their single-gene responses (the field's additive baseline).

    Measured perturbations are returned as measured; a gene without a measured single response
    contributes the ``fallback`` model's prediction for that single. The uncertainty is that of
    the sum: the singles' standard errors (zero where the data carry none), nothing for the
    interaction, which the baseline assumes away.
    """

    def __init__(self, fallback: _Predictor | None = None) -> None:
        self.fallback = fallback

    def fit(self, responses: Responses) -> Additive:
        self._setup(responses)
        self.measured_ = dict(zip(responses.perturbations, responses.delta, strict=True))
        self.measured_se_ = measured_se(responses)
        self.fallback_ = (self.fallback if self.fallback is not None else TrainMean()).fit(
            responses
        )
        return self

    def _single(self, gene: str) -> tuple[np.ndarray, np.ndarray]:
        if gene in self.measured_:
            return self.measured_[gene], self.measured_se_[gene]
        pred = self.fallback_.predict([gene])
        return pred.to_numpy()[0], self.fallback_.uncertainty_.to_numpy()[0]

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "measured_")
        values, sds = [], []
        for label in labels:
            if label in self.measured_:  # measured already: the measurement is the prediction
                values.append(self.measured_[label])
                sds.append(self.measured_se_[label])
                continue
            parts = [self._single(g) for g in targets_of(label)]
            values.append(np.sum([v for v, _ in parts], axis=0))
            sds.append(np.sqrt(np.sum([s**2 for _, s in parts], axis=0)))
        return self._frame(labels, np.array(values), np.array(sds))


class LinearEmbedding(_Predictor):
    """The linear baseline of Ahlmann-Eltze, Huber & Anders (Nat Methods 2025).

    ``Y ~ G W P' + b`` with ``G`` the top-``n_components`` principal components of the training
    responses (genes x K), ``P`` the rows of ``G`` of the perturbed genes and ridge closed form
    ``W = (G'G + l I)^-1 G' (Y - b) P (P'P + l I)^-1``. A combination's embedding is the sum of
    its genes' rows. Perturbations of genes that are not measured cannot be embedded and get
    the training mean.
    """

    def __init__(self, n_components: int = 10, ridge: float = 0.1) -> None:
        self.n_components = n_components
        self.ridge = ridge

    def fit(self, responses: Responses) -> LinearEmbedding:
        self._setup(responses)
        Y = responses.delta.T  # genes x perturbations
        self.b_ = Y.mean(axis=1)
        Yc = Y - self.b_[:, None]
        k = int(min(self.n_components, *Yc.shape))
        U, _, _ = np.linalg.svd(Yc, full_matrices=False)
        self.G_ = U[:, :k]  # gene embedding
        self._row = {g: i for i, g in enumerate(self.genes_)}
        usable = [i for i, p in enumerate(responses.perturbations) if self._embeddable(p)]
        P = np.array([self._embed(responses.perturbations[i]) for i in usable]).reshape(
            len(usable), k
        )
        lam = self.ridge
        left = np.linalg.solve(self.G_.T @ self.G_ + lam * np.eye(k), self.G_.T @ Yc[:, usable])
        self.W_ = np.linalg.solve(P.T @ P + lam * np.eye(k), (left @ P).T).T
        self.mean_ = TrainMean().fit(responses)
        resid = Yc[:, usable] - self.G_ @ self.W_ @ P.T
        self.resid_sd_ = resid.std(axis=1) if len(usable) > 1 else self.scale_
        return self

    def _embeddable(self, label: str) -> bool:
        return all(g in self._row for g in targets_of(label))

    def _embed(self, label: str) -> np.ndarray:
        return self.G_[[self._row[g] for g in targets_of(label)]].sum(axis=0)

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "W_")
        fallback = self.mean_.predict(labels).to_numpy()
        values, sds = fallback.copy(), np.tile(self.scale_, (len(labels), 1))
        for i, label in enumerate(labels):
            if self._embeddable(label):
                values[i] = self.G_ @ self.W_ @ self._embed(label) + self.b_
                sds[i] = self.resid_sd_
        return self._frame(labels, values, sds)


MODELS: dict[str, type[_Predictor]] = {
    "no_change": NoChange,
    "train_mean": TrainMean,
    "additive": Additive,
    "linear": LinearEmbedding,
}
