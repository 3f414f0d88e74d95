"""Model choice by cross-validation over held-out perturbations (``--model auto``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from causalcell.predict._data import Responses, targets_of
from causalcell.predict._metrics import pearson_delta
from causalcell.predict._models import Additive, LinearEmbedding, TrainMean, _Predictor

SINGLE_CANDIDATES: dict[str, type[_Predictor]] = {
    "train_mean": TrainMean,
    "linear": LinearEmbedding,
}


def cross_validate(
    model: _Predictor, responses: Responses, *, n_folds: int = 5, random_state: int | None = 0
) -> float:
    """Mean Pearson delta (top-20 DE) of ``model`` on perturbations held out in K folds."""
    n = len(responses.perturbations)
    folds = KFold(n_splits=min(n_folds, n), shuffle=True, random_state=random_state)
    scores = []
    for train, test in folds.split(np.arange(n)):
        fitted = model.fit(responses.subset(responses.perturbations[train]))
        pred = fitted.predict(list(responses.perturbations[test])).to_numpy()
        scores += [pearson_delta(p, t) for p, t in zip(pred, responses.delta[test], strict=True)]
    return float(np.mean(scores))


class AutoPredictor(_Predictor):
    """Choose the single-perturbation model by cross-validation; combinations are additive over
    measured singles and the chosen model for unmeasured ones.

    Attributes
    ----------
    cv_scores_
        Cross-validated Pearson delta (top-20 DE) of each candidate on single perturbations.
    chosen_
        Name of the chosen single-perturbation model.
    """

    def __init__(self, n_folds: int = 5, random_state: int | None = 0) -> None:
        self.n_folds = n_folds
        self.random_state = random_state

    def fit(self, responses: Responses) -> AutoPredictor:
        self._setup(responses)
        singles = [p for p in responses.perturbations if len(targets_of(p)) == 1]
        self.cv_scores_: dict[str, float] = {}
        if len(singles) >= 4:
            train = responses.subset(singles)
            for name, cls in SINGLE_CANDIDATES.items():
                self.cv_scores_[name] = cross_validate(
                    cls(), train, n_folds=self.n_folds, random_state=self.random_state
                )
            self.chosen_ = max(self.cv_scores_, key=self.cv_scores_.get)
        else:
            self.chosen_ = "train_mean"
        self.model_ = Additive(fallback=SINGLE_CANDIDATES[self.chosen_]()).fit(responses)
        return self

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "model_")
        out = self.model_.predict(labels)
        self.uncertainty_ = self.model_.uncertainty_
        return out
