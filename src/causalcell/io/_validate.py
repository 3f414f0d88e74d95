"""Check cells against the input contract and bring their annotations into canonical form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell.io._blocks import iter_row_blocks
from causalcell.io._labels import CONTROL, normalize_label

Expression = Literal["counts", "log"]
EXPRESSIONS: tuple[str, ...] = ("counts", "log")
OPTIONAL_OBS = ("guide", "batch", "cell_type", "donor", "time", "phenotype")


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def check_var_names(var_names: pd.Index, source: str | None = None) -> None:
    """Gene names must be present and unique."""
    names = pd.Index(var_names).astype(str)
    if (names.str.strip() == "").any():
        raise InputError(f"{_where(source)}var_names contain empty gene names; name every gene")
    dup = names[names.duplicated()].unique()
    if len(dup):
        shown = ", ".join(map(repr, dup[:5]))
        raise InputError(
            f"{_where(source)}duplicate gene names in var_names ({shown}{', ...' if len(dup) > 5 else ''}); "
            "make them unique (adata.var_names_make_unique()) or sum the duplicates"
        )


def check_chunk(
    block: np.ndarray | sp.spmatrix, expression: Expression, source: str | None, row0: int
) -> None:
    """Validate one block of the expression matrix (rows ``row0...``).

    Counts must be finite non-negative integers; log expression must be finite.
    """
    values = block.data if sp.issparse(block) else np.asarray(block)
    if values.size == 0:
        return
    if not np.isfinite(values).all():
        raise InputError(
            f"{_where(source)}expression matrix holds NaN or infinite values (rows from {row0}); "
            "remove or impute them"
        )
    if expression == "log":
        return
    if values.min() < 0:
        raise InputError(
            f"{_where(source)}counts must be non-negative but X holds negative values (rows from {row0}); "
            "pass raw UMI counts, or use --expression log for data already on the log scale"
        )
    if values.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
        raise InputError(
            f"{_where(source)}counts must be integers but X holds non-integer values (rows from {row0}); "
            "pass raw UMI counts (layers['counts']), or use --expression log for normalised data"
        )


def expression_matrix(adata: ad.AnnData, layer: str | None = None):
    """The matrix the analysis reads: ``layer`` if given, else ``layers['counts']`` if present, else X."""
    if layer is not None:
        if layer not in adata.layers:
            raise InputError(f"layer {layer!r} not found; available: {list(adata.layers)}")
        return adata.layers[layer]
    if "counts" in adata.layers:
        return adata.layers["counts"]
    if adata.X is None:
        raise InputError("AnnData has no X and no layers['counts']; provide the UMI count matrix")
    return adata.X


def canonical_obs(
    obs: pd.DataFrame,
    *,
    perturbation_key: str = "perturbation",
    source: str | None = None,
    require_control: bool = True,
) -> pd.DataFrame:
    """Return a copy of ``obs`` with canonical ``perturbation`` (and string ``guide``/``batch``).

    Raises
    ------
    InputError
        Missing perturbation column, missing labels, or no control cells.
    """
    if perturbation_key not in obs.columns:
        raise InputError(
            f"{_where(source)}obs has no column {perturbation_key!r} (columns: {list(obs.columns)[:10]}); "
            "add the targeted genes per cell ('control' for controls) or pass --perturbation-key"
        )
    raw = obs[perturbation_key]
    codes, uniques = pd.factorize(raw)  # each distinct label is checked and normalised once
    labels = np.asarray([str(u).strip() for u in uniques], dtype=object)
    missing = (codes < 0) | np.isin(codes, np.flatnonzero(labels == ""))
    if missing.any():
        first = obs.index[np.flatnonzero(missing)[0]]
        raise InputError(
            f"{_where(source)}obs[{perturbation_key!r}] is empty for {int(missing.sum())} cells "
            f"(first: {first!r}); label every cell, 'control' for unperturbed cells"
        )
    out = obs.copy()
    out["perturbation"] = _categorical(codes, [normalize_label(str(u)) for u in uniques])
    if require_control and not (out["perturbation"] == CONTROL).any():
        raise InputError(
            f"{_where(source)}no control cells in obs[{perturbation_key!r}] (values like "
            f"{list(uniques[:5])}); label unperturbed or non-targeting cells 'control'"
        )
    for key in ("guide", "batch", "cell_type", "donor"):
        if key in out.columns:
            codes, uniques = pd.factorize(out[key])
            if (codes < 0).any():
                raise InputError(
                    f"{_where(source)}obs[{key!r}] has missing values; fill them or drop the column"
                )
            out[key] = _categorical(codes, [str(u) for u in uniques])
    for key in ("time", "phenotype"):
        if key in out.columns and not pd.api.types.is_numeric_dtype(out[key]):
            raise InputError(
                f"{_where(source)}obs[{key!r}] must be numeric, got dtype {out[key].dtype}"
            )
    return out


def _categorical(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Cells' labels as a categorical, given each cell's code into ``labels`` (may repeat)."""
    categories, inverse = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(inverse.ravel()[codes], categories)


@dataclass(frozen=True)
class Cells:
    """Validated cells: the analysis matrix (in memory or backed on disk) and canonical obs.

    Attributes
    ----------
    X
        Cells x genes matrix (ndarray, scipy sparse, or a backed AnnData dataset); read it in
        row blocks with :meth:`blocks` so that memory stays bounded.
    obs
        Canonical cell annotations (see :func:`canonical_obs`).
    var_names
        Unique gene symbols.
    expression
        ``"counts"`` or ``"log"``.
    source
        Where the cells came from, for messages.
    """

    X: Any
    obs: pd.DataFrame
    var_names: pd.Index
    expression: Expression = "counts"
    source: str | None = None

    @property
    def n_cells(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_genes(self) -> int:
        return int(self.X.shape[1])

    def subset(self, rows: np.ndarray, obs: pd.DataFrame | None = None) -> Cells:
        """The cells at (sorted) ``rows``, with ``obs`` in place of theirs if given."""
        obs = self.obs.iloc[rows] if obs is None else obs
        return Cells(self.X[rows], obs, self.var_names, self.expression, self.source)

    def blocks(self, chunk_size: int = 20_000, check: bool = True, reuse_buffers: bool = False):
        """Yield ``(start, block)`` row blocks, validating each block on the way.

        ``reuse_buffers``: see :func:`causalcell.io.iter_row_blocks` (a block is then valid
        only until the next is requested).
        """
        for start, block in iter_row_blocks(self.X, chunk_size, reuse_buffers=reuse_buffers):
            if check:
                check_chunk(block, self.expression, self.source, start)
            yield start, block


def validate_cells(
    adata: ad.AnnData,
    *,
    expression: Expression = "counts",
    perturbation_key: str = "perturbation",
    layer: str | None = None,
    source: str | None = None,
) -> Cells:
    """Check ``adata``'s annotations against the input contract; return validated :class:`Cells`.

    Matrix values (NaN, negative or non-integer counts) are checked block by block when the
    cells are read (:meth:`Cells.blocks`), so a backed file is scanned only once. The input is
    never modified and its matrix is not copied.

    Parameters
    ----------
    adata
        Cells x genes; raw counts in X or ``layers['counts']`` (or log expression), in memory
        or opened with ``backed='r'``.
    expression
        ``"counts"`` (raw UMIs) or ``"log"`` (already on the analysis scale).
    perturbation_key
        obs column holding the perturbation labels.
    layer
        Matrix to read instead of the default (``layers['counts']`` if present, else X).
    source
        File name used in error messages.

    Returns
    -------
    Cells
        The validated cells.
    """
    if expression not in EXPRESSIONS:
        raise InputError(f"expression must be one of {EXPRESSIONS}, got {expression!r}")
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise InputError(f"{_where(source)}no cells or no genes ({adata.n_obs} x {adata.n_vars})")
    check_var_names(adata.var_names, source)
    if adata.obs_names.duplicated().any():
        raise InputError(f"{_where(source)}duplicate cell ids in obs_names; make them unique")
    obs = canonical_obs(adata.obs, perturbation_key=perturbation_key, source=source)
    X = expression_matrix(adata, layer)
    return Cells(X, obs, pd.Index(adata.var_names.astype(str)), expression, source)
