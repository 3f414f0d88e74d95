"""Front end: cells or effects in, a ranked list of direct edges out."""

from __future__ import annotations

import logging
from pathlib import Path

import anndata as ad
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io import Cells
from causalcell.network._methods import METHODS
from causalcell.network._prior import apply_prior, read_prior
from causalcell.network._profiles import Profiles
from causalcell.network._time import TimeCourse

logger = logging.getLogger(__name__)


def infer_network(
    data: ad.AnnData | Cells | Profiles,
    *,
    method: str = "causalcell",
    level: str = "guide",
    responders_only: bool = False,
    options: dict | None = None,
    prior: str | Path | pd.DataFrame | None = None,
    prior_strength: float = 1.0,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Infer direct regulatory edges from perturbation data.

    Parameters
    ----------
    data
        Cells (AnnData in contract form or validated :class:`~causalcell.io.Cells`; effects are
        estimated first), an effects AnnData from :func:`causalcell.effects.effects` (recognised
        by its ``delta`` layer), or :class:`Profiles`.
    method
        A registered method (``causalcell.network.list_methods()``): ``"causalcell"`` (default,
        direct edges), ``"zscore"``, ``"conditional"``, ``"inverse"``, ``"correlation"``;
        ``"time"``: time-resolved direct edges from cells with obs ``time`` (or a
        :class:`~causalcell.network.TimeCourse`), effects estimated per time point.
    level
        ``"guide"``: each guide is an instrument; ``"perturbation"``: pool guides.
    responders_only
        Estimate effects without escaping cells.
    options
        Method options, e.g. ``{"n_estimators": 100, "min_z": 2.0}`` for ``"causalcell"``.
    prior
        Optional prior network (path or DataFrame: ``source,target[,prior|weight|confidence]``,
        DoRothEA's ``tf,target,confidence`` too), a soft prior: each prior edge's score is
        multiplied by ``exp(prior_strength * confidence)``; see :func:`apply_prior`.
    prior_strength
        Log factor for a prior edge of confidence 1.
    rng
        Seed or Generator.

    Returns
    -------
    DataFrame
        ``source, target, weight, score``: one row per candidate edge with positive score,
        ``weight`` the signed total effect per unit of the source, ``score`` higher = surer,
        sorted by score (descending).
    """
    if method not in METHODS:
        raise InputError(f"unknown network method {method!r}; choose one of {sorted(METHODS)}")
    rng = as_rng(rng)
    fn = METHODS[method].fn
    if getattr(fn, "needs_time", False):
        inputs = _time_course(data, level, rng)
    else:
        if isinstance(data, Cells) and "time" in data.obs.columns:
            logger.info("cells carry obs['time']; method='time' would use it (pooled here)")
        inputs = _profiles(data, level, responders_only, rng)
    scores = fn(inputs, rng, **(options or {}))
    if prior is not None:
        scores = apply_prior(scores, read_prior(prior), prior_strength)
    return scores.to_frame()


def _time_course(data, level: str, rng) -> TimeCourse:
    if isinstance(data, TimeCourse):
        return data
    if isinstance(data, ad.AnnData) and "delta" not in data.layers:
        from causalcell.io import validate_cells

        data = validate_cells(data)
    if not isinstance(data, Cells):
        raise InputError("the time-resolved method needs cells with obs['time'], not effects")
    return TimeCourse.from_cells(data, level="perturbation" if level == "guide" else level, rng=rng)


def _profiles(data, level: str, responders_only: bool, rng) -> Profiles:
    from causalcell.effects import compute_effects, to_anndata

    if isinstance(data, Profiles):
        return data
    if isinstance(data, ad.AnnData) and "delta" in data.layers:
        return Profiles.from_effects(data, level=level)
    if isinstance(data, ad.AnnData):
        from causalcell.io import validate_cells

        data = validate_cells(data)
    result = compute_effects(data, escape=responders_only, responders_only=responders_only, rng=rng)
    profiles = Profiles.from_effects(to_anndata(result), level=level)
    profiles.cells = data  # the within-condition covariance is computed when a method asks
    return profiles
