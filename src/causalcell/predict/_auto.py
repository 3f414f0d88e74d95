"""Model choice by cross-validation over held-out perturbations (``--model auto``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from causalcell.predict._causal import CausalPropagation, _one_se_choice
from causalcell.predict._data import Responses, targets_of
from causalcell.predict._gene_sets import as_gene_sets
from causalcell.predict._metrics import pearson_delta
from causalcell.predict._models import MODELS, LinearEmbedding, TrainMean, _Predictor
from causalcell.predict._modules import ModuleInductive


class MeanEnsemble(_Predictor):
    """Average of the predictions of ``members`` (default: module and linear models).

    The uncertainty is the root mean of the members' variances (they are not independent, so
    it is not divided by their number).

    Parameters
    ----------
    members
        Predictors to average; default module-inductive and linear.
    own_from
        Index of the member whose prediction (and uncertainty) is kept on the perturbed genes'
        own columns: the intervention itself, which the linear baseline does not model (it
        predicts about no own change for an unseen gene, so averaging would halve the
        knockdown). ``None`` averages those columns too.
    """

    def __init__(
        self, members: tuple[_Predictor, ...] | None = None, own_from: int | None = 0
    ) -> None:
        self.members = members
        self.own_from = own_from

    def fit(self, responses: Responses) -> MeanEnsemble:
        self._setup(responses)
        members = self.members if self.members is not None else _default_members()
        self.members_ = [clone(m).fit(responses) for m in members]
        return self

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "members_")
        preds = [m.predict(labels).to_numpy() for m in self.members_]
        sds = [m.uncertainty_.to_numpy() for m in self.members_]
        values, sd = np.mean(preds, axis=0), np.sqrt(np.mean(np.square(sds), axis=0))
        if self.own_from is not None:
            column = {g: j for j, g in enumerate(self.genes_)}
            for i, label in enumerate(labels):
                own = [column[g] for g in targets_of(label) if g in column]
                values[i, own] = preds[self.own_from][i, own]
                sd[i, own] = sds[self.own_from][i, own]
        return self._frame(labels, values, sd)


def _default_members() -> tuple[_Predictor, ...]:
    return (ModuleInductive(), LinearEmbedding())


SINGLE_CANDIDATES: dict[str, type[_Predictor]] = {
    "train_mean": TrainMean,
    "linear": LinearEmbedding,
    "module": ModuleInductive,
    "ensemble": MeanEnsemble,
}
MODELS["ensemble"] = MeanEnsemble


def cross_validate(
    model: _Predictor, responses: Responses, *, n_folds: int = 5, random_state: int | None = 0
) -> float:
    """Mean Pearson delta (top-20 DE) of ``model`` on perturbations held out in K folds."""
    return float(np.mean(_cv_scores(model, responses, n_folds, random_state)))


def _cv_scores(
    model: _Predictor, responses: Responses, n_folds: int, random_state: int | None
) -> np.ndarray:
    """Pearson delta (top-20 DE) of each perturbation when held out (K folds, in order)."""
    n = len(responses.perturbations)
    folds = KFold(n_splits=min(n_folds, n), shuffle=True, random_state=random_state)
    scores = np.zeros(n)
    for train, test in folds.split(np.arange(n)):
        fitted = model.fit(responses.subset(responses.perturbations[train]))
        pred = fitted.predict(list(responses.perturbations[test])).to_numpy()
        scores[test] = [
            pearson_delta(p, t) for p, t in zip(pred, responses.delta[test], strict=True)
        ]
    return scores


def _choose(scores: dict[str, np.ndarray], default: str = "ensemble") -> str:
    """The ``default`` (averaged) model unless another beats it by more than one standard error
    of the paired per-perturbation differences; then the one that beats it most."""
    # scores are higher-is-better: as errors, their negatives
    errors = {name: -values for name, values in scores.items()}
    return _one_se_choice(errors[default], errors, default)


def _candidate(name: str, gene_sets, **module_params) -> _Predictor:
    """A fresh single-perturbation candidate; the module model (alone or in the ensemble)
    gets the gene sets."""
    if name == "module":
        return ModuleInductive(gene_sets=gene_sets, **module_params)
    if name == "ensemble":
        return MeanEnsemble(
            (ModuleInductive(gene_sets=gene_sets, **module_params), LinearEmbedding())
        )
    return SINGLE_CANDIDATES[name]()


class AutoPredictor(_Predictor):
    """Choose the single-perturbation model by cross-validation; combinations go through
    :class:`CausalPropagation` (measured singles, the chosen model for unmeasured ones, and a
    saturation chosen on the measured combinations, additive when none is better).

    The averaged module + linear model is kept unless another candidate beats it by more
    than one standard error of the paired cross-validated differences (a choice between nearly
    equal models on few perturbations is mostly noise; averaging is the robust default).

    Parameters
    ----------
    n_folds
        Folds of the cross-validation over single perturbations.
    random_state
        Seed of the folds.
    gene_sets
        Optional GMT path or mapping of set id -> genes for the module model (targets that
        are not measured genes borrow from the perturbed genes sharing their annotations).

    Attributes
    ----------
    cv_scores_
        Cross-validated Pearson delta (top-20 DE) of each candidate on single perturbations.
    chosen_
        Name of the chosen single-perturbation model.
    """

    def __init__(self, n_folds: int = 5, random_state: int | None = 0, gene_sets=None) -> None:
        self.n_folds = n_folds
        self.random_state = random_state
        self.gene_sets = gene_sets

    def fit(self, responses: Responses) -> AutoPredictor:
        self._setup(responses)
        sets = None if self.gene_sets is None else as_gene_sets(self.gene_sets)
        singles = [p for p in responses.perturbations if len(targets_of(p)) == 1]
        self.cv_scores_: dict[str, float] = {}
        if len(singles) >= 4:
            train = responses.subset(singles)
            per_perturbation = {}
            for name in SINGLE_CANDIDATES:
                candidate = _candidate(name, sets, uncertainty_folds=0)
                per_perturbation[name] = _cv_scores(
                    candidate, train, self.n_folds, self.random_state
                )
                self.cv_scores_[name] = float(per_perturbation[name].mean())
            self.chosen_ = _choose(per_perturbation)
        else:
            self.chosen_ = "train_mean"
        inductive = _candidate(self.chosen_, sets)
        self.model_ = CausalPropagation(inductive=inductive).fit(responses)
        return self

    def predict(self, labels: list[str]) -> pd.DataFrame:
        check_is_fitted(self, "model_")
        out = self.model_.predict(labels)
        self.uncertainty_ = self.model_.uncertainty_
        return out
