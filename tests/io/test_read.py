import gzip

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from causalcell import InputError
from causalcell.io import read_cells, validate_cells


def _write_10x(folder, counts, genes, barcodes, obs=None):
    folder.mkdir()
    with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, sp.coo_matrix(counts.T))
    pd.DataFrame(
        {"id": [f"ENSG{i}" for i in range(len(genes))], "sym": genes, "type": "Gene Expression"}
    ).to_csv(folder / "features.tsv.gz", sep="\t", header=False, index=False)
    pd.Series(barcodes).to_csv(folder / "barcodes.tsv.gz", sep="\t", header=False, index=False)
    if obs is not None:
        obs.to_csv(folder / "obs.csv")


def test_read_10x_folder(tmp_path):
    counts = np.array([[1, 0, 2], [0, 5, 1]])
    obs = pd.DataFrame({"perturbation": ["ctrl", "A"]}, index=["AAAC-1", "TTTG-1"])
    _write_10x(tmp_path / "tenx", counts, ["g1", "g2", "g3"], ["AAAC-1", "TTTG-1"], obs)
    a = read_cells(tmp_path / "tenx")
    assert a.shape == (2, 3)
    np.testing.assert_array_equal(a.X.toarray(), counts)
    assert list(validate_cells(a).obs["perturbation"]) == ["control", "A"]


def test_10x_obs_must_cover_barcodes(tmp_path):
    counts = np.array([[1, 0, 2], [0, 5, 1]])
    obs = pd.DataFrame({"perturbation": ["ctrl"]}, index=["AAAC-1"])
    _write_10x(tmp_path / "tenx", counts, ["g1", "g2", "g3"], ["AAAC-1", "TTTG-1"], obs)
    with pytest.raises(InputError, match="not in this table"):
        read_cells(tmp_path / "tenx")


def test_not_a_10x_folder(tmp_path):
    with pytest.raises(InputError, match="not a 10x matrix folder"):
        read_cells(tmp_path)


def test_read_csv_table(tmp_path):
    table = pd.DataFrame(
        {"perturbation": ["control", "A"], "batch": ["b1", "b1"], "g1": [1, 0], "g2": [3, 4]},
        index=["c1", "c2"],
    )
    table.to_csv(tmp_path / "cells.csv")
    a = read_cells(tmp_path / "cells.csv")
    assert list(a.var_names) == ["g1", "g2"]
    assert list(a.obs.columns) == ["perturbation", "batch"]
    np.testing.assert_array_equal(a.X.toarray(), [[1, 3], [0, 4]])


def test_csv_with_unknown_text_column(tmp_path):
    pd.DataFrame({"perturbation": ["control"], "donorname": ["x"], "g1": [1]}, index=["c"]).to_csv(
        tmp_path / "cells.csv"
    )
    with pytest.raises(InputError, match="'donorname' is not numeric"):
        read_cells(tmp_path / "cells.csv")


def test_h5ad_roundtrip_backed(tmp_path, screen):
    adata, _ = screen
    adata.write_h5ad(tmp_path / "c.h5ad")
    backed = read_cells(tmp_path / "c.h5ad", backed=True)
    cells = validate_cells(backed)
    blocks = [b for _, b in cells.blocks(100)]
    assert sp.vstack(blocks).nnz == adata.X.nnz


def test_row_blocks_of_backed_file_equal_in_memory_blocks(tmp_path):
    """The HDF5 fast path and the read-ahead thread give exactly the in-memory blocks."""
    from causalcell.io import iter_row_blocks

    rng = np.random.default_rng(0)
    X = sp.random(103, 17, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    X.data = np.ceil(X.data * 5)
    ad.AnnData(X=X.astype(np.int32)).write_h5ad(tmp_path / "x.h5ad")
    backed = ad.read_h5ad(tmp_path / "x.h5ad", backed="r")
    for chunk in (1, 10, 103, 500):
        got = list(iter_row_blocks(backed.X, chunk))
        assert [s for s, _ in got] == list(range(0, 103, chunk))
        stacked = sp.vstack([b for _, b in got])
        assert all(sp.issparse(b) and b.format == "csr" for _, b in got)
        np.testing.assert_array_equal(stacked.toarray(), X.toarray())
        # recycled buffers: each block is right while it is the current one
        for start, block in iter_row_blocks(backed.X, chunk, reuse_buffers=True):
            np.testing.assert_array_equal(block.toarray(), X[start : start + chunk].toarray())
    backed.file.close()
