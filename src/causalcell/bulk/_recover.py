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
    bulk shows less than half of the strongest per-type effect (an effect confined to, or
    strongest in, some cell types);
``sign_flip``
    bulk moves the gene (by ``min_effect`` or more) the other way than the cells do on
    average (Simpson's paradox of types that respond in opposite directions and differ in
    expression level);
``none``
    no cell type responds (by ``min_effect`` and distinguishably from cell noise).

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
from causalcell.bulk._mixture import bulk_delta, mixture_log1p, samples_needed
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
    log_mean, log_var
        (conditions, types, genes) mean and variance of the cells' log1p CP10k (for the noise
        of the per-type effects).
    n_cells
        (conditions, types) cells per group.
    genes
        Gene names.
    """

    conditions: list[str]
    types: list[str]
    counts: np.ndarray
    log_mean: np.ndarray
    log_var: np.ndarray
    n_cells: np.ndarray
    genes: pd.Index


def type_profiles(cells: Cells, cell_type_key: str = "cell_type") -> TypeProfiles:
    """Group means of the cells by perturbation and cell type (one streaming pass)."""
    if cells.expression != "counts":
        raise InputError("bulk recoverability needs raw counts (bulk sums UMIs), not log data")
    codes, groups = group_codes(cells.obs, ["perturbation", cell_type_key])
    sums = group_sums(cells, codes, len(groups), log_moments=True)
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
    counts, log_mean, log_sq = means
    with np.errstate(invalid="ignore", divide="ignore"):
        log_var = (log_sq - log_mean**2) * (n / np.maximum(n - 1, 1))[..., None]
    return TypeProfiles(conditions, types, counts, log_mean, log_var, n, cells.var_names)


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
    bulk: np.ndarray,
    needed: np.ndarray,
    samples: int,
    min_effect: float,
) -> np.ndarray:
    """The verdict of each pair (see the module docstring); ``cell`` is the composition-weighted
    mean of the per-type effects and ``strongest`` the largest per-type effect in magnitude."""
    out = np.full(cell.shape, "recoverable", dtype=object)
    out[needed > samples] = "underpowered"
    out[np.abs(bulk) < 0.5 * np.abs(strongest)] = "diluted"
    opposite = np.sign(bulk) != np.sign(cell)
    out[(np.abs(bulk) >= min_effect) & (np.abs(cell) >= min_effect) & opposite] = "sign_flip"
    out[np.abs(strongest) < min_effect] = "none"
    return out


@dataclass
class Recoverability:
    """Result of :func:`recoverability`.

    Attributes
    ----------
    table
        One row per (perturbation, gene): ``cell_delta`` (composition-weighted mean of the
        per-type deltas), ``bulk_delta``, ``type_min``/``type_max`` (range of the
        per-type deltas), ``strongest_type`` (the responding type with the largest effect,
        empty if none responds), ``responding_types``, ``composition_sd`` (sd of a perturbed-minus-control sample
        difference due to composition alone), ``samples_needed``, ``verdict``.
    skipped
        Perturbations left out: some cell type had fewer than ``min_cells`` cells.
    proportions
        The composition draws used, (draws, types).
    """

    table: pd.DataFrame
    skipped: list[str]
    proportions: np.ndarray

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
        A cell type responds when its cells' Welch t (log1p CP10k vs its control cells) is at
        least this large; only responding types count as "the strongest per-type effect".
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
    return Recoverability(table, skipped, draws)


def type_t(prof: TypeProfiles, i: int) -> np.ndarray:
    """Welch t of each type's mean log1p CP10k, condition ``i`` vs control (types, genes)."""
    se2 = prof.log_var[i] / prof.n_cells[i][:, None] + prof.log_var[0] / prof.n_cells[0][:, None]
    diff = prof.log_mean[i] - prof.log_mean[0]
    return np.divide(diff, np.sqrt(se2), out=np.zeros_like(diff), where=se2 > 0)


def _pairs(prof: TypeProfiles, i, draws, samples, min_effect, min_t, alpha, power):
    """The table rows of condition ``i``."""
    pure = np.eye(len(prof.types))  # each type alone
    type_delta = mixture_log1p(prof.counts[i], pure) - mixture_log1p(prof.counts[0], pure)
    cell = draws.mean(axis=0) @ type_delta
    bulk, variance = bulk_delta(prof.counts[0], prof.counts[i], draws)
    needed = samples_needed(bulk, variance, alpha, power)
    # the strongest type among those whose response is distinguishable from cell noise (the
    # largest of several noisy deltas would otherwise call noise "diluted")
    responding = np.abs(type_t(prof, i)) >= min_t
    strongest = np.abs(np.where(responding, type_delta, 0.0)).argmax(axis=0)
    strongest_delta = np.take_along_axis(type_delta, strongest[None], axis=0)[0]
    strongest_delta[~responding.any(axis=0)] = 0.0
    return pd.DataFrame(
        {
            "perturbation": prof.conditions[i],
            "gene": prof.genes,
            "cell_delta": cell,
            "bulk_delta": bulk,
            "type_min": type_delta.min(axis=0),
            "type_max": type_delta.max(axis=0),
            "strongest_type": np.where(
                responding.any(axis=0), np.asarray(prof.types)[strongest], ""
            ),
            "responding_types": responding.sum(axis=0),
            "composition_sd": np.sqrt(variance),
            "samples_needed": needed,
            "verdict": verdicts(cell, strongest_delta, bulk, needed, samples, min_effect),
        }
    )
