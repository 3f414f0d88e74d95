"""`causalcell simulate` (population) -> `dml` -> `concordance`, through the CLI entry point."""

from __future__ import annotations

import pandas as pd

from causalcell import concordance as cc
from causalcell import sim
from causalcell.cli import main


def test_concordance_command(tmp_path):
    data = sim.simulate(
        "population", rng=0, n_genes=60, n_donors=60, cells_per_donor=5, n_gwas=2000
    )
    data.write(tmp_path / "pop")
    dml_csv = tmp_path / "dml.csv"
    cells = tmp_path / "pop" / "cells.h5ad"
    assert main(["dml", str(cells), "--out", str(dml_csv), "--n-folds", "3"]) == 0
    gmt = tmp_path / "modules.gmt"
    var = data.adata.var
    gmt.write_text(
        "".join(
            f"M{m}\tmodule {m}\t" + "\t".join(var.index[var["module"] == m]) + "\n"
            for m in sorted(var["module"].unique())
        )
    )
    out = tmp_path / "conc.csv"
    fig = tmp_path / "conc.png"
    sumstats = tmp_path / "pop" / "sumstats.csv"
    args = ["concordance", str(dml_csv), str(sumstats), "--out", str(out), "--n-perm", "99"]
    assert main([*args, "--gene-sets", str(gmt), "--figure", str(fig)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == cc.SUMMARY_COLUMNS and len(table) == 3
    sets = pd.read_csv(tmp_path / "conc.gene_sets.csv")
    assert list(sets.columns) == cc.SET_COLUMNS
    assert fig.stat().st_size > 1000
    assert main(["concordance", str(dml_csv), str(tmp_path / "nope.csv"), "--out", str(out)]) == 2
