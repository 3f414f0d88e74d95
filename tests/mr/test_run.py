"""The runner, the registry, the plots and the package's public surface."""

from __future__ import annotations

import inspect
import logging

import numpy as np
import pandas as pd
import pytest

from causalcell import InputError, mr


def test_default_methods_cover_the_contract(ldl_chd):
    out = mr.mr(ldl_chd, rng=0, options={"mode": {"n_boot": 200}})
    assert list(out.columns[:7]) == list(mr.RESULT_COLUMNS)
    assert {"ivw", "egger", "weighted_median"} <= set(out["method"])
    assert out["method"].tolist() == list(mr.DEFAULT_METHODS)
    assert out[["estimate", "se", "pval", "ci_low", "ci_high"]].notna().all().all()


def test_same_seed_same_table(ldl_chd):
    kw = {"methods": ("weighted_median", "presso"), "options": {"presso": {"n_sim": 200}}}
    pd.testing.assert_frame_equal(mr.mr(ldl_chd, rng=3, **kw), mr.mr(ldl_chd, rng=3, **kw))


def test_every_registered_method_runs(ldl_chd):
    names = [n for n in mr.list_methods().index if n != "wald_ratio"]
    opts = {
        n: {"n_boot": 100}
        for n in ("weighted_median", "simple_median", "mode", "penalized_weighted_median")
    } | {"presso": {"n_sim": 100}}
    out = mr.mr(ldl_chd, methods=names, rng=0, options=opts)
    assert out["method"].tolist() == names


def test_few_snps_skip_with_warning(ldl_chd, caplog):
    with caplog.at_level(logging.WARNING, logger="causalcell"):
        out = mr.mr(ldl_chd.iloc[:2], methods=("ivw", "egger", "weighted_median"))
    assert out["method"].tolist() == ["ivw"]
    assert "skipping egger: needs at least 3 SNPs" in caplog.text
    assert out["se"].iloc[0] == pytest.approx(mr.ivw(*_arrays(ldl_chd.iloc[:2]), model="fixed").se)


def test_one_snp_gives_wald_ratio(ldl_chd):
    out = mr.mr(ldl_chd.iloc[:1], methods=("ivw", "egger"))
    assert out["method"].tolist() == ["wald_ratio", "ivw"]
    row = ldl_chd.iloc[0]
    assert out["estimate"].iloc[0] == pytest.approx(row["beta_outcome"] / row["beta_exposure"])


def test_nothing_can_run_is_an_error(ldl_chd):
    with pytest.raises(InputError, match="none of the MR methods egger"):
        mr.mr(ldl_chd.iloc[:2], methods=("egger",))


def test_unknown_method(ldl_chd):
    with pytest.raises(InputError, match=r"unknown MR method 'ivv'.*ivw"):
        mr.mr(ldl_chd, methods=("ivv",))


def test_kernel_rejects_too_few_snps():
    with pytest.raises(InputError, match="egger needs at least 3 SNPs, got 2"):
        mr.egger([0.1, 0.2], [0.01, 0.01], [0.1, 0.2], [0.01, 0.01])
    with pytest.raises(InputError, match="sy must be > 0"):
        mr.ivw([0.1, 0.2], [0.01, 0.01], [0.1, 0.2], [0.01, 0.0])


def test_ld_is_used_and_aligned_by_snp(calcium):
    (bx, sx, by, sy), ld = calcium
    snps = [f"s{i}" for i in range(6)]
    df = pd.DataFrame(
        {"snp": snps, "beta_exposure": bx, "se_exposure": sx, "beta_outcome": by, "se_outcome": sy}
    )
    ld_df = pd.DataFrame(ld, index=snps, columns=snps).iloc[::-1, ::-1]
    out = mr.mr(df, methods=("ivw", "egger", "weighted_median"), ld=ld_df).set_index("method")
    assert "weighted_median" not in out.index  # assumes independent variants: skipped
    assert out.loc["ivw", "estimate"] == pytest.approx(mr.ivw(bx, sx, by, sy, ld=ld).estimate)
    with pytest.raises(InputError, match="ld is"):
        mr.mr(df, methods=("ivw",), ld=np.eye(5))


def test_alpha_changes_intervals(ldl_chd):
    wide = mr.mr(ldl_chd, methods=("ivw",), alpha=0.01).iloc[0]
    narrow = mr.mr(ldl_chd, methods=("ivw",)).iloc[0]
    assert wide["ci_high"] - wide["ci_low"] > narrow["ci_high"] - narrow["ci_low"]


def test_directionality_needs_sample_sizes(ldl_chd):
    with pytest.raises(InputError, match="n_exposure, n_outcome"):
        mr.directionality(ldl_chd)
    res = mr.directionality(ldl_chd.assign(n_exposure=17_723, n_outcome=30_000))
    assert 0 < res.r2_outcome < res.r2_exposure < 1


def test_registry_metadata():
    table = mr.list_methods()
    assert {
        "ivw",
        "ivw_fixed",
        "egger",
        "weighted_median",
        "simple_median",
        "mode",
        "wald_ratio",
        "presso",
        "penalized_weighted_median",
    } <= set(table.index)
    assert table["reference"].str.len().gt(10).all()
    for name in table.index:
        params = list(inspect.signature(mr.get_method(name).func).parameters)
        assert params[:4] == ["bx", "sx", "by", "sy"], name


def test_public_api_is_documented():
    for name in mr.__all__:
        obj = getattr(mr, name)
        if callable(obj):
            assert inspect.getdoc(obj), name


@pytest.mark.parametrize("plot", [mr.plot_scatter, mr.plot_forest, mr.plot_funnel])
def test_plots_draw(plot, ldl_chd):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = mr.mr(ldl_chd, methods=("ivw", "egger"))
    ax = plot(ldl_chd, results)
    assert ax.has_data()
    plt.close("all")


def _arrays(df):
    return tuple(
        df[c].to_numpy() for c in ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    )
