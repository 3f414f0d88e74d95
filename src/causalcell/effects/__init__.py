"""Per-perturbation effects: deltas, calibrated tests, guide efficacy and escaping cells."""

from causalcell.effects._api import effects, to_anndata
from causalcell.effects._calibration import Calibration, null_calibration
from causalcell.effects._engine import EffectsResult, compute_effects
from causalcell.effects._escape import MixtureFit, fit_escape_mixture
from causalcell.effects._kernels import bh_fdr, log_normalize, stratified_test

__all__ = [
    "Calibration",
    "EffectsResult",
    "MixtureFit",
    "bh_fdr",
    "compute_effects",
    "effects",
    "fit_escape_mixture",
    "log_normalize",
    "null_calibration",
    "stratified_test",
    "to_anndata",
]
