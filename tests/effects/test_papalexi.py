"""The effects engine on the real Papalexi et al. 2021 screen: published biology and calibration."""

import numpy as np
import pytest

from causalcell.effects import null_calibration
from causalcell.io import validate_cells

MEASURED_TARGETS = [
    "STAT1",
    "JAK2",
    "CMTM6",
    "STAT2",
    "UBE2L6",
    "STAT3",
    "TNFRSF14",
    "IFNGR2",
    "NFKBIA",
]


def _at(e, pert, gene, layer):
    return e.layers[layer][e.obs_names.get_loc(pert), e.var_names.get_loc(gene)]


@pytest.mark.parametrize("target", MEASURED_TARGETS)
def test_on_target_knockdown(papalexi_effects, target):
    e = papalexi_effects
    assert e.obs.loc[target, "target_measured"]
    assert _at(e, target, target, "fdr") < 0.05
    assert _at(e, target, target, "delta") < 0
    assert 0 < e.obs.loc[target, "knockdown"] < 1


@pytest.mark.parametrize("ko", ["IFNGR1", "IFNGR2", "JAK2", "STAT1"])
@pytest.mark.parametrize("gene", ["STAT1", "PSMB9", "UBE2L6", "STAT2"])
def test_interferon_gamma_pathway_knockouts_lower_isgs(papalexi_effects, ko, gene):
    """IFN-gamma receptor/JAK2/STAT1 loss lowers STAT1-dependent interferon-response genes."""
    assert _at(papalexi_effects, ko, gene, "delta") < -0.3
    assert _at(papalexi_effects, ko, gene, "fdr") < 0.05


def test_control_pseudo_perturbations_are_calibrated(papalexi):
    """Random groups of ~300 non-targeting cells vs the other controls: p < 0.05 in 3-7%."""
    cells = validate_cells(papalexi)
    fractions = [
        null_calibration(cells, group_size=300, n_groups=4, rng=s).fraction_below_05
        for s in range(3)
    ]
    assert 0.03 <= np.mean(fractions) <= 0.07
    assert all(0.025 <= f <= 0.08 for f in fractions)


def test_guides_of_measured_targets_report_knockdown(papalexi_effects):
    guides = papalexi_effects.uns["guides"]
    stat1 = guides[guides["perturbation"] == "STAT1"]
    assert len(stat1) == 4
    assert (stat1["knockdown"] > 0.3).sum() >= 3
    # every cell is counted under its guide, but guides with fewer than min_cells cells are dropped
    missing = papalexi_effects.obs["n_cells"].sum() - guides["n_cells"].sum()
    assert 0 <= missing < 3
