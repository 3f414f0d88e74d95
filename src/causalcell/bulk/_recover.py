"""Which perturbation effects a bulk experiment can recover: the single-cell model pushed
through aggregation (DESIGN.md: "is a relation recoverable from bulk").

From single cells with a cell-type annotation: each (condition, cell type) group's expected
counts per cell, mixed over a distribution of sample compositions, give the bulk effect each
perturbation would show; the effect within each pure cell type (log1p CP10k of the type's
mean counts: a sorted-population bulk, so that both sides share the measurement scale and
differ only by the mixing) gives what it should show. Each (perturbation, gene) pair gets a
verdict, by these rules in this order (a later one overriding an earlier one):

``recoverable``
    bulk shows the effect (at least half of the strongest per-type effect) and the composition
    noise lets ``samples`` bulk samples per condition detect it;
``underpowered``
    as above, but more samples are needed (``samples_needed``);
``diluted``
    bulk shows less than half of the strongest per-type effect (taken at its lower confidence
    bound: an effect confined to, or strongest in, some cell types);
``sign_flip``
    bulk moves the gene (by ``min_effect`` or more) the other way than the cells do on
    average (Simpson's paradox of types that respond in opposite directions and differ in
    expression level);
``none``
    no cell type responds (by ``min_effect`` and ``min_t`` standard errors).

Sample compositions are the same for both conditions: a perturbation that changes the
cell-type composition itself (e.g. blocks a differentiation) is not modelled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.bulk._aggregate import group_codes, group_sums
from causalcell.bulk._mixture import TARGET_SUM, bulk_delta, samples_needed
from causalcell.io import CONTROL, Cells

VERDICTS = ("recoverable", "underpowered", "diluted", "sign_flip", "none")


@dataclass(frozen=True)
class TypeProfiles:
    """Per condition and cell type: expected counts per cell.

    Attributes
    ----------
    conditions, types
        Labels (``control`` first among the conditions).
    counts
        (conditions, types, genes) mean counts over the group's cells.
    count_var
        (conditions, types, genes) variance of the counts over the group's cells.
    n_cells
        (conditions, types) cells per group.
    genes
        Gene names.
    """

    conditions: list[str]
    types: list[str]
    counts: np.ndarray
    count_var: np.ndarray
    n_cells: np.ndarray
    genes: pd.Index


def type_profiles(cells: Cells, cell_type_key: str = "cell_type") -> TypeProfiles:
    """Group means of the cells by perturbation and cell type (one streaming pass)."""
    if cells.expression != "counts":
        raise InputError("bulk recoverability needs raw counts (bulk sums UMIs), not log data")
    codes, groups = group_codes(cells.obs, ["perturbation", cell_type_key])
    sums = group_sums(cells, codes, len(groups), squares=True)
    conditions = [CONTROL, *sorted(set(groups["perturbation"]) - {CONTROL})]
    types = sorted(set(groups[cell_type_key]))
    cond = pd.Index(conditions).get_indexer(groups["perturbation"])
    kind = pd.Index(types).get_indexer(groups[cell_type_key])
    n = np.zeros((len(conditions), len(types)))
    n[cond, kind] = np.bincount(codes, minlength=len(groups))
    means = []
    for total in sums:
        grid = np.zeros((len(conditions), len(types), cells.n_genes))
        grid[cond, kind] = total
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(grid / n[..., None])
    counts, squares = means
    count_var = np.maximum(squares - counts**2, 0.0) * (n / np.maximum(n - 1, 1))[..., None]
    return TypeProfiles(conditions, types, counts, count_var, n, cells.var_names)


def proportion_draws(
    proportions: np.ndarray | pd.DataFrame | None,
    control_share: np.ndarray,
    types: list[str],
    concentration: float,
    n_draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample compositions: the given ones (rows; DataFrame columns are cell types) or
    Dirichlet draws around the control cells' type shares."""
    if proportions is None:
        if concentration <= 0:
            raise InputError(f"concentration must be positive, got {concentration}")
        return rng.dirichlet(concentration * control_share, n_draws)
    if isinstance(proportions, pd.DataFrame):
        missing = sorted(set(types) - set(proportions.columns.astype(str)))
        if missing:
            raise InputError(f"proportions lack cell type column(s) {missing}")
        proportions = proportions.set_axis(proportions.columns.astype(str), axis=1)[types]
    p = np.asarray(proportions, float)
    if p.ndim != 2 or p.shape[1] != len(types):
        raise InputError(f"proportions must be samples x {len(types)} cell types, got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or (p.sum(axis=1) <= 0).any():
        raise InputError("proportions must be finite, non-negative and not all zero per sample")
    return p / p.sum(axis=1, keepdims=True)


def verdicts(
    cell: np.ndarray,
    strongest: np.ndarray,
    responds: np.ndarray,
    bulk: np.ndarray,
    needed: np.ndarray,
    samples: int,
    min_effect: float,
) -> np.ndarray:
    """The verdict of each pair (see the module docstring). ``cell``: composition-weighted
    mean of the per-type effects; ``strongest``: the largest per-type effect (a lower bound
    when estimated); ``responds``: whether any type responds."""
    out = np.full(cell.shape, "recoverable", dtype=object)
    out[needed > samples] = "underpowered"
    out[np.abs(bulk) < 0.5 * np.abs(strongest)] = "diluted"
    opposite = np.sign(bulk) != np.sign(cell)
    out[(np.abs(bulk) >= min_effect) & (np.abs(cell) >= min_effect) & opposite] = "sign_flip"
    out[~responds] = "none"
    return out


@dataclass
class Recoverability:
    """Result of :func:`recoverability`.

    Attributes
    ----------
    table
        One row per (perturbation, gene): ``cell_delta`` (composition-weighted mean of the
        per-type deltas), ``bulk_delta``, ``type_min``/``type_max`` (range of the
        per-type deltas), ``strongest_type`` (the responding type with the largest lower
        confidence bound of its effect, empty if none responds) and ``strongest_lower`` (that
        bound, signed), ``responding_types``, ``composition_sd`` (sd of a perturbed-minus-
        control sample difference due to composition alone), ``samples_needed``, ``verdict``.
    skipped
        Perturbations left out: some cell type had fewer than ``min_cells`` cells.
    proportions
        The composition draws used, (draws, types).
    profiles
        The per-type profiles of the cells (the reference for
        :func:`causalcell.bulk.composition_adjusted_effects`).
    """

    table: pd.DataFrame
    skipped: list[str]
    proportions: np.ndarray
    profiles: TypeProfiles

    def summary(self) -> pd.DataFrame:
        """Per perturbation: number of genes of each verdict (``none`` left out)."""
        counts = pd.crosstab(self.table["perturbation"], self.table["verdict"])
        return counts.reindex(columns=[v for v in VERDICTS if v != "none"], fill_value=0)


def recoverability(
    cells: Cells,
    *,
    cell_type_key: str = "cell_type",
    proportions: np.ndarray | pd.DataFrame | None = None,
    concentration: float = 20.0,
    n_draws: int = 2000,
    samples: int = 4,
    min_effect: float = 0.1,
    min_t: float = 3.0,
    min_cells: int = 10,
    alpha: float = 0.05,
    power: float = 0.8,
    rng: RngLike = None,
) -> Recoverability:
    """Predict, from single cells, which perturbation effects a bulk experiment recovers.

    Parameters
    ----------
    cells
        Validated single cells (raw counts) with a cell-type column.
    cell_type_key
        obs column of the cell types mixed in a bulk sample.
    proportions
        Compositions of the planned bulk samples (samples x types; DataFrame columns named by
        type), or None for Dirichlet draws around the control cells' type shares.
    concentration
        Total Dirichlet concentration of those draws (20: a type at 1/3 varies with sd 0.10
        between samples).
    n_draws
        Dirichlet draws when ``proportions`` is None.
    samples
        Bulk samples per condition in the planned experiment.
    min_effect
        Smallest change on the log1p CP10k scale that counts as an effect.
    min_t
        A cell type responds when its delta is at least ``min_effect`` and ``min_t`` standard
        errors; "the strongest per-type effect" is the largest ``|delta| - min_t * se``.
    min_cells
        Cells needed in every cell type of a perturbation to estimate its profile.
    alpha, power
        Test level and power for ``samples_needed`` (composition noise only: a lower bound).
    rng
        Seed or generator for the Dirichlet draws.

    Returns
    -------
    Recoverability
    """
    if cell_type_key not in cells.obs.columns:
        raise InputError(
            f"obs has no column {cell_type_key!r}; bulk recoverability needs each cell's type"
        )
    prof = type_profiles(cells, cell_type_key)
    if (prof.n_cells[0] < min_cells).any():
        raise InputError(
            f"fewer than {min_cells} control cells in some cell type: {prof.n_cells[0]}"
        )
    share = prof.n_cells[0] / prof.n_cells[0].sum()
    draws = proportion_draws(proportions, share, prof.types, concentration, n_draws, as_rng(rng))
    keep = [i for i in range(1, len(prof.conditions)) if (prof.n_cells[i] >= min_cells).all()]
    skipped = [prof.conditions[i] for i in range(1, len(prof.conditions)) if i not in keep]
    if skipped:
        warnings.warn(
            f"{len(skipped)} perturbation(s) skipped, a cell type has < {min_cells} cells: "
            f"{skipped[:5]}",
            stacklevel=2,
        )
    frames = [_pairs(prof, i, draws, samples, min_effect, min_t, alpha, power) for i in keep]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Recoverability(table, skipped, draws, prof)


def type_effects(prof: TypeProfiles, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pure type's delta (log1p CP10k of its mean counts, condition ``i`` vs control)
    and its standard error by the delta method (sampling noise of the mean counts; the
    library total is treated as fixed), both (types, genes)."""
    delta, var = 0.0, 0.0
    for cond, sign in ((i, 1.0), (0, -1.0)):
        counts, n = prof.counts[cond], prof.n_cells[cond][:, None]
        scale = TARGET_SUM / counts.sum(axis=1, keepdims=True)
        delta = delta + sign * np.log1p(scale * counts)
        var = var + (scale / (1 + scale * counts)) ** 2 * prof.count_var[cond] / n
    return delta, np.sqrt(var)


def _pairs(prof: TypeProfiles, i, draws, samples, min_effect, min_t, alpha, power):
    """The table rows of condition ``i``."""
    type_delta, type_se = type_effects(prof, i)
    cell = draws.mean(axis=0) @ type_delta
    bulk, variance = bulk_delta(prof.counts[0], prof.counts[i], draws)
    needed = samples_needed(bulk, variance, alpha, power)
    # a type responds when its change stands out of cell noise; its size is taken as a lower
    # confidence bound (the largest of several noisy deltas would call noise "diluted")
    responding = (np.abs(type_delta) >= min_t * type_se) & (np.abs(type_delta) >= min_effect)
    lower = np.where(responding, np.abs(type_delta) - min_t * type_se, 0.0)
    strongest = lower.argmax(axis=0)
    strongest_lower = np.take_along_axis(lower, strongest[None], axis=0)[0]
    strongest_lower *= np.sign(np.take_along_axis(type_delta, strongest[None], axis=0)[0])
    any_type = responding.any(axis=0)
    return pd.DataFrame(
        {
            "perturbation": prof.conditions[i],
            "gene": prof.genes,
            "cell_delta": cell,
            "bulk_delta": bulk,
            "type_min": type_delta.min(axis=0),
            "type_max": type_delta.max(axis=0),
            "strongest_type": np.where(any_type, np.asarray(prof.types)[strongest], ""),
            "strongest_lower": strongest_lower,
            "responding_types": responding.sum(axis=0),
            "composition_sd": np.sqrt(variance),
            "samples_needed": needed,
            "verdict": verdicts(cell, strongest_lower, any_type, bulk, needed, samples, min_effect),
        }
    )
