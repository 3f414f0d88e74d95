"""Plotting: figures that only read what the tools wrote (matplotlib is imported lazily)."""

from causalcell.pl._effects import (
    calibration_qq,
    effect_heatmap,
    guide_efficacy,
    knockdown,
    volcano,
)

__all__ = ["calibration_qq", "effect_heatmap", "guide_efficacy", "knockdown", "volcano"]
