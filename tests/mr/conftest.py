"""Fixtures for the MR tests: the R package MendelianRandomization example data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "mr"


@pytest.fixture(scope="session")
def lipids() -> pd.DataFrame:
    """Waterworth 2010: 28 lipid variants with CHD log-odds (raw columns)."""
    return pd.read_csv(DATA / "waterworth2010_lipids_chd_28snps.csv")


@pytest.fixture(scope="session")
def ldl_chd(lipids) -> pd.DataFrame:
    """LDL-c -> CHD in the contract's summary-statistics columns."""
    return pd.DataFrame(
        {
            "snp": lipids["snp"],
            "beta_exposure": lipids["ldlc"],
            "se_exposure": lipids["ldlcse"],
            "beta_outcome": lipids["chdlodds"],
            "se_outcome": lipids["chdloddsse"],
        }
    )


@pytest.fixture(scope="session")
def ldl_arrays(lipids) -> tuple[np.ndarray, ...]:
    return tuple(lipids[c].to_numpy() for c in ("ldlc", "ldlcse", "chdlodds", "chdloddsse"))


@pytest.fixture(scope="session")
def calcium() -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Burgess 2015: 6 correlated variants (calcium -> fasting glucose) and their LD matrix."""
    d = pd.read_csv(DATA / "burgess2015_calcium_fastgluc_6snps.csv")
    ld = pd.read_csv(DATA / "burgess2015_calcium_ld_correlation.csv").to_numpy()
    arrays = tuple(d[c].to_numpy() for c in ("calcium", "calciumse", "fastgluc", "fastglucse"))
    return arrays, ld


@pytest.fixture(scope="session")
def reference() -> pd.DataFrame:
    """Vignette results, kept as printed strings (their number of decimals is the tolerance)."""
    ref = pd.read_csv(
        DATA / "reference_results_MendelianRandomization_0.10.0_vignette.csv",
        dtype=str,
        keep_default_na=False,
    )
    return ref.set_index("method")


@pytest.fixture(scope="session")
def twmr_fixture() -> dict:
    return json.loads((DATA / "twmr_fixture_ENSG00000000419.json").read_text())
