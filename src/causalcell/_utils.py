"""Small shared helpers: random generators, atomic writes, logging."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

logger = logging.getLogger("causalcell")
logger.addHandler(logging.NullHandler())

RngLike = int | np.random.Generator | None


def group_indicator(codes: np.ndarray, n_groups: int | None = None):
    """Sparse groups x rows matrix with a 1 where row ``i`` is in group ``codes[i]``: summing
    rows by group is then one sparse product (``group_indicator(codes) @ X``)."""
    from scipy import sparse

    codes = np.asarray(codes)
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    return sparse.csr_matrix(
        (np.ones(codes.size), (codes, np.arange(codes.size))), shape=(n_groups, codes.size)
    )


def as_rng(rng: RngLike) -> np.random.Generator:
    """Resolve an ``rng`` argument (seed, generator or None) into a Generator, once."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and not isinstance(rng, int | np.integer):
        raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng)!r}")
    return np.random.default_rng(rng)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    Readers never see a half-written file and a failure leaves any previous file untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
