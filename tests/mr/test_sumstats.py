"""Reading, validation and allele harmonisation of summary statistics."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from causalcell import InputError, mr


def table(**extra) -> pd.DataFrame:
    base = {
        "snp": ["rs1", "rs2", "rs3", "rs4"],
        "beta_exposure": [0.1, -0.2, 0.15, 0.05],
        "se_exposure": [0.01, 0.02, 0.01, 0.01],
        "beta_outcome": [0.05, -0.1, 0.07, 0.03],
        "se_outcome": [0.02, 0.02, 0.03, 0.02],
    }
    return pd.DataFrame(base | extra)


def test_read_sumstats_roundtrip(tmp_path, ldl_chd):
    path = tmp_path / "sumstats.csv"
    ldl_chd.to_csv(path, index=False)
    got = mr.read_sumstats(path)
    pd.testing.assert_frame_equal(got, ldl_chd)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.drop(columns="se_outcome"), "missing column.*se_outcome"),
        (lambda d: d.assign(beta_outcome=[0.1, np.nan, 0.1, 0.1]), "beta_outcome.*snp 'rs2'"),
        (lambda d: d.assign(se_exposure=[0.01, 0.0, 0.01, 0.01]), "se_exposure.*> 0"),
        (lambda d: d.assign(se_outcome=[0.01, -1, 0.01, 0.01]), "se_outcome.*> 0"),
        (lambda d: d.assign(snp=["rs1", "rs1", "rs3", "rs4"]), "duplicate snp id 'rs1'"),
        (lambda d: d.assign(beta_exposure=["0.1", "x", "0.2", "0.1"]), "non-numeric.*'x'"),
        (lambda d: d.assign(beta_exposure=[0.1, 0.0, 0.2, 0.1]), "beta_exposure.*is 0"),
        (lambda d: d.assign(eaf_exposure=[0.1, 1.2, 0.2, 0.1]), "eaf_exposure.*\\[0, 1\\]"),
        (lambda d: d.iloc[:0], "no variants"),
    ],
)
def test_bad_input_is_one_clear_error(change, match):
    with pytest.raises(InputError, match=match):
        mr.validate_sumstats(change(table()))


def test_read_sumstats_names_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    table().drop(columns="beta_exposure").to_csv(path, index=False)
    with pytest.raises(InputError, match=r"bad\.csv: missing column"):
        mr.read_sumstats(path)
    with pytest.raises(InputError, match="file not found"):
        mr.read_sumstats(tmp_path / "absent.csv")


def test_row_number_when_no_snp_column():
    with pytest.raises(InputError, match="row 2"):
        mr.validate_sumstats(table(se_outcome=[0.1, -1, 0.1, 0.1]).drop(columns="snp"))


def alleles(ea_y, oa_y, eaf_y=(0.2, 0.3, 0.2, 0.1)):
    return table(
        effect_allele=["A", "A", "A", "G"],
        other_allele=["G", "T", "G", "A"],
        effect_allele_outcome=ea_y,
        other_allele_outcome=oa_y,
        eaf_exposure=[0.2, 0.3, 0.2, 0.1],
        eaf_outcome=list(eaf_y),
    )


def test_harmonise_flips_swapped_alleles():
    df = mr.harmonise(alleles(["G", "A", "A", "A"], ["A", "T", "G", "G"], (0.8, 0.3, 0.2, 0.9)))
    np.testing.assert_allclose(df["beta_outcome"], [-0.05, -0.1, 0.07, -0.03])
    np.testing.assert_allclose(df["eaf_outcome"], [0.2, 0.3, 0.2, 0.1])
    assert (df["effect_allele_outcome"] == df["effect_allele"]).all()


def test_harmonise_accepts_other_strand():
    df = mr.harmonise(alleles(["t", "A", "C", "T"], ["c", "T", "T", "C"]))  # rs1 complement
    assert df["beta_outcome"].tolist()[0] == 0.05
    assert df["beta_outcome"].tolist()[2] == -0.07  # C/T = complement of G/A swapped


def test_harmonise_palindromic_by_frequency(caplog):
    # rs2 is A/T. Outcome frequency 0.7 for "A" contradicts exposure 0.3: other strand, flip.
    df = mr.harmonise(alleles(["A", "A", "A", "G"], ["G", "T", "G", "A"], (0.2, 0.7, 0.2, 0.1)))
    assert df.set_index("snp").loc["rs2", "beta_outcome"] == 0.1
    # Intermediate frequency: ambiguous, dropped with a warning.
    amb = alleles(["A", "A", "A", "G"], ["G", "T", "G", "A"]).assign(
        eaf_exposure=[0.2, 0.5, 0.2, 0.1]
    )
    with caplog.at_level(logging.WARNING, logger="causalcell"):
        df = mr.harmonise(amb)
    assert "rs2" not in df["snp"].tolist()
    assert "rs2" in caplog.text


def test_harmonise_drops_mismatch_and_is_idempotent():
    df = mr.validate_sumstats(alleles(["C", "A", "A", "G"], ["G", "T", "G", "A"]))
    assert df["snp"].tolist() == ["rs2", "rs3", "rs4"]
    pd.testing.assert_frame_equal(mr.validate_sumstats(df), df)


def test_no_variant_left_after_harmonisation():
    bad = alleles(["C", "C", "C", "C"], ["A", "A", "A", "A"])
    with pytest.raises(InputError, match="no variant left after allele harmonisation"):
        mr.validate_sumstats(bad)


def test_without_outcome_alleles_nothing_changes():
    df = table(effect_allele=["A", "A", "C", "G"], other_allele=["G", "T", "G", "A"])
    pd.testing.assert_frame_equal(mr.harmonise(df), df)
