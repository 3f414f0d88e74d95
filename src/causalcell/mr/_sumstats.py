"""Reading, validating and harmonising MR summary statistics (one row per variant).

Columns
-------
Required: ``beta_exposure, se_exposure, beta_outcome, se_outcome``.
Optional: ``snp`` (unique id), ``effect_allele``, ``other_allele`` (alleles of the exposure
GWAS, to which the betas refer), ``effect_allele_outcome``, ``other_allele_outcome`` (alleles
of the outcome GWAS when they may differ), ``eaf_exposure``, ``eaf_outcome`` (effect allele
frequencies), ``n_exposure``, ``n_outcome`` (sample sizes). Other columns are kept untouched.

Harmonisation
-------------
Only when both allele pairs are present (exposure ``effect_allele/other_allele`` and
``effect_allele_outcome/other_allele_outcome``); otherwise the betas are taken as already
aligned. Alleles are compared case-insensitively, allowing a strand flip (A<->T, C<->G):

- same alleles (possibly on the other strand): kept as is;
- swapped effect and other allele: ``beta_outcome`` (and ``eaf_outcome``) flipped;
- palindromic variants (A/T, C/G), whose strand cannot be read from the alleles: the strand is
  inferred from the allele frequencies; a variant is dropped when a frequency is missing or
  either frequency lies in [0.42, 0.58] (too close to 0.5 to tell, TwoSampleMR's default);
- alleles that do not match at all: dropped.

Dropped variants are logged at WARNING level. After harmonisation the outcome allele columns
equal the exposure ones, so harmonising again changes nothing.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import logger

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "harmonise",
    "read_sumstats",
    "validate_sumstats",
]

REQUIRED_COLUMNS = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
OPTIONAL_COLUMNS = (
    "snp",
    "effect_allele",
    "other_allele",
    "effect_allele_outcome",
    "other_allele_outcome",
    "eaf_exposure",
    "eaf_outcome",
    "n_exposure",
    "n_outcome",
)
_NUMERIC = (*REQUIRED_COLUMNS, "eaf_exposure", "eaf_outcome", "n_exposure", "n_outcome")
AMBIGUOUS_EAF = (0.42, 0.58)
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def read_sumstats(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV of MR summary statistics and validate (and harmonise) it.

    Parameters
    ----------
    path
        CSV file with the columns described in this module's docstring.

    Returns
    -------
    DataFrame
        The validated table (see :func:`validate_sumstats`).
    """
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(
            f"{path}: file not found; give the path of a summary-statistics CSV"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(
            f"{path}: cannot be read as CSV ({err}); give a comma-separated file"
        ) from None
    return validate_sumstats(df, source=str(path))


def _where(df: pd.DataFrame, bad: pd.Series) -> str:
    """Name the first offending row by its snp id when there is one, else by its row number."""
    i = int(np.flatnonzero(bad.to_numpy())[0])
    return f"snp {df['snp'].iloc[i]!r}" if "snp" in df else f"row {i + 1}"


def _check_numeric(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Coerce numeric columns; reject text, NaN, infinite and out-of-range values."""
    df = df.copy()
    numeric = [c for c in _NUMERIC if c in df]
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        text = values.isna() & df[col].notna()
        if text.any():
            raise InputError(
                f"{source}: column {col!r} has a non-numeric value "
                f"{df[col][text].iloc[0]!r} at {_where(df, text)}; fix or remove it"
            )
        df[col] = values.astype(float)
    rules = {
        "beta_exposure": (lambda v: v != 0, "is 0 (not an instrument); remove that SNP"),
        "se_exposure": (lambda v: v > 0, "must be > 0"),
        "se_outcome": (lambda v: v > 0, "must be > 0"),
        "eaf_exposure": (lambda v: v.isna() | ((v >= 0) & (v <= 1)), "must lie in [0, 1]"),
        "eaf_outcome": (lambda v: v.isna() | ((v >= 0) & (v <= 1)), "must lie in [0, 1]"),
        "n_exposure": (lambda v: v > 3, "must be a sample size > 3"),
        "n_outcome": (lambda v: v > 3, "must be a sample size > 3"),
    }
    for col in REQUIRED_COLUMNS:
        bad = ~np.isfinite(df[col])
        if bad.any():
            raise InputError(
                f"{source}: column {col!r} is missing or infinite at {_where(df, bad)}; "
                "fill it in or remove that SNP"
            )
    for col, (ok, what) in rules.items():
        if col in df and (bad := ~ok(df[col])).any():
            value = df[col][bad].iloc[0]
            raise InputError(f"{source}: column {col!r} {what} (got {value} at {_where(df, bad)})")
    return df


def validate_sumstats(df: pd.DataFrame, *, source: str = "sumstats") -> pd.DataFrame:
    """Check a summary-statistics table and return a clean copy (harmonised if possible).

    Parameters
    ----------
    df
        One row per variant, columns as in this module's docstring.
    source
        Name used in error messages (the file name when read from disk).

    Returns
    -------
    DataFrame
        A copy with numeric columns as floats, ``snp`` as strings, and alleles harmonised.

    Raises
    ------
    InputError
        Missing columns, no rows, non-numeric / NaN / infinite values, non-positive standard
        errors, ``beta_exposure == 0``, duplicate ``snp`` ids, or no variant left after
        harmonisation.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{source}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; summary statistics "
            f"need {', '.join(REQUIRED_COLUMNS)} (optional: snp)"
        )
    if len(df) == 0:
        raise InputError(f"{source}: no variants (empty table); give at least one SNP")
    df = _check_numeric(df, source)
    if "snp" in df:
        df["snp"] = df["snp"].astype(str)
        dup = df["snp"].duplicated()
        if dup.any():
            raise InputError(
                f"{source}: duplicate snp id {df['snp'][dup].iloc[0]!r}; keep one row per variant"
            )
    df = harmonise(df)
    if len(df) == 0:
        raise InputError(
            f"{source}: no variant left after allele harmonisation; check the "
            "effect_allele/other_allele columns of exposure and outcome"
        )
    return df.reset_index(drop=True)


def _alleles(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype(str).str.upper().str.strip()


def _flip(s: pd.Series) -> pd.Series:
    return s.str.translate(_COMPLEMENT)


def harmonise(df: pd.DataFrame) -> pd.DataFrame:
    """Align outcome effects to the exposure effect allele (rules in the module docstring).

    Parameters
    ----------
    df
        Summary statistics with ``effect_allele, other_allele, effect_allele_outcome,
        other_allele_outcome`` (returned unchanged if any is missing).

    Returns
    -------
    DataFrame
        The kept variants, ``beta_outcome`` / ``eaf_outcome`` flipped where needed.
    """
    cols = ("effect_allele", "other_allele", "effect_allele_outcome", "other_allele_outcome")
    if not all(c in df for c in cols):
        return df
    ea, oa, ea_y, oa_y = (_alleles(df, c) for c in cols)
    same = ((ea_y == ea) & (oa_y == oa)) | ((_flip(ea_y) == ea) & (_flip(oa_y) == oa))
    swapped = ((ea_y == oa) & (oa_y == ea)) | ((_flip(ea_y) == oa) & (_flip(oa_y) == ea))
    palindromic = _flip(ea) == oa
    flip = swapped & ~palindromic
    keep = (same | swapped) & ~palindromic
    if palindromic.any():
        pal_keep, pal_flip = _palindromic(df, swapped)
        pal_keep &= palindromic & (same | swapped)
        keep |= pal_keep
        flip |= pal_keep & pal_flip
    out = df.copy()
    out.loc[flip, "beta_outcome"] *= -1
    if "eaf_outcome" in out:
        out.loc[flip, "eaf_outcome"] = 1 - out.loc[flip, "eaf_outcome"]
    out["effect_allele_outcome"], out["other_allele_outcome"] = ea, oa
    out["effect_allele"], out["other_allele"] = ea, oa
    if (~keep).any():
        dropped = out.loc[~keep, "snp"].tolist() if "snp" in out else np.flatnonzero(~keep).tolist()
        logger.warning(
            "harmonisation dropped %d variant(s) with mismatched or ambiguous "
            "palindromic alleles: %s",
            len(dropped),
            dropped,
        )
    if flip.any():
        logger.info("harmonisation flipped the outcome effect of %d variant(s)", int(flip.sum()))
    return out.loc[keep]


def _palindromic(df: pd.DataFrame, swapped: pd.Series) -> tuple[pd.Series, pd.Series]:
    """For A/T and C/G variants: which can be kept, and which need the outcome flipped.

    The outcome frequency of the exposure effect allele, read as labelled, should fall on the
    same side of 0.5 as the exposure one; if not, the outcome is on the other strand.
    """
    if "eaf_exposure" not in df or "eaf_outcome" not in df:
        false = pd.Series(False, index=df.index)
        return false, false
    fx = df["eaf_exposure"]
    fy = df["eaf_outcome"].where(~swapped, 1 - df["eaf_outcome"])
    lo, hi = AMBIGUOUS_EAF
    clear = fx.notna() & fy.notna() & ~fx.between(lo, hi) & ~fy.between(lo, hi)
    same_side = (fx > 0.5) == (fy > 0.5)
    return clear, swapped == same_side
