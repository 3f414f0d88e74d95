"""Reading, validating and normalising cells (the input contract)."""

from causalcell.io._blocks import iter_row_blocks
from causalcell.io._labels import (
    CONTROL,
    is_control_part,
    normalize_label,
    normalize_labels,
    split_label,
)
from causalcell.io._read import read_cells
from causalcell.io._validate import Cells, canonical_obs, validate_cells
from causalcell.io._write import write_csv_atomic, write_h5ad_atomic

__all__ = [
    "CONTROL",
    "Cells",
    "canonical_obs",
    "is_control_part",
    "iter_row_blocks",
    "normalize_label",
    "normalize_labels",
    "read_cells",
    "split_label",
    "validate_cells",
    "write_csv_atomic",
    "write_h5ad_atomic",
]
