"""mr_genes: one MR estimate per exposure gene from a long table (transcriptome-wide MR)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalcell import mr
from causalcell._errors import InputError


@pytest.fixture(scope="module")
def long_table():
    rng = np.random.default_rng(0)
    rows = []
    for g, (effect, n) in enumerate([(0.5, 6), (0.0, 4), (-0.3, 1), (0.2, 3)]):
        bx = rng.uniform(0.1, 0.4, n) * rng.choice([-1, 1], n)
        by = effect * bx + rng.normal(0, 0.01, n)
        for k in range(n):
            rows.append((f"G{g}", f"rs{g}_{k}", bx[k], 0.02, by[k], 0.01))
    cols = ["gene", "snp", "beta_exposure", "se_exposure", "beta_outcome", "se_outcome"]
    return pd.DataFrame(rows, columns=cols)


def test_one_row_per_gene_equal_to_the_single_gene_estimators(long_table):
    out = mr.mr_genes(long_table)
    assert list(out.columns) == list(mr.GENE_COLUMNS)
    assert list(out["gene"]) == ["G0", "G1", "G2", "G3"]
    cols = ["beta_exposure", "se_exposure", "beta_outcome", "se_outcome"]
    for _, row in out.iterrows():
        sub = long_table[long_table["gene"] == row["gene"]]
        func = mr.wald_ratio if len(sub) == 1 else mr.ivw
        want = func(*(sub[c].to_numpy() for c in cols))
        assert row["estimate"] == pytest.approx(want.estimate)
        assert row["se"] == pytest.approx(want.se)
        assert row["n_snps"] == len(sub)
    assert out.set_index("gene").loc["G2", "method"] == "wald_ratio"
    g0 = out.set_index("gene").loc["G0"]
    assert abs(g0["estimate"] - 0.5) < 3 * g0["se"]
    assert out.set_index("gene").loc["G1", "pval"] > 0.01


def test_instrument_selection_by_exposure_p_value(long_table):
    weak = long_table.copy()
    weak.loc[weak["gene"] == "G3", "beta_exposure"] = 0.01  # z = 0.5: no instrument left
    out = mr.mr_genes(weak, p_threshold=1e-6)
    assert "G3" not in set(out["gene"]) and len(out) == 3
    assert len(mr.mr_genes(weak)) == 4


def test_egger_skips_genes_with_too_few_variants(long_table):
    out = mr.mr_genes(long_table, method="egger")
    assert set(out["gene"]) == {"G0", "G1", "G3"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"gene_key": "exposure"}, "no 'exposure' column"), ({"method": "mode"}, "resamples")],
)
def test_bad_input(long_table, kwargs, match):
    with pytest.raises(InputError, match=match):
        mr.mr_genes(long_table, **kwargs)
