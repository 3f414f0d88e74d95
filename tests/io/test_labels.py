import pandas as pd
import pytest

from causalcell.io import CONTROL, normalize_label, normalize_labels, split_label


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("STAT1", "STAT1"),
        ("ctrl", CONTROL),
        ("Non-Targeting", CONTROL),
        ("NT", CONTROL),
        ("non_targeting", CONTROL),
        ("control", CONTROL),
        ("A+ctrl", "A"),
        ("ctrl+A", "A"),
        ("ctrl+ctrl", CONTROL),
        ("JAK2+IRF1", "IRF1+JAK2"),
        ("IRF1 + JAK2", "IRF1+JAK2"),
        ("B+A+B", "A+B"),
    ],
)
def test_normalize_label(raw, expected):
    assert normalize_label(raw) == expected


@pytest.mark.parametrize("raw", [None, float("nan"), "", "  "])
def test_missing_label_raises(raw):
    with pytest.raises(ValueError, match="label"):
        normalize_label(raw)


def test_normalize_labels_vectorised_matches_scalar():
    raw = pd.Series(["ctrl", "B+A", "A+B", "NT", "C"] * 3)
    out = normalize_labels(raw)
    assert list(out) == [normalize_label(x) for x in raw]
    assert set(out.categories) == {CONTROL, "A+B", "C"}


def test_split_label():
    assert split_label(CONTROL) == []
    assert split_label("A+B") == ["A", "B"]
