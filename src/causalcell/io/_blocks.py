"""Row blocks of an expression matrix, in memory or on disk, read ahead on a second thread."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

Block = np.ndarray | sp.csr_matrix


def iter_row_blocks(
    X, chunk_size: int, prefetch: bool = True, reuse_buffers: bool = False
) -> Iterator[tuple[int, Block]]:
    """Yield ``(start, block)`` over row blocks of an in-memory or backed matrix.

    Blocks are CSR when the source is sparse (never densified) and ndarrays otherwise. With
    ``prefetch``, the next block of a file-backed matrix is read on a background thread while
    the caller processes the current one (the engine's kernels release the GIL). With
    ``reuse_buffers``, blocks of an on-disk CSR matrix are read into a few recycled arrays:
    a block is then valid only until the next one is requested.
    """
    n = X.shape[0]
    read = _block_reader(X, chunk_size if reuse_buffers else 0)
    spans = [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]
    if not prefetch or not _is_backed(X) or len(spans) < 2:
        for start, stop in spans:
            yield start, read(start, stop)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read, *spans[0])
        for i, (start, _) in enumerate(spans):
            block = pending.result()
            if i + 1 < len(spans):
                pending = pool.submit(read, *spans[i + 1])
            yield start, block


def _is_backed(X) -> bool:
    return hasattr(X, "group") or type(X).__module__.startswith("h5py") or is_dask(X)


def is_dask(X) -> bool:
    """Whether ``X`` is a Dask array (checked without importing Dask)."""
    return type(X).__module__.startswith("dask.")


def _block_reader(X, recycle_rows: int = 0) -> Callable[[int, int], Block]:
    if hasattr(X, "group") and getattr(X, "format", None) == "csr":
        return _h5_csr_reader(X.group, recycle_rows)
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()  # row slicing of CSC is quadratic; one conversion is cheaper

    def read(start: int, stop: int) -> Block:
        block = X[start:stop]
        if is_dask(block):
            block = block.compute()
        if sp.issparse(block):
            return sp.csr_matrix(block)
        return block if isinstance(block, np.ndarray) else np.asarray(block)

    return read


def _h5_csr_reader(group, recycle_rows: int = 0) -> Callable[[int, int], sp.csr_matrix]:
    """Blocks of an on-disk CSR matrix (an ``.h5ad`` opened ``backed='r'``) straight from HDF5.

    Reading the ``data``/``indices`` slices with h5py measured about 3x faster than slicing
    anndata's backed dataset (1.2 s vs 3.8 s for 167M non-zeros in 20,000-row blocks), which
    builds each block through its general indexing path; reading into recycled arrays
    (``recycle_rows`` > 0: blocks of at most that many rows) halves it again, as fresh
    block-sized arrays cost a page fault per 4 kB.
    """
    indptr = group["indptr"][:]
    data, indices = group["data"], group["indices"]
    n_cols = int(group.attrs["shape"][1])
    ring = None
    if recycle_rows > 0:
        rows = min(recycle_rows, len(indptr) - 1)
        size = int((indptr[rows:] - indptr[:-rows]).max()) if rows > 0 else 0
        # three: one being used, one being filled by the read-ahead thread, one spare
        ring = itertools.cycle(
            [(np.empty(size, data.dtype), np.empty(size, indices.dtype)) for _ in range(3)]
        )

    def read(start: int, stop: int) -> sp.csr_matrix:
        lo, hi = int(indptr[start]), int(indptr[stop])
        # same index dtype as ``indices``, or scipy would copy them to a common one
        ptr = (indptr[start : stop + 1] - lo).astype(indices.dtype)
        if ring is None:
            values, cols = data[lo:hi], indices[lo:hi]
        else:
            values, cols = (a[: hi - lo] for a in next(ring))
            if hi > lo:
                data.read_direct(values, np.s_[lo:hi])
                indices.read_direct(cols, np.s_[lo:hi])
        return sp.csr_matrix((values, cols, ptr), shape=(stop - start, n_cols), copy=False)

    return read
