"""causalcell's MR estimators against the printed output of the R package MendelianRandomization
0.10.0 vignette and the TWMR reference implementation (issue 6).

The data are the package's example data (Waterworth 2010: 28 lipid variants with CHD log-odds;
Burgess 2015: 6 correlated calcium -> fasting-glucose variants with their LD matrix) and the TWMR
example gene ENSG00000000419 of GitHub ``eleporcu/TWMR`` (see ``SOURCE.md`` in the data folder).
For every vignette row that causalcell implements, the script prints R's numbers next to
causalcell's rounded to the same number of printed decimals and says whether they are equal;
the heterogeneity statistics and Egger intercepts printed in the vignette are compared the same
way. Bootstrap standard errors (median estimators, MBE) depend on R's random number generator,
so they are compared as relative differences: at seed 0 (the seed the tests use) and as mean and
SD over seeds 0-9. Vignette rows without a causalcell implementation are listed as such. Last,
the wall time of ``causalcell.mr.mr`` running every registered method on the 28 variants.

Writes ``docs/benchmarks/mr_reference.md`` and ``bench/results/mr_reference.json``.

Usage: ``python bench/mr_reference.py [--data ../shared/data/mr_lipids_chd] [--seeds 10]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import re
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from causalcell import mr
from causalcell._utils import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "mr_reference.json"
MARKDOWN = ROOT / "docs" / "benchmarks" / "mr_reference.md"
SHARED = ROOT.parent / "shared" / "data" / "mr_lipids_chd"
REFERENCE_CSV = "reference_results_MendelianRandomization_0.10.0_vignette.csv"
TWMR_JSON = "twmr_fixture_ENSG00000000419.json"
N_BOOT = 10_000  # the vignette's iterations for the medians and MBE
N_BOOT_MBE_TEST = 2_000  # the MBE draws in tests/mr/test_reference.py
FIELDS = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")
LABELS = dict(zip(FIELDS, ("estimate", "SE", "CI lower", "CI upper", "p"), strict=True))
TWMR_PRINTED = {"alpha": "-0.00579319", "se": "0.00616234", "pval": "0.347168"}  # issue 6


# --- data ------------------------------------------------------------------------------------


def load(data: Path) -> dict:
    """The lipid and calcium data, the LD matrix, the vignette table and the TWMR fixture."""
    lipids = pd.read_csv(data / "waterworth2010_lipids_chd_28snps.csv")
    calcium = pd.read_csv(data / "burgess2015_calcium_fastgluc_6snps.csv")
    ld = pd.read_csv(data / "burgess2015_calcium_ld_correlation.csv").to_numpy()
    ref = pd.read_csv(data / REFERENCE_CSV, dtype=str, keep_default_na=False).set_index("method")
    return {
        "lipids": lipids,
        "ldl": tuple(lipids[c].to_numpy() for c in ("ldlc", "ldlcse", "chdlodds", "chdloddsse")),
        "calcium": tuple(
            calcium[c].to_numpy() for c in ("calcium", "calciumse", "fastgluc", "fastglucse")
        ),
        "ld": ld,
        "reference": ref,
        "twmr": json.loads((data / TWMR_JSON).read_text()),
    }


# --- printed-precision comparison --------------------------------------------------------------


def decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def as_printed(value: float, printed: str) -> str:
    """``value`` in the format of ``printed``: same decimals, percent, ``<x`` bounds, exponent."""
    printed = printed.strip()
    if not printed:
        return f"{value:.4g}"
    if printed.startswith("<"):
        bound = float(printed[1:])
        return printed if value < bound else f"{value:.{decimals(printed[1:])}f}"
    if "e" in printed.lower():
        mantissa = printed.lower().split("e")[0]
        return f"{value:.{decimals(mantissa)}e}"
    if printed.endswith("%"):
        return f"{100 * value:.{decimals(printed[:-1])}f}%"
    out = f"{value:.{decimals(printed)}f}"
    return "0" + out[2:] if out.startswith("-0") and float(out) == 0 else out


def result_fields(res: mr.MRResult) -> dict[str, float]:
    return {
        "estimate": res.estimate,
        "std_error": res.se,
        "ci_lower": res.ci_low,
        "ci_upper": res.ci_high,
        "p_value": res.pval,
    }


# --- the runs ----------------------------------------------------------------------------------


def implemented(d: dict, seed: int) -> list[dict]:
    """One entry per vignette row causalcell implements: the call and its MRResult."""
    ldl, cal, ld = d["ldl"], d["calcium"], d["ld"]
    boot = {"n_boot": N_BOOT, "rng": seed}
    mv = mr.mv_ivw(d["lipids"][["ldlc", "hdlc", "trig"]].to_numpy(), *ldl[2:])
    rows = [
        ("IVW", "mr.ivw(ldl)", mr.ivw(*ldl), False),
        ("IVW (correlated)", "mr.ivw(calcium, ld=rho)", mr.ivw(*cal, ld=ld), False),
        ("MR-Egger", "mr.egger(ldl)", mr.egger(*ldl), False),
        ("MR-Egger (correlated)", "mr.egger(calcium, ld=rho)", mr.egger(*cal, ld=ld), False),
        ("Weighted median", "mr.weighted_median(ldl)", mr.weighted_median(*ldl, **boot), True),
        ("Simple median", "mr.simple_median(ldl)", mr.simple_median(*ldl, **boot), True),
        (
            "Penalized weighted median",
            "mr.penalized_weighted_median(ldl)",
            mr.penalized_weighted_median(*ldl, **boot),
            True,
        ),
        ("MBE (Hartwig mode-based)", "mr.mode_based(ldl)", mr.mode_based(*ldl, **boot), True),
        *(
            (f"MV-IVW exposure_{j + 1} ({x})", f"mr.mv_ivw(ldl+hdl+trig)[{j}]", mv[j], False)
            for j, x in enumerate(("ldlc", "hdlc", "trig"))
        ),
    ]
    return [{"row": r, "call": c, "res": res, "bootstrap": b} for r, c, res, b in rows]


def compare_rows(d: dict, runs: list[dict]) -> list[dict]:
    ref = d["reference"]
    out = []
    for run in runs:
        printed = ref.loc[run["row"]]
        ours = result_fields(run["res"])
        cells = {
            f: {"r": printed[f], "causalcell": as_printed(ours[f], printed[f]), "value": ours[f]}
            for f in FIELDS
        }
        for c in cells.values():
            c["equal"] = c["r"] == c["causalcell"]
        out.append(
            {
                "row": run["row"],
                "dataset": printed["dataset"],
                "call": run["call"],
                "bootstrap": run["bootstrap"],
                "fields": cells,
            }
        )
    # The fixed-effect IVW is not a vignette row; its SE is printed in SOURCE.md (model = "fixed").
    fixed = result_fields(mr.ivw(*d["ldl"], model="fixed"))
    cells = {
        f: {"r": p, "causalcell": as_printed(fixed[f], p), "value": fixed[f]}
        for f, p in (("estimate", "2.834"), ("std_error", "0.276"))
    }
    for c in cells.values():
        c["equal"] = c["r"] == c["causalcell"]
    out.append(
        {
            "row": 'IVW fixed effect (SOURCE.md, `model = "fixed"`)',
            "dataset": "waterworth2010",
            "call": 'mr.ivw(ldl, model="fixed")',
            "bootstrap": False,
            "fields": cells,
        }
    )
    return out


def extras(d: dict, runs: list[dict]) -> list[dict]:
    """Heterogeneity statistics and intercepts against the numbers in the vignette's extra column."""
    res = {r["row"]: r["res"] for r in runs}
    ref = d["reference"]
    spec = [  # (vignette row, statistic, causalcell extras key, printed)
        ("IVW", "RSE", "rse", "1.920"),
        ("IVW", "Cochran Q", "q", "99.5304"),
        ("IVW", "Q df", "q_df", "27"),
        ("IVW", "I^2", "i2", "72.9%"),
        ("IVW", "mean F", "f_stat", "28.0"),
        ("IVW (correlated)", "RSE", "rse", "0.641"),
        ("IVW (correlated)", "Cochran Q", "q", "2.0530"),
        ("IVW (correlated)", "Q df", "q_df", "5"),
        ("MR-Egger", "intercept", "intercept", "-0.011"),
        ("MR-Egger", "intercept SE", "intercept_se", "0.015"),
        ("MR-Egger", "intercept CI lower", "intercept_ci_low", "-0.041"),
        ("MR-Egger", "intercept CI upper", "intercept_ci_high", "0.018"),
        ("MR-Egger", "intercept p", "intercept_pval", "0.451"),
        ("MR-Egger", "RSE", "rse", "1.935"),
        ("MR-Egger", "Cochran Q", "q", "97.3975"),
        ("MR-Egger", "Q df", "q_df", "26"),
        ("MR-Egger", "I^2_GX", "i2_gx", "91.9%"),
        ("MR-Egger (correlated)", "intercept", "intercept", "0.009"),
        ("MR-Egger (correlated)", "intercept SE", "intercept_se", "0.013"),
        ("MR-Egger (correlated)", "intercept p", "intercept_pval", "0.493"),
        ("MV-IVW exposure_1 (ldlc)", "RSE", "rse", "1.433"),
        ("MV-IVW exposure_1 (ldlc)", "Cochran Q", "q", "51.3599"),
        ("MV-IVW exposure_1 (ldlc)", "Q df", "q_df", "25"),
    ]
    out = []
    for row, stat, key, printed in spec:
        text = ref.loc[row, "extra"]
        if not re.search(rf"(?<!\d)(?<!\d\.){re.escape(printed)}(?![\d])", text):
            raise ValueError(f"{printed!r} is not in the vignette's extra of {row!r}: {text!r}")
        value = float(res[row].extras[key])
        ours = as_printed(value, printed)
        out.append(
            {
                "row": row,
                "statistic": stat,
                "r": printed,
                "causalcell": ours,
                "value": value,
                "equal": ours == printed,
            }
        )
    return out


def bootstrap(d: dict, seeds: int) -> list[dict]:
    """Bootstrap SEs at seed 0 and over ``seeds`` seeds against R's."""
    ldl, ref = d["ldl"], d["reference"]
    spec = [
        ("Weighted median", mr.weighted_median, N_BOOT),
        ("Simple median", mr.simple_median, N_BOOT),
        ("Penalized weighted median", mr.penalized_weighted_median, N_BOOT),
        ("MBE (Hartwig mode-based)", mr.mode_based, N_BOOT),
        ("MBE (Hartwig mode-based)", mr.mode_based, N_BOOT_MBE_TEST),
    ]
    out = []
    for row, func, n_boot in spec:
        r_se = float(ref.loc[row, "std_error"])
        ses = np.array([func(*ldl, n_boot=n_boot, rng=s).se for s in range(seeds)])
        rel0 = ses[0] / r_se - 1
        out.append(
            {
                "row": row,
                "n_boot": n_boot,
                "r_se": r_se,
                "se_seed0": float(ses[0]),
                "rel_seed0": float(rel0),
                "mean": float(ses.mean()),
                "sd": float(ses.std(ddof=1)) if seeds > 1 else float("nan"),
                "rel_mean": float(ses.mean() / r_se - 1),
                "max_abs_rel": float(np.max(np.abs(ses / r_se - 1))),
                "within_2pct_seed0": bool(abs(rel0) <= 0.02),
                "within_2pct_mean": bool(abs(ses.mean() / r_se - 1) <= 0.02),
                "seeds": seeds,
                "in_test": n_boot == (N_BOOT_MBE_TEST if func is mr.mode_based else N_BOOT),
            }
        )
    return out


def twmr(d: dict) -> list[dict]:
    f = d["twmr"]
    res = mr.twmr(
        f["E_snp_by_gene"],
        f["G_snp_to_trait"],
        f["C_ld_correlation"],
        n_eqtl=f["N_eQTL"],
        n_gwas=f["N_GWAS"],
    )
    expected = f["expected_focal_gene"]
    ours = {"alpha": res.alpha[0], "se": res.se[0], "pval": res.pval[0]}
    fixture = {"alpha": expected["alpha"], "se": expected["se"], "pval": expected["p"]}
    return [
        {
            "statistic": k,
            "printed": TWMR_PRINTED[k],
            "fixture": float(fixture[k]),
            "value": float(ours[k]),
            "causalcell": as_printed(float(ours[k]), TWMR_PRINTED[k]),
            "rel_diff": float(ours[k] / fixture[k] - 1),
            "equal": as_printed(float(ours[k]), TWMR_PRINTED[k]) == TWMR_PRINTED[k],
        }
        for k in ("alpha", "se", "pval")
    ]


def timing(d: dict, repeats: int) -> dict:
    """Wall time of ``mr.mr`` with every registered method that runs on 28 variants."""
    table = pd.DataFrame(
        dict(
            zip(
                ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome"),
                d["ldl"],
                strict=True,
            )
        )
    )
    table.insert(0, "snp", d["lipids"]["snp"])
    names = mr.list_methods().index
    fits = [(mr.get_method(m).max_snps or len(table)) >= len(table) for m in names]
    methods = [m for m, ok in zip(names, fits, strict=True) if ok]
    skipped = [m for m, ok in zip(names, fits, strict=True) if not ok]
    totals = []
    for r in range(repeats):
        start = time.perf_counter()
        out = mr.mr(table, methods=methods, rng=r)
        totals.append(time.perf_counter() - start)
    per_method = {}
    for m in methods:
        start = time.perf_counter()
        mr.mr(table, methods=(m,), rng=0)
        per_method[m] = time.perf_counter() - start
    return {
        "methods": methods,
        "skipped": skipped,
        "rows": len(out),
        "seconds": totals,
        "per_method": per_method,
    }


# --- report ------------------------------------------------------------------------------------


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def markdown(res: dict) -> str:
    m = res["machine"]
    t = res["timing"]
    rows = res["rows"]
    det = [r for r in rows if not r["bootstrap"]]
    boot = [r for r in rows if r["bootstrap"]]
    n_det_eq = sum(all(c["equal"] for c in r["fields"].values()) for r in det)
    n_boot_est = sum(r["fields"]["estimate"]["equal"] for r in boot)
    n_extra_eq = sum(e["equal"] for e in res["extras"])
    n_fields = sum(len(r["fields"]) for r in det)
    n_fields_eq = sum(c["equal"] for r in det for c in r["fields"].values())
    n_vignette = sum(not r["row"].startswith("IVW fixed") for r in rows)
    lines = [
        "# Mendelian randomization: causalcell vs the R package MendelianRandomization and TWMR",
        "",
        f"Generated by `bench/mr_reference.py` on {res['date']}.",
        "",
        f"- Command: `{res['command']}`",
        f"- Machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in res['versions'].items())}",
        f"- Data: `{res['data']}` — the example data of the R package MendelianRandomization "
        "0.10.0 (`cran/MendelianRandomization` commit 2e6f8aa: Waterworth 2010, 28 lipid "
        "variants -> CHD log-odds; Burgess 2015, 6 correlated calcium -> fasting-glucose "
        "variants with their LD matrix), the results printed in its vignette "
        f"(`{REFERENCE_CSV}`) and the TWMR example gene of `eleporcu/TWMR` commit 62994ec "
        f"(`{TWMR_JSON}`).",
        f"- Bootstrap methods run with the vignette's {N_BOOT:,} iterations at seed 0 "
        "(numpy's generator, so the draws differ from R's).",
        "",
        f"**Summary.** causalcell implements {n_vignette} of the vignette's "
        f"{n_vignette + len(res['not_implemented'])} rows. {n_det_eq} of {len(det)} "
        "deterministic rows (the vignette's IVW, Egger and MV-IVW rows and the fixed-effect "
        "IVW of SOURCE.md) equal R in every printed number "
        f"({n_fields_eq} of {n_fields} numbers); the {len(boot)} bootstrap rows equal R "
        f"in the estimate in {n_boot_est} of {len(boot)}, their SEs are within "
        f"{100 * max(abs(b['rel_seed0']) for b in res['bootstrap']):.2f}% of R's at seed 0; "
        f"{n_extra_eq} of {len(res['extras'])} "
        "heterogeneity statistics and intercepts equal the vignette; TWMR "
        + ", ".join(f"{x['statistic']} = {x['causalcell']}" for x in res["twmr"])
        + (
            " as in the reference."
            if all(x["equal"] for x in res["twmr"])
            else " (**differs** from the reference)."
        ),
        "",
        "## Estimates, standard errors, 95% CIs and p-values",
        "",
        "R: the number printed in the vignette; causalcell: its value rounded to the same "
        "number of decimals (`<0.001` where R prints that bound). `ldl`: the 28 variants' "
        "(ldlc, ldlcse, chdlodds, chdloddsse); `calcium`: the 6 correlated variants, `rho` "
        "their LD matrix.",
        "",
        "| vignette row | causalcell call | estimate R / causalcell | SE R / causalcell | "
        "95% CI R / causalcell | p R / causalcell | equal at printed precision |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        f = r["fields"]

        def pair(key, f=f):
            return f"{f[key]['r']} / {f[key]['causalcell']}" if key in f else "— (not printed)"

        if "ci_lower" in f:
            ci = (
                f"{f['ci_lower']['r']}, {f['ci_upper']['r']} / "
                f"{f['ci_lower']['causalcell']}, {f['ci_upper']['causalcell']}"
            )
        else:
            ci = "— (not printed)"
        differ = [LABELS[k] for k, c in f.items() if not c["equal"]]
        if not differ:
            verdict = "yes"
        elif r["bootstrap"] and "estimate" not in differ:
            verdict = f"estimate yes; {', '.join(differ)} differ (bootstrap SE, see below)"
        else:
            verdict = f"**no** ({', '.join(differ)})"
        lines.append(
            f"| {r['row']} | `{r['call']}` | {pair('estimate')} | {pair('std_error')} | {ci} | "
            f"{pair('p_value')} | {verdict} |"
        )
    lines += [
        "",
        "## Heterogeneity statistics and intercepts",
        "",
        "Printed in the vignette's output beside the estimates (the `extra` column of the "
        "reference table).",
        "",
        "| vignette row | statistic | R | causalcell | equal at printed precision |",
        "|---|---|---|---|---|",
    ]
    for e in res["extras"]:
        lines.append(
            f"| {e['row']} | {e['statistic']} | {e['r']} | {e['causalcell']} | {yes(e['equal'])} |"
        )
    seeds = res["bootstrap"][0]["seeds"]
    lines += [
        "",
        "## Bootstrap standard errors",
        "",
        "R's SEs come from its own random number generator (seed 314159265), so they cannot be "
        f"reproduced draw for draw. causalcell at seed 0 and the mean ± SD over seeds 0-"
        f"{seeds - 1}; relative difference to R's printed SE. Medians: SD of the bootstrap "
        "estimates; MBE: MAD of the bootstrap modes (as in R).",
        "",
        "| method | draws | R SE | causalcell SE, seed 0 | difference, seed 0 | within 2%, "
        f"seed 0 | mean ± SD, seeds 0-{seeds - 1} | difference of the mean | largest "
        "difference over seeds | within 2%, mean |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for b in res["bootstrap"]:
        draws = f"{b['n_boot']:,}" + (" (as tested)" if b["in_test"] else "")
        lines.append(
            f"| {b['row']} | {draws} | {b['r_se']:.3f} | {b['se_seed0']:.4f} | "
            f"{100 * b['rel_seed0']:+.2f}% | {yes(b['within_2pct_seed0'])} | "
            f"{b['mean']:.4f} ± {b['sd']:.4f} | {100 * b['rel_mean']:+.2f}% | "
            f"{100 * b['max_abs_rel']:.2f}% | {yes(b['within_2pct_mean'])} |"
        )
    lines += [
        "",
        "Monte Carlo SD of the bootstrap SE over the seeds (relative to the mean): "
        + ", ".join(
            f"{b['row']} {b['n_boot']:,} draws {100 * b['sd'] / b['mean']:.1f}%"
            for b in res["bootstrap"]
        )
        + "; R's own SE is one such draw, so a single seed can land outside 2% of R while "
        "the estimator is the same. R prints 3 decimals, which alone leaves up to "
        f"{100 * max(0.0005 / b['r_se'] for b in res['bootstrap']):.2f}% of uncertainty in "
        "the differences.",
        "",
        "## TWMR (Porcu et al. 2019), focal gene ENSG00000000419",
        "",
        "`mr.twmr(E, G, C, n_eqtl=32000, n_gwas=239087)` with the reference code's ridge "
        "term `l = 1/sqrt(3781)`; fixture: the values of the reference implementation "
        "(`MR.R`), printed: the digits quoted in issue 6.",
        "",
        "| statistic | printed | causalcell (same digits) | fixture (full) | causalcell (full) "
        "| relative difference | equal at printed precision |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in res["twmr"]:
        lines.append(
            f"| {x['statistic']} | {x['printed']} | {x['causalcell']} | {x['fixture']:.12g} | "
            f"{x['value']:.12g} | {x['rel_diff']:.1e} | {yes(x['equal'])} |"
        )
    lines += [
        "",
        "## Vignette rows not implemented",
        "",
        "causalcell has no implementation of these rows of the reference table (so nothing is "
        "compared): "
        + "; ".join(f"{r['row']} ({r['dataset']})" for r in res["not_implemented"])
        + ".",
        "",
        "Also not implemented: the conditional F statistics printed with the MV-IVW rows "
        "(`cond F 20.3, 12.9, 13.3`). causalcell's `presso` (MR-PRESSO) has no counterpart in "
        "the vignette (it is a separate R package, MRPRESSO).",
        "",
        "## Wall time of `causalcell.mr.mr`",
        "",
        f"`mr.mr(ldl, methods=[{', '.join(t['methods'])}], rng=seed)` on the 28 variants "
        f"({t['rows']} result rows; registry defaults: {N_BOOT:,} bootstrap draws for the "
        "medians and the mode, 1,000 simulations for MR-PRESSO); "
        + (
            f"{', '.join(t['skipped'])} is registered for a single variant and not run. "
            if t["skipped"]
            else ""
        )
        + f"{len(t['seconds'])} runs: median {np.median(t['seconds']):.2f} s "
        f"(min {min(t['seconds']):.2f} s, max {max(t['seconds']):.2f} s). The machine is "
        "shared with other jobs, so times are indicative.",
        "",
        "| method | s (alone, one run) |",
        "|---|---|",
        *(f"| {k} | {v:.3f} |" for k, v in t["per_method"].items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=SHARED if SHARED.is_dir() else ROOT / "tests" / "data" / "mr",
        help="folder with the MendelianRandomization data and the TWMR fixture",
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds for the bootstrap SEs")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of mr.mr")
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the section from the saved JSON"
    )
    args = parser.parse_args(argv)
    if args.markdown_only:
        write_text_atomic(MARKDOWN, markdown(json.loads(RESULTS.read_text())))
        return
    logging.getLogger("causalcell").setLevel(logging.ERROR)
    start = time.perf_counter()
    d = load(args.data)
    runs = implemented(d, seed=0)
    done = {r["row"] for r in runs}
    ref = d["reference"]
    missing = [m for m in ref.index if m not in done]
    res = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {p: metadata.version(p) for p in ("causalcell", "numpy", "scipy", "pandas")},
        "data": os.path.relpath(args.data.resolve(), ROOT),
        "rows": compare_rows(d, runs),
        "extras": extras(d, runs),
        "bootstrap": bootstrap(d, args.seeds),
        "twmr": twmr(d),
        "not_implemented": [{"row": m, "dataset": ref.loc[m, "dataset"]} for m in missing],
        "timing": timing(d, args.repeats),
    }
    for r in res["rows"]:
        for c in r["fields"].values():
            c["value"] = float(c["value"])
    write_text_atomic(RESULTS, json.dumps(res, indent=1))
    text = markdown(res)
    write_text_atomic(MARKDOWN, text)
    print(text)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
