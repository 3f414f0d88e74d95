"""Plotting: figures that only read what the tools wrote (matplotlib is imported lazily)."""

from causalcell.pl._bulk import recoverability_scatter
from causalcell.pl._concordance import concordance_scatter
from causalcell.pl._effects import (
    calibration_qq,
    effect_heatmap,
    guide_efficacy,
    knockdown,
    volcano,
)
from causalcell.pl._network import edge_heatmap, prediction_scores

__all__ = [
    "calibration_qq",
    "concordance_scatter",
    "edge_heatmap",
    "effect_heatmap",
    "guide_efficacy",
    "knockdown",
    "prediction_scores",
    "recoverability_scatter",
    "volcano",
]
