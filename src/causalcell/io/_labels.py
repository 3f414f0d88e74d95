"""Perturbation labels: one canonical spelling for controls, combinations and guides."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

CONTROL = "control"
SEP = "+"

# Spellings of "no perturbation" seen in public screens (lower-cased, separators unified).
CONTROL_ALIASES = frozenset(
    {
        "control",
        "ctrl",
        "ctl",
        "nt",
        "non-targeting",
        "nontargeting",
        "non_targeting",
        "non targeting",
        "negative",
        "negative_control",
        "negative-control",
        "neg_ctrl",
        "neg-ctrl",
        "scrambled",
        "safe-targeting",
        "safe_targeting",
        "unperturbed",
        "wt",
        "wildtype",
        "wild-type",
    }
)

_PART_SPLIT = re.compile(r"\s*\+\s*")


def is_control_part(part: str) -> bool:
    """Whether one ``+``-separated part of a label means "no perturbation"."""
    return part.strip().lower() in CONTROL_ALIASES


def normalize_label(label: object) -> str:
    """Return the canonical spelling of one perturbation label.

    Control spellings (``ctrl``, ``non-targeting``, ``NT``, ...) become ``"control"``;
    GEARS' ``"A+ctrl"`` becomes ``"A"``; the parts of a combination are de-duplicated and
    sorted, so ``"JAK2+IRF1"`` and ``"IRF1+JAK2"`` are the same perturbation ``"IRF1+JAK2"``.

    Raises
    ------
    ValueError
        If the label is missing (NaN/None) or empty.
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        raise ValueError("missing perturbation label (NaN/None)")
    text = str(label).strip()
    if not text:
        raise ValueError("empty perturbation label")
    parts = {p for p in _PART_SPLIT.split(text) if p and not is_control_part(p)}
    return SEP.join(sorted(parts)) if parts else CONTROL


def normalize_labels(labels: Iterable[object]) -> pd.Categorical:
    """Vectorised :func:`normalize_label`: normalises each distinct label once."""
    series = pd.Series(list(labels) if not isinstance(labels, pd.Series) else labels)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if (codes < 0).any():
        raise ValueError("missing perturbation label (NaN/None)")
    canonical = np.asarray([normalize_label(u) for u in uniques], dtype=object)
    return pd.Categorical(canonical[codes])


def split_label(label: str) -> list[str]:
    """Targets of a canonical label (``[]`` for the control)."""
    return [] if label == CONTROL else label.split(SEP)
