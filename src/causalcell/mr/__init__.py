"""Mendelian randomization: causal effects of an exposure (a gene's expression, a lipid, ...) on
an outcome from genetic variants' summary statistics.

The estimators are pure functions on the per-variant associations ``(bx, sx, by, sy)``
returning an :class:`MRResult`; each is registered under a name (:func:`list_methods`), and
:func:`mr` runs a selection of them on a validated table from :func:`read_sumstats`.

Conventions follow the R package MendelianRandomization 0.10.0 (whose vignette numbers the
tests reproduce): first-order weights ``1 / sy^2``, multiplicative random-effects IVW with the
residual standard error floored at 1 (fixed effect below 4 variants), normal-distribution
p-values and confidence intervals, and parametric-bootstrap SEs for the median and mode
estimators.

Examples
--------
>>> from causalcell import mr
>>> stats = mr.read_sumstats("sumstats.csv")  # doctest: +SKIP
>>> mr.mr(stats, methods=("ivw", "egger", "weighted_median"), rng=0)  # doctest: +SKIP
"""

from __future__ import annotations

from causalcell.mr._core import (
    MRMethod,
    MRResult,
    get_method,
    list_methods,
    ratio_estimates,
    register,
)
from causalcell.mr._genes import GENE_COLUMNS, mr_genes
from causalcell.mr._plot import plot_forest, plot_funnel, plot_scatter
from causalcell.mr._presso import PressoResult, presso
from causalcell.mr._regression import egger, ivw, mv_ivw, wald_ratio
from causalcell.mr._robust import (
    mode_based,
    penalized_weighted_median,
    simple_median,
    weighted_median,
)
from causalcell.mr._run import DEFAULT_METHODS, RESULT_COLUMNS, directionality, mr, mvmr
from causalcell.mr._steiger import SteigerResult, steiger
from causalcell.mr._sumstats import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    harmonise,
    read_sumstats,
    validate_sumstats,
)
from causalcell.mr._twmr import TWMR_RIDGE, TWMRResult, twmr

__all__ = [
    "DEFAULT_METHODS",
    "GENE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "RESULT_COLUMNS",
    "TWMR_RIDGE",
    "MRMethod",
    "MRResult",
    "PressoResult",
    "SteigerResult",
    "TWMRResult",
    "directionality",
    "egger",
    "get_method",
    "harmonise",
    "ivw",
    "list_methods",
    "mode_based",
    "mr",
    "mr_genes",
    "mv_ivw",
    "mvmr",
    "penalized_weighted_median",
    "plot_forest",
    "plot_funnel",
    "plot_scatter",
    "presso",
    "ratio_estimates",
    "read_sumstats",
    "register",
    "simple_median",
    "steiger",
    "twmr",
    "validate_sumstats",
    "wald_ratio",
    "weighted_median",
]
