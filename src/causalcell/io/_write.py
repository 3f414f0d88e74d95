"""Atomic writers: a reader never sees a half-written output."""

from __future__ import annotations

import os

import anndata as ad
import pandas as pd

from causalcell._utils import atomic_path


def write_h5ad_atomic(adata: ad.AnnData, path: str | os.PathLike) -> None:
    """Write ``adata`` to ``path`` via a temporary file moved into place."""
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp)


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> None:
    """Write ``frame`` as CSV to ``path`` atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)
