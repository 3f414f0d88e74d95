"""Streaming passes over the cells: here, block by block, or as Dask tasks on a cluster.

A pass is an ``init()`` that allocates accumulators (a tuple of arrays) and an
``add(acc, start, block, threads)`` that adds one CSR row block to them in place. In this
process the blocks stream through one set of accumulators (memory: accumulators plus a few
blocks). When ``X`` is a Dask array, each chunk of rows becomes a task with its own
accumulators and the partial results are summed in a tree: the same pass runs on whatever
scheduler Dask uses (threads by default, a ``distributed`` cluster when a client is active).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from causalcell.effects._fused import RowThreads
from causalcell.io import Cells
from causalcell.io._blocks import is_dask
from causalcell.io._validate import check_chunk

Accumulators = tuple[np.ndarray, ...]
Init = Callable[[], Accumulators]
Add = Callable[[Accumulators, int, sp.csr_matrix, RowThreads], None]


def accumulate(
    cells: Cells,
    init: Init,
    add: Add,
    *,
    chunk_size: int,
    desc: str,
    progress: bool | None,
    check: bool = True,
) -> Accumulators:
    """Run one pass of ``add`` over all row blocks of ``cells``; return the accumulators."""
    if is_dask(cells.X):
        return _accumulate_dask(cells, init, add, check)
    acc = init()
    n_blocks = -(-cells.n_cells // chunk_size)
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    blocks = tqdm(
        cells.blocks(chunk_size, check=check, reuse_buffers=True),
        desc=desc,
        total=n_blocks,
        unit="block",
        disable=disable,
        leave=False,
    )
    with RowThreads() as threads:
        for start, block in blocks:
            add(acc, start, sp.csr_matrix(block), threads)
    return acc


def _accumulate_dask(cells: Cells, init: Init, add: Add, check: bool) -> Accumulators:
    import dask

    X = cells.X.rechunk({1: -1}) if len(cells.X.chunks[1]) > 1 else cells.X
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]])

    def task(start: int, chunk) -> Accumulators:
        if check:
            check_chunk(chunk, cells.expression, cells.source, start)
        acc = init()
        add(acc, int(start), sp.csr_matrix(chunk), RowThreads(1))  # Dask owns the parallelism
        return acc

    parts = [dask.delayed(task)(s, c) for s, c in zip(starts, X.to_delayed()[:, 0], strict=True)]
    while len(parts) > 1:  # pairwise tree: partial sums never pile up on one worker
        pairs = zip(parts[::2], parts[1::2], strict=False)
        parts = [dask.delayed(_sum)(a, b) for a, b in pairs] + parts[len(parts) // 2 * 2 :]
    return dask.compute(parts[0])[0]


def _sum(a: Accumulators, b: Accumulators) -> Accumulators:
    return tuple(x + y for x, y in zip(a, b, strict=True))
