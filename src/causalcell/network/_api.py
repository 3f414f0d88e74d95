"""Front end: cells or effects in, a ranked list of direct edges out."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io import Cells
from causalcell.network._methods import METHODS
from causalcell.network._profiles import Profiles


def infer_network(
    data: ad.AnnData | Cells | Profiles,
    *,
    method: str = "causalcell",
    level: str = "guide",
    responders_only: bool = False,
    options: dict | None = None,
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
        direct edges), ``"zscore"``, ``"conditional"``, ``"inverse"``, ``"correlation"``.
    level
        ``"guide"``: each guide is an instrument; ``"perturbation"``: pool guides.
    responders_only
        Estimate effects without escaping cells.
    options
        Method options, e.g. ``{"n_estimators": 100, "min_z": 2.0}`` for ``"causalcell"``.
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
    profiles = _profiles(data, level, responders_only, rng)
    return METHODS[method].fn(profiles, rng, **(options or {})).to_frame()


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
    return Profiles.from_effects(to_anndata(result), level=level)
