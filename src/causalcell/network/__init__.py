"""Direct causal gene networks from perturbation effects."""

from causalcell.network._api import infer_network
from causalcell.network._methods import METHODS, EdgeScores, NetworkMethod, list_methods
from causalcell.network._metrics import (
    candidate_pairs,
    causalbench_statistical,
    evaluate,
    truth_frame,
)
from causalcell.network._prior import apply_prior, read_prior
from causalcell.network._profiles import Profiles
from causalcell.network._time import TimeCourse, kinetic_fit
from causalcell.network._total import TotalEffects, total_effects

__all__ = [
    "METHODS",
    "EdgeScores",
    "NetworkMethod",
    "Profiles",
    "TimeCourse",
    "TotalEffects",
    "apply_prior",
    "candidate_pairs",
    "causalbench_statistical",
    "evaluate",
    "infer_network",
    "kinetic_fit",
    "list_methods",
    "read_prior",
    "total_effects",
    "truth_frame",
]
