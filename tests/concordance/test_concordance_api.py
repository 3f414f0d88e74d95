"""concordance() and gene_set_concordance() on planted tables; the GMT reader; bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalcell import concordance as cc
from causalcell._errors import InputError

GMT = Path(__file__).parents[1] / "data" / "concordance" / "go_bp_iron_antigen.gmt"


def _tables(genes, agree_in: str, rng, strength: float = 3.0, agree_genes=None):
    """DML table over cell types A, B, C and an MR table; DML follows MR in ``agree_in``."""
    n = len(genes)
    mr_z = rng.normal(size=n)
    if agree_genes is not None:
        mr_z[agree_genes] += strength
    mr = pd.DataFrame({"gene": genes, "estimate": mr_z * 0.1, "se": 0.1})
    mr["pval"] = 2 * (1 - stats.norm.cdf(np.abs(mr_z)))
    rows = []
    for ct in ("A", "B", "C"):
        z = rng.normal(size=n)
        if ct == agree_in:
            z = z + (
                mr_z
                if agree_genes is None
                else np.where(np.isin(np.arange(n), agree_genes), mr_z, 0)
            )
        rows.append(pd.DataFrame({"cell_type": ct, "gene": genes, "estimate": z * 2.0, "se": 2.0}))
    dml = pd.concat(rows, ignore_index=True)
    dml["pval"] = 2 * (1 - stats.norm.cdf(np.abs(dml["estimate"] / 2.0)))
    return dml, mr


def test_concordance_only_where_planted():
    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(200)]
    dml, mr = _tables(genes, "B", rng, agree_genes=np.arange(20))
    out = cc.concordance(dml, mr, n_perm=999, rng=0)
    assert list(out.columns) == cc.SUMMARY_COLUMNS
    b = out.set_index("cell_type")
    assert b.loc["B", "pval"] < 0.01 and b.loc["B", "r"] > 0.3
    assert b.loc["A", "pval"] > 0.05 and b.loc["C", "pval"] > 0.05
    assert b.loc["B", "sign_agreement"] > 0.9 and b.loc["B", "top_pval"] < 1e-3
    assert (b["n_genes"] == 200).all() and (b["top"] == 20).all()


def test_merge_keeps_common_genes_and_computes_z():
    dml = pd.DataFrame(
        {
            "cell_type": "A",
            "gene": ["x", "y", "z"],
            "estimate": [1.0, 2.0, 3.0],
            "se": 1.0,
            "pval": 0.5,
        }
    )
    mr = pd.DataFrame(
        {"gene": ["y", "z", "w"], "estimate": [0.2, -0.3, 0.1], "se": 0.1, "pval": 0.1}
    )
    merged = cc.merge_effects(dml, mr)
    assert list(merged["gene"]) == ["y", "z"]
    np.testing.assert_allclose(merged["mr_z"], [2.0, -3.0])
    assert "mr_fdr" in merged


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d, m: (d.drop(columns="se"), m), "DML table lacks"),
        (lambda d, m: (d, m.drop(columns="pval")), "MR table lacks"),
        (lambda d, m: (d, m.assign(gene="other")), "gene twice"),
        (lambda d, m: (d, m.assign(gene=[f"h{i}" for i in range(len(m))])), "no gene is in both"),
    ],
)
def test_bad_input(change, match):
    dml, mr = _tables([f"g{i}" for i in range(20)], "A", np.random.default_rng(1))
    with pytest.raises(InputError, match=match):
        cc.concordance(*change(dml, mr), n_perm=9, rng=0)


def test_read_gmt():
    sets = cc.read_gmt(GMT)
    assert set(sets) == {"GO:0006826", "GO:0006879", "GO:0055072", "GO:0019882"}
    name, genes = sets["GO:0006826"]
    assert name == "iron ion transport" and {"SLC40A1", "CP"} <= genes


def test_read_gmt_errors(tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_text("GO:1\tonly two fields\n")
    with pytest.raises(InputError, match="line 1"):
        cc.read_gmt(bad)
    with pytest.raises(InputError, match="cannot read"):
        cc.read_gmt(tmp_path / "missing.gmt")


def test_pathway_view_finds_the_planted_iron_transport_set():
    """Real GO symbols: iron-transport genes concordant in cell type B, nothing else."""
    sets = cc.read_gmt(GMT)
    genes = sorted(set().union(*(g for _, g in sets.values())))
    iron = sorted(sets["GO:0006826"][1])
    rng = np.random.default_rng(2)
    idx = np.flatnonzero(np.isin(genes, iron))
    dml, mr = _tables(genes, "B", rng, strength=3.0, agree_genes=idx)
    out = cc.gene_set_concordance(dml, mr, GMT, n_perm=999, rng=0)
    assert list(out.columns) == cc.SET_COLUMNS
    b = out[out["cell_type"] == "B"].set_index("gene_set")
    assert b.loc["GO:0006826", "pval"] < 0.01
    assert b.loc["GO:0019882", "pval"] > 0.05
    drivers = set(b.loc["GO:0006826", "drivers"].split(","))
    assert drivers and drivers <= set(iron)
    other = out[out["cell_type"] != "B"]
    assert (other.set_index("gene_set").loc["GO:0006826", "pval"] > 0.01).all()
    # a mapping of sets works like the file
    again = cc.gene_set_concordance(dml, mr, {"iron": iron}, n_perm=999, rng=0)
    assert again[again["cell_type"] == "B"]["pval"].iloc[0] < 0.01
