"""Fused kernels over CSR row blocks: normalise, log and accumulate in one sweep of the non-zeros.

Hand-rolled with numba because the library route measured slower: log-normalising a block with
scipy/numpy and then forming group sums as sparse products (``M.T @ Y``, ``M.T @ Y**2``) walks
the non-zeros about ten times and allocates block-sized temporaries; on 1M cells x 2,000 genes
it made the engine slower than scanpy (docs/benchmarks.md, "Effects engine vs scanpy"). Here each
non-zero is read once. ``log1p(count * size_factor)`` takes a per-cell table for small counts
(most UMI counts are 1-3), which is exact (the same expression, evaluated once per distinct
count) and removes most logarithms, the dominant cost of the sweep.

All kernels release the GIL, so a block can be read from disk while the previous one is
processed, and :class:`RowThreads` runs a kernel on several threads at once.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from causalcell.effects._kernels import TARGET_SUM

_TABLE = 64  # counts below this use the per-cell log table


@njit(nogil=True, cache=True)
def _start_row(data, a, b, counts, table):  # pragma: no cover - compiled
    """Size factor of the row ``data[a:b]`` (1 for log data); fills its log table for counts."""
    if not counts:
        return 1.0
    total = 0.0
    for p in range(a, b):
        total += data[p]
    scale = TARGET_SUM / total if total > 0 else 0.0
    for c in range(table.shape[0]):
        table[c] = math.log1p(c * scale)
    return scale


@njit(nogil=True, cache=True)
def _log_value(x, scale, table, counts):  # pragma: no cover - compiled
    """``log1p(x * scale)`` for counts (table lookup for small integers); ``x`` for log data."""
    if not counts:
        return x
    c = int(x)
    if c < table.shape[0] and c == x:
        return table[c]
    return math.log1p(x * scale)


@njit(nogil=True, cache=True)
def class_moments(
    data, indices, indptr, row_class, counts, s1, s2, target_pos, lin1, lin2
):  # pragma: no cover - compiled
    """Add one block's moments to the class accumulators, in place.

    Parameters
    ----------
    data, indices, indptr
        The block in CSR form (raw counts when ``counts``, else log expression).
    row_class
        Class of each row of the block; rows with a negative class are skipped.
    counts
        True: the analysis value is ``log1p(count / total * 1e4)``; False: the value as stored.
    s1, s2
        (classes, genes) sums of the analysis value and of its square.
    target_pos
        Per gene: its column in ``lin1``/``lin2``, or -1.
    lin1, lin2
        (classes, targets) sums of the linear-scale value (CP10k, or ``expm1`` of log data)
        and of its square, for the genes with ``target_pos >= 0``.
    """
    table = np.empty(_TABLE)
    for i in range(indptr.shape[0] - 1):
        c = row_class[i]
        if c < 0:
            continue
        a, b = indptr[i], indptr[i + 1]
        scale = _start_row(data, a, b, counts, table)
        for p in range(a, b):
            x = data[p]
            j = indices[p]
            y = _log_value(x, scale, table, counts)
            s1[c, j] += y
            s2[c, j] += y * y
            t = target_pos[j]
            if t >= 0:
                v = x * scale if counts else math.expm1(x)
                lin1[c, t] += v
                lin2[c, t] += v * v


@njit(nogil=True, cache=True)
def own_projections(
    data, indices, indptr, row_unit, counts, units, out
):  # pragma: no cover - compiled
    """``out[i] = y_i @ units[row_unit[i]]`` for rows with ``row_unit[i] >= 0``.

    ``y_i`` is row ``i`` on the analysis scale (see :func:`class_moments`); ``units`` is
    (n_units, genes).
    """
    table = np.empty(_TABLE)
    for i in range(indptr.shape[0] - 1):
        u = row_unit[i]
        if u < 0:
            continue
        a, b = indptr[i], indptr[i + 1]
        scale = _start_row(data, a, b, counts, table)
        acc = 0.0
        for p in range(a, b):
            acc += _log_value(data[p], scale, table, counts) * units[u, indices[p]]
        out[i] = acc


def default_threads() -> int:
    """Threads for the kernels: the cores this process may use, at most 8."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(8, os.cpu_count() or 1))


class RowThreads:
    """Run a row kernel on several threads, each taking the rows whose key is ``t`` modulo n.

    Rows sharing a key (a class, a projection unit) go to one thread, so accumulators indexed
    by the key never have two writers and need no locks or per-thread copies.
    """

    def __init__(self, n_threads: int | None = None) -> None:
        self.n = default_threads() if n_threads is None else max(1, n_threads)
        self._pool = ThreadPoolExecutor(self.n) if self.n > 1 else None

    def __enter__(self) -> RowThreads:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def run(self, kernel, block, row_key: np.ndarray, *args) -> None:
        """``kernel(block.data, block.indices, block.indptr, key, *args)`` split over threads."""
        arrays = (block.data, block.indices, block.indptr)
        if self._pool is None:
            kernel(*arrays, row_key, *args)
            return
        parts = [np.where(row_key % self.n == t, row_key, -1) for t in range(self.n)]
        for job in [self._pool.submit(kernel, *arrays, part, *args) for part in parts]:
            job.result()
