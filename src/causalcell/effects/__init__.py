"""Per-perturbation effects: deltas, calibrated tests, guide efficacy and escaping cells."""

from causalcell.effects._api import effects, to_anndata
from causalcell.effects._calibration import Calibration, null_calibration
from causalcell.effects._engine import EffectsResult, compute_effects
from causalcell.effects._escape import EscapeFit, fit_escape, null_fraction
from causalcell.effects._kernels import bh_fdr, log_normalize, stratified_test

__all__ = [
    "Calibration",
    "EffectsResult",
    "EscapeFit",
    "bh_fdr",
    "compute_effects",
    "effects",
    "fit_escape",
    "log_normalize",
    "null_calibration",
    "null_fraction",
    "stratified_test",
    "to_anndata",
]
