"""Predict responses to perturbations never done: unseen genes and combinations."""

from causalcell.predict._api import make_model, predict
from causalcell.predict._auto import AutoPredictor, cross_validate
from causalcell.predict._data import Responses, parse_perturbations
from causalcell.predict._evaluate import (
    Split,
    evaluate_model,
    evaluate_splits,
    leave_one_target_out,
    noise_ceiling,
    simulation_split,
)
from causalcell.predict._metrics import (
    bootstrap_ci,
    centroid_accuracy,
    direction_accuracy,
    discrimination_score,
    mse,
    pearson_delta,
    score_predictions,
)
from causalcell.predict._models import MODELS, Additive, LinearEmbedding, NoChange, TrainMean

__all__ = [
    "MODELS",
    "Additive",
    "AutoPredictor",
    "LinearEmbedding",
    "NoChange",
    "Responses",
    "Split",
    "TrainMean",
    "bootstrap_ci",
    "centroid_accuracy",
    "cross_validate",
    "direction_accuracy",
    "discrimination_score",
    "evaluate_model",
    "evaluate_splits",
    "leave_one_target_out",
    "make_model",
    "mse",
    "noise_ceiling",
    "parse_perturbations",
    "pearson_delta",
    "predict",
    "score_predictions",
    "simulation_split",
]
