"""Bulk data: pseudobulk, what aggregation can and cannot recover, composition correction.

A bulk profile is the sum of cell-level profiles over a mixture of cell types (DESIGN.md,
layer 3). :func:`recoverability` pushes a single-cell data set through that sum and says, per
perturbation and gene, whether a bulk experiment would see the effect, a diluted one
or the opposite sign, and how many samples it needs; :func:`deconvolve` and
:func:`bulk_effects` estimate effects from bulk samples with composition as a covariate.
"""

from causalcell.bulk._adjust import bulk_effects, composition_adjusted_effects, deconvolve
from causalcell.bulk._aggregate import pseudobulk
from causalcell.bulk._mixture import bulk_delta, mixture_log1p, samples_needed
from causalcell.bulk._recover import VERDICTS, Recoverability, recoverability, type_profiles

__all__ = [
    "VERDICTS",
    "Recoverability",
    "bulk_delta",
    "bulk_effects",
    "composition_adjusted_effects",
    "deconvolve",
    "mixture_log1p",
    "pseudobulk",
    "recoverability",
    "samples_needed",
    "type_profiles",
]
