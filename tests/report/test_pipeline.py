"""The pipeline's prediction check, with and without gene sets."""

import causalcell as cc
from causalcell import pipeline
from causalcell.pipeline import run


def test_prediction_check_adds_auto_with_gene_sets(tmp_path, monkeypatch):
    # a large screen holds out only some targets in turn (each refits every model)
    monkeypatch.setattr(pipeline, "MAX_HELD_OUT", 6)
    sim = cc.sim.simulate("small", rng=0)
    cells = cc.io.validate_cells(sim.adata)
    targets = sorted(set(cells.obs["perturbation"]) - {"control"})
    singles = [t for t in targets if "+" not in t]
    sets = {"odd": singles[::2], "even": singles[1::2]}
    ctx = run(cells, tmp_path / "out", rng=0, gene_sets=sets)
    summary = ctx.results["prediction_summary"]
    assert {"auto", "auto + gene sets", "train_mean"} <= set(summary.index)
    # every target is a measured gene here, so the gene sets change no prediction
    assert (
        summary.loc["auto + gene sets", "pearson_delta_top20"]
        == summary.loc["auto", "pearson_delta_top20"]
    )
    assert summary.loc["auto", "pearson_delta_top20"] > summary.loc["train_mean", "ci_high"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "auto + gene sets" in html
    assert f"6 of the {len(singles)} targets, drawn at random" in html
