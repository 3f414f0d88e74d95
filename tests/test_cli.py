"""The command line: contract outputs, one clear error line on bad input, inputs untouched."""

import hashlib

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from causalcell.cli import main


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cells_file(tmp_path, screen):
    adata, _ = screen
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    return path


def test_effects_command_writes_contract_output(tmp_path, cells_file, capsys):
    before = _digest(cells_file)
    out = tmp_path / "effects.h5ad"
    assert main(["effects", str(cells_file), "--out", str(out), "--seed", "1"]) == 0
    e = ad.read_h5ad(out)
    assert {"delta", "se", "pval", "fdr"} <= set(e.layers)
    assert {"n_cells", "knockdown"} <= set(e.obs.columns)
    assert list(e.obs_names) == ["A", "B"]
    assert _digest(cells_file) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_effects_is_reproducible(tmp_path, cells_file):
    outs = [tmp_path / f"e{i}.h5ad" for i in range(2)]
    for out in outs:
        assert main(["effects", str(cells_file), "--out", str(out), "--seed", "3"]) == 0
    a, b = (ad.read_h5ad(o) for o in outs)
    np.testing.assert_array_equal(a.layers["pval"], b.layers["pval"])
    pd.testing.assert_frame_equal(a.uns["cells"], b.uns["cells"])


def _bad_inputs(screen):
    adata, _ = screen

    def no_control(a):
        a.obs["perturbation"] = a.obs["perturbation"].astype(str).replace("control", "A")

    def negative(a):
        a.X = a.X.toarray()
        a.X[3, 2] = -1

    def non_integer(a):
        a.X = a.X.astype(float)
        a.X[5, 1] = 0.5

    def nan(a):
        a.X = a.X.toarray().astype(float)
        a.X[0, 0] = np.nan

    def duplicate_genes(a):
        a.var_names = ["G0"] * 2 + list(a.var_names[2:])

    def no_column(a):
        del a.obs["perturbation"]

    def empty_label(a):
        a.obs["perturbation"] = a.obs["perturbation"].astype(str)
        a.obs.iloc[4, a.obs.columns.get_loc("perturbation")] = ""

    def guide_two_targets(a):
        a.obs["guide"] = a.obs["guide"].astype(str)
        a.obs.iloc[-1, a.obs.columns.get_loc("guide")] = "A_g0"

    cases = {
        "no control": (no_control, "no control cells"),
        "negative": (negative, "non-negative"),
        "non-integer": (non_integer, "integers"),
        "nan": (nan, "NaN"),
        "duplicate genes": (duplicate_genes, "duplicate gene names"),
        "no perturbation column": (no_column, "no column 'perturbation'"),
        "empty label": (empty_label, "is empty for 1 cells"),
        "guide with two targets": (guide_two_targets, "two different perturbations"),
    }
    for name, (mutate, message) in cases.items():
        a = adata.copy()
        mutate(a)
        yield name, a, message


def test_bad_input_gives_one_clear_line(tmp_path, screen, capsys):
    for name, adata, message in _bad_inputs(screen):
        path = tmp_path / f"{name.replace(' ', '_')}.h5ad"
        adata.write_h5ad(path)
        before = _digest(path)
        out = tmp_path / "out.h5ad"
        code = main(["effects", str(path), "--out", str(out)])
        err = capsys.readouterr().err.strip()
        assert code == 2, name
        assert len(err.splitlines()) == 1, (name, err)
        assert message in err, (name, err)
        assert "Traceback" not in err
        assert not out.exists(), name
        assert _digest(path) == before, name


def test_failed_run_keeps_previous_output(tmp_path, cells_file, capsys):
    out = tmp_path / "effects.h5ad"
    out.write_text("previous")
    bad = tmp_path / "bad.csv"
    bad.write_text("cell,perturbation,g1\nc1,A,1\n")
    assert main(["effects", str(bad), "--out", str(out)]) == 2
    assert out.read_text() == "previous"


def test_missing_file_and_usage_errors(tmp_path, capsys):
    assert main(["effects", str(tmp_path / "nope.h5ad"), "--out", str(tmp_path / "o.h5ad")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["effects"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Missing argument" in err
    assert main(["--help"]) == 0


def test_run_writes_report(tmp_path, cells_file):
    out = tmp_path / "run"
    assert main(["run", str(cells_file), "--out", str(out), "--seed", "0"]) == 0
    html = (out / "report.html").read_text()
    for section in ("Perturbation effects", "Calibration", "Guides and escaping cells"):
        assert section in html
    assert html.count("data:image/png;base64") >= 4
    assert (out / "effects.h5ad").exists()


def test_log_expression_option(tmp_path):
    rng = np.random.default_rng(0)
    a = ad.AnnData(
        rng.normal(5, 0.2, (12, 3)),
        obs=pd.DataFrame(
            {"perturbation": ["control"] * 8 + ["G0"] * 4}, index=[f"c{i}" for i in range(12)]
        ),
        var=pd.DataFrame(index=["G0", "G1", "G2"]),
    )
    a.X[8:, 0] -= 2
    path = tmp_path / "log.h5ad"
    a.write_h5ad(path)
    out = tmp_path / "e.h5ad"
    assert main(["effects", str(path), "--out", str(out)]) == 2  # negative? no: non-integer counts
    assert main(["effects", str(path), "--out", str(out), "--expression", "log"]) == 0
    assert ad.read_h5ad(out).layers["delta"][0, 0] == pytest.approx(-2, abs=0.3)


def test_predict_command(tmp_path, cells_file, capsys):
    out = tmp_path / "pred.csv"
    listing = tmp_path / "list.txt"
    listing.write_text("B+A\nG7\n")
    assert (
        main(["predict", str(cells_file), "--perturbations", str(listing), "--out", str(out)]) == 0
    )
    pred = pd.read_csv(out, index_col=0)
    assert list(pred.index) == ["B+A", "G7"]
    assert pred.shape[1] == 40
    capsys.readouterr()
    assert (
        main(
            [
                "predict",
                str(cells_file),
                "--perturbations",
                "NOPE",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown perturbation targets" in err[0]
    assert not (tmp_path / "x.csv").exists()
    # a target in the gene sets is known; a broken GMT is a clear error
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("S1\tset one\tNOPE\tA\tB\n")
    args = ["predict", str(cells_file), "--perturbations", "NOPE", "--out", str(tmp_path / "x.csv")]
    assert main([*args, "--gene-sets", str(gmt)]) == 0
    assert pd.read_csv(tmp_path / "x.csv", index_col=0).index.tolist() == ["NOPE"]
    # AnnData output: deltas and their sds as layers, same numbers as the CSV
    h5 = tmp_path / "pred.h5ad"
    assert (
        main(["predict", str(cells_file), "--perturbations", str(listing), "--out", str(h5)]) == 0
    )
    a = ad.read_h5ad(h5)
    assert list(a.obs_names) == ["B+A", "G7"] and {"delta", "sd"} <= set(a.layers)
    assert a.obs["n_targets"].tolist() == [2, 1]
    np.testing.assert_allclose(a.layers["delta"], pred.to_numpy(), rtol=1e-6, atol=1e-9)
    assert (a.layers["sd"] >= 0).all()
    # the bundled GO sets: an annotated gene that is not measured is a known target
    go = ["predict", str(cells_file), "--perturbations", "STAT1", "--out", str(tmp_path / "go.csv")]
    assert main([*go, "--gene-sets", "go"]) == 0
    assert pd.read_csv(tmp_path / "go.csv", index_col=0).index.tolist() == ["STAT1"]
    gmt.write_text("only-one-field\n")
    capsys.readouterr()
    assert main([*args, "--gene-sets", str(gmt)]) == 2
    assert "GMT" in capsys.readouterr().err


def test_network_command(tmp_path, cells_file):
    out = tmp_path / "edges.csv"
    assert main(["network", str(cells_file), "--out", str(out), "--method", "zscore"]) == 0
    edges = pd.read_csv(out)
    assert list(edges.columns) == ["source", "target", "weight", "score"]
    assert edges["score"].is_monotonic_decreasing
    assert main(["network", str(cells_file), "--out", str(out), "--method", "nope"]) == 2


def test_simulate_and_dml_commands(tmp_path):
    sim = tmp_path / "pop"
    assert main(["simulate", "--preset", "population", "--seed", "1", "--out", str(sim)]) == 0
    assert (sim / "cells.h5ad").exists() and (sim / "truth.npz").exists()
    out = tmp_path / "dml.csv"
    assert main(["dml", str(sim / "cells.h5ad"), "--out", str(out), "--n-folds", "3"]) == 0
    table = pd.read_csv(out)
    assert {"cell_type", "gene", "estimate", "se", "pval", "fdr"} <= set(table.columns)
    assert main(["simulate", "--preset", "nope", "--out", str(tmp_path / "x")]) == 2


def test_run_on_log_profiles_one_per_condition(tmp_path):
    """DREAM-style steady states: one profile per condition, --expression log, whole pipeline."""
    from causalcell.datasets import dream4

    a = dream4(1, size=10)
    del a.uns["gold_standard"]
    path = tmp_path / "dream.h5ad"
    a.write_h5ad(path)
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--expression", "log"]) == 0
    edges = pd.read_csv(out / "edges.csv")
    assert len(edges) > 0 and set(edges["source"]) <= set(a.var_names)
    assert ad.read_h5ad(out / "effects.h5ad").n_obs == 10
