"""Pseudobulk: sums of single-cell counts per group of cells.

Summing is a product with a sparse group-indicator matrix, streamed over row blocks (the same
pass as the effects engine, so backed files and Dask arrays work). Hand-rolled rather than
``scanpy.get.aggregate`` because it streams and scanpy is not a dependency.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell._utils import group_indicator
from causalcell.effects._stream import accumulate
from causalcell.io import Cells


def group_codes(obs: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Each cell's group code and the groups' key values (one row per non-empty group)."""
    missing = [key for key in by if key not in obs.columns]
    if missing:
        raise InputError(
            f"obs has no column(s) {missing} to group by (columns: {list(obs.columns)[:10]})"
        )
    if obs[by].isna().any().any():
        column = obs[by].columns[obs[by].isna().any()][0]
        raise InputError(f"obs[{column!r}] has missing values; fill them or drop those cells")
    keys = obs[by].astype(str)
    codes = keys.groupby(by, sort=True).ngroup().to_numpy()
    return codes, keys.drop_duplicates().sort_values(by).reset_index(drop=True)


def group_sums(
    cells: Cells,
    codes: np.ndarray,
    n_groups: int,
    *,
    squares: bool = False,
    chunk_size: int = 20_000,
) -> tuple[np.ndarray, ...]:
    """Per group (groups x genes, dense): the sum of the counts of its cells and, with
    ``squares``, the sum of their squares (for within-group variances)."""
    shape = (n_groups, cells.n_genes)

    def init():
        return tuple(np.zeros(shape) for _ in range(2 if squares else 1))

    def add(acc, start, block, threads):
        member = group_indicator(codes[start : start + block.shape[0]], n_groups)
        acc[0][:] += (member @ block).toarray()
        if squares:
            acc[1][:] += (member @ block.multiply(block)).toarray()

    return accumulate(cells, init, add, chunk_size=chunk_size, desc="aggregate", progress=None)


def pseudobulk(cells: Cells, by: str | list[str] = "perturbation") -> ad.AnnData:
    """Sum the counts of the cells in each group (e.g. per perturbation and donor).

    Parameters
    ----------
    cells
        Validated cells with raw counts (see :func:`causalcell.io.validate_cells`).
    by
        obs column(s) defining the groups.

    Returns
    -------
    AnnData
        Groups x genes with the integer count sums in ``X`` (CSR), the key columns and
        ``n_cells`` in obs: a bulk data set in the input contract.
    """
    if cells.expression != "counts":
        raise InputError("pseudobulk sums raw counts; pass counts, not log expression")
    by = [by] if isinstance(by, str) else list(by)
    codes, groups = group_codes(cells.obs, by)
    (counts,) = group_sums(cells, codes, len(groups))
    groups["n_cells"] = np.bincount(codes, minlength=len(groups))
    groups.index = ["|".join(row) for row in groups[by].to_numpy()]
    return ad.AnnData(
        sp.csr_matrix(np.rint(counts).astype(np.int64)),
        obs=groups,
        var=pd.DataFrame(index=cells.var_names),
    )
