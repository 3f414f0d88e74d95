"""Design: which perturbations reach a target state, and which experiments to run next.

Both are uses of a fitted predictor (:mod:`causalcell.predict`) and its uncertainty:
:func:`reach_target` searches singles and combinations whose predicted response best matches
a desired change; :func:`next_experiments` picks a batch of unseen perturbations that the
model is least sure about and that are not redundant with each other.
"""

from causalcell.design._active import STRATEGIES, coverage_batch, greedy_batch, next_experiments
from causalcell.design._search import all_pairs, reach_target, score_candidates

__all__ = [
    "STRATEGIES",
    "all_pairs",
    "coverage_batch",
    "greedy_batch",
    "next_experiments",
    "reach_target",
    "score_candidates",
]
