"""Estimates against the printed output of the R package MendelianRandomization 0.10.0 vignette
and the TWMR reference implementation.

Every deterministic number is checked to the precision it is printed with (half a unit in the
last printed digit). Bootstrap standard errors depend on R's random number generator and are
checked within 2% at seed 0 (issue 6). Measured deviations from R (seed 0, 10,000 draws):
weighted median -1.2%, simple median +0.3%, penalized weighted median -1.3%; MBE -0.4% (2,000
draws, as tested) and +1.5% (10,000). Across seeds 0-9 the Monte Carlo SD of the bootstrap SE
is 0.8% (medians, 10,000 draws), 1.3% (MBE, 10,000) and 2.6% (MBE, 2,000), so another seed can
fall outside 2%; the mean over seeds 0-9 is within 1% of R for all four
(``bench/mr_reference.py``, ``docs/benchmarks/mr_reference.md``).
"""

from __future__ import annotations

import numpy as np
import pytest

from causalcell import mr


def assert_printed(value: float, printed: str, scale: float = 1.0) -> None:
    """``value`` rounds to ``printed`` (``"<0.001"`` and percentages allowed)."""
    printed = printed.strip()
    if printed.startswith("<"):
        assert value < float(printed[1:])
        return
    if printed.endswith("%"):
        printed, scale = printed[:-1], 100.0
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(value * scale - float(printed)) <= 0.5 * 10.0**-decimals + 1e-9, (value, printed)


def assert_row(res: mr.MRResult, row, *, se: bool = True, ci: bool = True) -> None:
    assert_printed(res.estimate, row["estimate"])
    if se:
        assert_printed(res.se, row["std_error"])
        assert_printed(res.pval, row["p_value"])
    if ci:
        assert_printed(res.ci_low, row["ci_lower"])
        assert_printed(res.ci_high, row["ci_upper"])


def test_ivw_random_effects(ldl_arrays, reference):
    res = mr.ivw(*ldl_arrays)
    assert_row(res, reference.loc["IVW"])
    # extra: "RSE=1.920; Cochran Q=99.5304 on 27 df; I2=72.9%; F=28.0"
    assert_printed(res.extras["rse"], "1.920")
    assert_printed(res.extras["q"], "99.5304")
    assert res.extras["q_df"] == 27
    assert_printed(res.extras["i2"], "72.9%")
    assert_printed(res.extras["f_stat"], "28.0")


def test_ivw_fixed_effect(ldl_arrays):
    # SOURCE.md: fixed-effect SE 0.276 (the R package with model = "fixed")
    res = mr.ivw(*ldl_arrays, model="fixed")
    assert_printed(res.estimate, "2.834")
    assert_printed(res.se, "0.276")


def test_ivw_correlated(calcium, reference):
    arrays, ld = calcium
    res = mr.ivw(*arrays, ld=ld)
    assert_row(res, reference.loc["IVW (correlated)"])
    # extra: "RSE=0.641 (set to 1 in CI); Q=2.0530 on 5 df"
    assert_printed(res.extras["rse"], "0.641")
    assert_printed(res.extras["q"], "2.0530")
    assert res.extras["q_df"] == 5


def test_egger(ldl_arrays, reference):
    res = mr.egger(*ldl_arrays)
    assert_row(res, reference.loc["MR-Egger"])
    # extra: "intercept -0.011 (SE 0.015, CI -0.041..0.018, p=0.451); RSE=1.935;
    #         Q=97.3975 on 26 df; I2_GX=91.9%"
    x = res.extras
    for key, printed in [
        ("intercept", "-0.011"),
        ("intercept_se", "0.015"),
        ("intercept_ci_low", "-0.041"),
        ("intercept_ci_high", "0.018"),
        ("intercept_pval", "0.451"),
        ("rse", "1.935"),
        ("q", "97.3975"),
        ("i2_gx", "91.9%"),
    ]:
        assert_printed(x[key], printed)
    assert x["q_df"] == 26


def test_egger_correlated(calcium, reference):
    arrays, ld = calcium
    res = mr.egger(*arrays, ld=ld)
    assert_row(res, reference.loc["MR-Egger (correlated)"])
    # extra: "intercept 0.009 (SE 0.013, p=0.493)"
    assert_printed(res.extras["intercept"], "0.009")
    assert_printed(res.extras["intercept_se"], "0.013")
    assert_printed(res.extras["intercept_pval"], "0.493")


@pytest.mark.parametrize(
    ("func", "label", "n_boot"),
    [
        (mr.weighted_median, "Weighted median", 10_000),
        (mr.simple_median, "Simple median", 10_000),
        (mr.penalized_weighted_median, "Penalized weighted median", 10_000),
        (mr.mode_based, "MBE (Hartwig mode-based)", 2_000),
    ],
)
def test_bootstrap_methods(func, label, n_boot, ldl_arrays, reference):
    row = reference.loc[label]
    res = func(*ldl_arrays, n_boot=n_boot, rng=0)
    assert_printed(res.estimate, row["estimate"])
    assert res.se == pytest.approx(float(row["std_error"]), rel=0.02)


def test_multivariable_ivw(lipids, reference):
    bx = lipids[["ldlc", "hdlc", "trig"]].to_numpy()
    results = mr.mv_ivw(bx, lipids["chdlodds"], lipids["chdloddsse"])
    labels = ["MV-IVW exposure_1 (ldlc)", "MV-IVW exposure_2 (hdlc)", "MV-IVW exposure_3 (trig)"]
    for res, label in zip(results, labels, strict=True):
        assert_row(res, reference.loc[label])
    # extra: "RSE=1.433; Q=51.3599 on 25 df"
    assert_printed(results[0].extras["rse"], "1.433")
    assert_printed(results[0].extras["q"], "51.3599")


def test_mvmr_runner(lipids, reference):
    table = lipids.rename(
        columns={
            "ldlc": "beta_exposure_ldlc",
            "hdlc": "beta_exposure_hdlc",
            "trig": "beta_exposure_trig",
            "chdlodds": "beta_outcome",
            "chdloddsse": "se_outcome",
        }
    )
    out = mr.mvmr(table)
    assert out["exposure"].tolist() == ["ldlc", "hdlc", "trig"]
    assert_printed(out["estimate"].iloc[1], reference.loc["MV-IVW exposure_2 (hdlc)", "estimate"])


def test_twmr_fixture(twmr_fixture):
    f = twmr_fixture
    res = mr.twmr(
        f["E_snp_by_gene"],
        f["G_snp_to_trait"],
        f["C_ld_correlation"],
        n_eqtl=f["N_eQTL"],
        n_gwas=f["N_GWAS"],
    )
    expected = f["expected_focal_gene"]
    np.testing.assert_allclose(
        res.alpha[0], expected["alpha"], rtol=1e-6
    )  # inputs are stored to ~8 digits
    np.testing.assert_allclose(
        res.se[0], expected["se"], rtol=1e-6
    )  # inputs are stored to ~8 digits
    np.testing.assert_allclose(
        res.pval[0], expected["p"], rtol=1e-6
    )  # inputs are stored to ~8 digits
    # the brief's printed digits
    assert round(res.alpha[0], 8) == -0.00579319
    assert round(res.se[0], 8) == 0.00616234
    assert round(res.pval[0], 6) == 0.347168


def test_runner_reproduces_reference(ldl_chd, reference):
    out = mr.mr(ldl_chd, methods=("ivw", "egger", "weighted_median"), rng=0).set_index("method")
    assert_printed(out.loc["ivw", "estimate"], reference.loc["IVW", "estimate"])
    assert_printed(out.loc["ivw", "se"], reference.loc["IVW", "std_error"])
    assert_printed(out.loc["egger", "intercept_pval"], "0.451")
    assert_printed(
        out.loc["weighted_median", "estimate"], reference.loc["Weighted median", "estimate"]
    )
