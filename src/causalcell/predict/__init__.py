"""Predict responses to perturbations never done: unseen genes and combinations."""

from causalcell.predict._api import fit_predictor, make_model, predict, predictions_anndata
from causalcell.predict._auto import AutoPredictor, MeanEnsemble, cross_validate
from causalcell.predict._causal import CausalPropagation, joint_drive, saturate, unsaturate
from causalcell.predict._data import Responses, parse_perturbations
from causalcell.predict._evaluate import (
    Split,
    evaluate_model,
    evaluate_splits,
    leave_one_target_out,
    noise_ceiling,
    simulation_split,
)
from causalcell.predict._gene_sets import GeneSetNeighbours, GeneSets, as_gene_sets
from causalcell.predict._interactions import (
    call_interaction,
    interaction_score,
    interaction_table,
    score_interactions,
)
from causalcell.predict._metrics import (
    bootstrap_ci,
    centroid_accuracy,
    direction_accuracy,
    discrimination_score,
    interval_coverage,
    mse,
    pearson_delta,
    rank_score,
    score_predictions,
)
from causalcell.predict._models import (
    MODELS,
    Additive,
    LinearEmbedding,
    NoChange,
    TrainMean,
)
from causalcell.predict._modules import ModuleInductive, control_programs
from causalcell.predict._shrinkage import shrink_deltas

__all__ = [
    "MODELS",
    "Additive",
    "AutoPredictor",
    "CausalPropagation",
    "GeneSetNeighbours",
    "GeneSets",
    "LinearEmbedding",
    "MeanEnsemble",
    "ModuleInductive",
    "NoChange",
    "Responses",
    "Split",
    "TrainMean",
    "as_gene_sets",
    "bootstrap_ci",
    "call_interaction",
    "centroid_accuracy",
    "control_programs",
    "cross_validate",
    "direction_accuracy",
    "discrimination_score",
    "evaluate_model",
    "evaluate_splits",
    "fit_predictor",
    "interaction_score",
    "interaction_table",
    "interval_coverage",
    "joint_drive",
    "leave_one_target_out",
    "make_model",
    "mse",
    "noise_ceiling",
    "parse_perturbations",
    "pearson_delta",
    "predict",
    "predictions_anndata",
    "rank_score",
    "saturate",
    "score_interactions",
    "score_predictions",
    "shrink_deltas",
    "simulation_split",
    "unsaturate",
]
