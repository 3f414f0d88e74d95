"""Readers: .h5ad, 10x matrix folders and CSV count tables, all into AnnData."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell.io._validate import OPTIONAL_OBS

OBS_COLUMNS = ("perturbation", *OPTIONAL_OBS)


def read_cells(path: str | os.PathLike, *, backed: bool = False) -> ad.AnnData:
    """Read cells from an ``.h5ad`` file, a 10x matrix folder or a CSV/TSV count table.

    Parameters
    ----------
    path
        ``.h5ad`` file; a folder with ``matrix.mtx[.gz]``, ``features.tsv[.gz]`` (or
        ``genes.tsv``), ``barcodes.tsv[.gz]`` and a cell annotation table ``obs.csv`` (index =
        barcode, with a ``perturbation`` column); or a ``.csv``/``.tsv[.gz]`` table with one row
        per cell, the first column the cell id, annotation columns (``perturbation``, ``guide``,
        ``batch``, ...) and one column per gene.
    backed
        Open an ``.h5ad`` without loading X into memory (for data larger than RAM).

    Returns
    -------
    AnnData
        Cells x genes, not yet validated (see :func:`causalcell.io.validate_cells`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        return _read_10x_folder(path)
    suffixes = "".join(path.suffixes[-2:]).lower()
    if path.suffix.lower() == ".h5ad":
        try:
            return ad.read_h5ad(path, backed="r" if backed else None)
        except Exception as exc:  # h5py/anndata raise many types for a corrupt file
            raise InputError(f"{path}: not a readable .h5ad file ({exc})") from exc
    if any(suffixes.endswith(s) for s in (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt", ".txt.gz")):
        return _read_table(path)
    raise InputError(f"{path}: unknown format; give an .h5ad file, a 10x folder or a CSV/TSV table")


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.exists():
                return candidate
    return None


def _read_10x_folder(folder: Path) -> ad.AnnData:
    matrix = _first_existing(folder, ("matrix.mtx",))
    features = _first_existing(folder, ("features.tsv", "genes.tsv"))
    barcodes = _first_existing(folder, ("barcodes.tsv",))
    if matrix is None or features is None or barcodes is None:
        raise InputError(
            f"{folder}: not a 10x matrix folder; it needs matrix.mtx, features.tsv (or genes.tsv) "
            "and barcodes.tsv (optionally gzipped)"
        )
    # 10x stores genes x cells; symbols are the second column of features.tsv.
    with _open_text(matrix) as fh:
        X = sp.csr_matrix(scipy.io.mmread(fh).T)
    feats = pd.read_csv(features, sep="\t", header=None)
    genes = feats.iloc[:, 1] if feats.shape[1] > 1 else feats.iloc[:, 0]
    cells = pd.read_csv(barcodes, sep="\t", header=None).iloc[:, 0].astype(str)
    if X.shape != (len(cells), len(genes)):
        raise InputError(
            f"{matrix}: matrix is {X.shape[1]} genes x {X.shape[0]} cells but features/barcodes "
            f"list {len(genes)} genes and {len(cells)} cells"
        )
    if feats.shape[1] > 2:  # keep gene expression only (drop CRISPR guide / antibody features)
        keep = (feats.iloc[:, 2].astype(str) == "Gene Expression").to_numpy()
        if keep.any():
            X, genes = X[:, keep], genes[keep]
    obs = pd.DataFrame(index=pd.Index(cells, name=None))
    obs_file = _first_existing(folder, ("obs.csv",))
    if obs_file is not None:
        obs = _align_obs(pd.read_csv(obs_file, index_col=0), obs.index, obs_file)
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(genes.astype(str))))


def _align_obs(table: pd.DataFrame, cells: pd.Index, source: Path) -> pd.DataFrame:
    table.index = table.index.astype(str)
    missing = cells.difference(table.index)
    if len(missing):
        raise InputError(
            f"{source}: {len(missing)} cell barcodes of the matrix are not in this table "
            f"(first: {missing[0]!r}); the table's first column must list every barcode"
        )
    return table.loc[cells]


def _read_table(path: Path) -> ad.AnnData:
    sep = "\t" if ".tsv" in path.name or ".txt" in path.name else ","
    try:
        table = pd.read_csv(path, sep=sep, index_col=0)
    except Exception as exc:
        raise InputError(f"{path}: could not parse as a table ({exc})") from exc
    obs_cols = [c for c in table.columns if c in OBS_COLUMNS]
    genes = table.columns.difference(obs_cols, sort=False)
    values = table[genes]
    non_numeric = [c for c in genes if not pd.api.types.is_numeric_dtype(values[c])]
    if non_numeric:
        raise InputError(
            f"{path}: gene column {non_numeric[0]!r} is not numeric; annotation columns must be "
            f"named one of {OBS_COLUMNS}"
        )
    X = sp.csr_matrix(values.to_numpy(dtype=np.float64))
    if X.data.size and np.array_equal(X.data, np.round(X.data)):
        X = X.astype(np.int64)
    obs = table[obs_cols].copy()
    obs.index = obs.index.astype(str)
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(genes.astype(str))))
