"""Readers of the bundled real data: shapes, labels and published or documented numbers."""

import numpy as np
import pandas as pd
import pytest

from causalcell import InputError
from causalcell.datasets import (
    dream4,
    go_biological_process,
    sachs2005,
    sachs_consensus,
    yeast_tf_perturbation,
    yeast_tf_targets,
)
from causalcell.io import validate_cells
from causalcell.network import evaluate


@pytest.mark.parametrize(("network", "n_edges"), [(1, 176), (2, 249), (3, 195)])
def test_dream4_size100_gold_standards_have_the_challenge_edge_counts(network, n_edges):
    a = dream4(network, data=("knockouts", "knockdowns", "timeseries"))
    assert len(a.uns["gold_standard"]) == n_edges
    assert a.n_vars == 100 and a.obs_names.is_unique
    ts = a.obs[a.obs["perturbation_type"] == "timeseries"]
    assert ts["series"].nunique() == 10 and (ts.groupby("series").size() == 21).all()
    assert ts["time"].min() == 0 and ts["time"].max() == 1000
    # a knockout sets its gene to 0 (DREAM4 knockouts are deletions)
    ko = a[a.obs["perturbation_type"] == "knockout"]
    assert (np.diag(ko.X) < 0.01).all()  # (measurement noise leaves 0.002 on one gene)
    validate_cells(a, expression="log")


def test_dream4_multifactorial_size100_comes_alone_with_its_own_gold_standard():
    mf = dream4(1, data=("multifactorial",))
    assert mf.shape == (100, 100) and (mf.obs["perturbation"] == "control").all()
    assert len(mf.uns["gold_standard"]) == 176  # same count as network 1, other labels
    ko_gold = dream4(1).uns["gold_standard"]
    shared = pd.merge(mf.uns["gold_standard"], ko_gold[["source", "target"]])
    assert len(shared) <= 12  # SOURCE.md: 0-12 shared edges
    with pytest.raises(InputError, match="other gene labels"):
        dream4(1, data=("knockouts", "multifactorial"))
    with pytest.raises(InputError):
        dream4(4)  # size-100 networks 4-5 are not in the project's data


def test_dream4_size10_all_kinds():
    a = dream4(2, size=10, data=("knockouts", "knockdowns", "multifactorial", "timeseries"))
    counts = a.obs["perturbation_type"].value_counts()
    assert counts["knockout"] == counts["knockdown"] == counts["multifactorial"] == 10
    assert counts["timeseries"] == 5 * 21 and counts["none"] == 1


def test_sachs_conditions_and_consensus_graphs():
    a = sachs2005()
    assert a.shape == (7466, 11)
    sizes = a.obs.groupby("condition", observed=True).size()
    assert sizes["cd3cd28"] == 853 and sizes["b2camp"] == 707 and sizes["pma"] == 913
    assert (a.obs["perturbation"] == "control").sum() == 853 + 902
    np.testing.assert_allclose(np.exp(a.X), a.layers["intensity"])
    bp, cdt = sachs_consensus("benchpress"), sachs_consensus("cdt")
    assert len(bp) == 17 and len(cdt) == 18
    assert len(pd.merge(bp, cdt)) == 13  # SOURCE.md: 5 cdt-only, 4 benchpress-only edges
    assert set(cdt["source"]) | set(cdt["target"]) <= set(a.var_names)
    # documented sanity check: U0126 (Mek inhibitor) drops Erk 14.9 -> 2.7 (medians)
    erk = pd.Series(a.layers["intensity"][:, list(a.var_names).index("Erk")], index=a.obs_names)
    med = erk.groupby(a.obs["condition"].to_numpy()).median()
    assert med["cd3cd28"] == pytest.approx(14.9, abs=0.1)
    assert med["cd3cd28+u0126"] == pytest.approx(2.7, abs=0.1)


def test_yeast_perturbations_align_and_reproduce_the_documented_baseline_aupr():
    """SOURCE.md: |log2FC| as edge score vs Tchourine 2018 (80 TFs x 285 genes): KO 0.173,
    ZEV 0.198."""
    gold = yeast_tf_targets()
    assert len(gold) == 1403 and set(gold["sign"]) == {-1, 1}
    for kind, expected in (("deletion", 0.173), ("induction", 0.198)):
        a = yeast_tf_perturbation(kind)
        assert a.shape == (180, 573) and (a.obs["perturbation"] == "control").sum() == 1
        tfs = a.obs_names[a.obs["perturbation"] != "control"]
        tf_names = a.obs.loc[tfs, "perturbation"].to_numpy()
        sources = [t for t in tf_names if t in set(gold["source"])]
        targets = [g for g in a.var_names if g in set(gold["target"])]
        assert len(sources) == 80 and len(targets) == 285
        values = np.abs(a[tfs].X)
        i, j = np.nonzero(np.ones_like(values, bool))
        edges = pd.DataFrame(
            {"source": tf_names[i], "target": a.var_names[j], "weight": 0.0, "score": values[i, j]}
        )
        aupr = evaluate(edges, gold, sources=sources, targets=targets)["aupr"]
        assert aupr == pytest.approx(expected, abs=0.0015)


def test_yeast_readers_reject_bad_input():
    with pytest.raises(InputError, match="kind"):
        yeast_tf_perturbation("degron")
    with pytest.raises(InputError, match="not shipped"):
        yeast_tf_targets("yeastract")


def test_go_biological_process_holds_the_propagated_terms_and_known_pathways():
    sets = go_biological_process()
    assert len(sets) == 9006
    sizes = [len(genes) for _, genes in sets.values()]
    assert min(sizes) >= 5 and max(sizes) <= 500
    name, genes = sets["GO:0060333"]
    assert name == "interferon-gamma-mediated signaling pathway"
    assert {"IFNGR1", "IFNGR2", "JAK1", "JAK2", "STAT1", "IRF1"} <= genes
    # propagation: a gene of a child term is in its ancestors (response to interferon-gamma)
    assert genes <= sets["GO:0034341"][1]
