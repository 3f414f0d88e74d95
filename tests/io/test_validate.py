import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from causalcell import InputError
from causalcell.io import read_cells, validate_cells


def _cells(X=None, perturbation=("control", "A", "A", "control"), genes=("g1", "g2")):
    X = np.array([[1, 2], [0, 3], [4, 0], [2, 2]]) if X is None else X
    obs = pd.DataFrame(
        {"perturbation": list(perturbation)}, index=[f"c{i}" for i in range(X.shape[0])]
    )
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=list(genes)))


def _scan(cells):
    for _ in cells.blocks(2):
        pass


def test_valid_cells_are_canonical():
    cells = validate_cells(_cells(perturbation=("ctrl", "A", "A", "NT")))
    assert list(cells.obs["perturbation"]) == ["control", "A", "A", "control"]
    _scan(cells)


def test_counts_layer_wins_over_X():
    a = _cells()
    a.layers["counts"] = a.X.copy()
    a.X = np.log1p(a.X.astype(float))
    cells = validate_cells(a)
    _scan(cells)  # X (non-integer) would fail; the counts layer is read instead
    assert cells.X is a.layers["counts"]


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([[1, -2], [0, 3], [4, 0], [2, 2]]), "non-negative"),
        (np.array([[1.5, 2], [0, 3], [4, 0], [2, 2]]), "integers"),
        (np.array([[np.nan, 2], [0, 3], [4, 0], [2, 2]]), "NaN"),
    ],
)
def test_bad_counts(X, message):
    cells = validate_cells(_cells(X=X))
    with pytest.raises(InputError, match=message):
        _scan(cells)


def test_sparse_bad_counts_detected():
    X = sp.csr_matrix(np.array([[1.0, 0], [0, 3], [4, 0], [2, 0.5]]))
    with pytest.raises(InputError, match="integers"):
        _scan(validate_cells(_cells(X=X)))


def test_log_expression_accepts_reals_but_not_nan():
    X = np.array([[0.5, -1.2], [0.1, 3.3], [1.0, 0.0], [2.0, 2.0]])
    _scan(validate_cells(_cells(X=X), expression="log"))
    X[0, 0] = np.inf
    with pytest.raises(InputError, match="NaN or infinite"):
        _scan(validate_cells(_cells(X=X), expression="log"))


def test_missing_perturbation_column():
    a = _cells()
    a.obs = a.obs.rename(columns={"perturbation": "target"})
    with pytest.raises(InputError, match="no column 'perturbation'"):
        validate_cells(a)
    assert validate_cells(a, perturbation_key="target").obs["perturbation"].iloc[0] == "control"


def test_no_control_cells():
    with pytest.raises(InputError, match="no control cells"):
        validate_cells(_cells(perturbation=("A", "B", "A", "B")))


def test_missing_labels():
    a = _cells()
    a.obs.loc["c1", "perturbation"] = np.nan
    with pytest.raises(InputError, match="empty for 1 cells"):
        validate_cells(a)


def test_duplicate_genes():
    with pytest.raises(InputError, match=r"duplicate gene names.*'g1'"):
        validate_cells(_cells(genes=("g1", "g1")))


def test_duplicate_cells():
    a = _cells()
    a.obs_names = ["c0", "c0", "c1", "c2"]
    with pytest.raises(InputError, match="duplicate cell ids"):
        validate_cells(a)


def test_bad_expression_mode():
    with pytest.raises(InputError, match="expression must be one of"):
        validate_cells(_cells(), expression="tpm")


def test_read_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_cells(tmp_path / "nope.h5ad")


def test_read_corrupt_h5ad(tmp_path):
    path = tmp_path / "bad.h5ad"
    path.write_text("not hdf5")
    with pytest.raises(InputError, match=r"not a readable \.h5ad"):
        read_cells(path)
