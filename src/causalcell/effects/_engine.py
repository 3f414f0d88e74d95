"""The effects engine: streaming passes over cells that turn counts into calibrated effects."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.effects._escape import EscapeFit, fit_escape, null_fraction
from causalcell.effects._kernels import (
    MomentAccumulator,
    Moments,
    TestResult,
    bh_fdr,
    log_normalize,
    membership_matrix,
    size_factors,
    squared,
    stratified_test,
)
from causalcell.io import CONTROL, Cells, split_label

logger = logging.getLogger(__name__)


@dataclass
class _Design:
    """Integer encodings of the cells' groups, shared by every pass."""

    perturbations: pd.Index  # non-control perturbations kept
    pert_code: np.ndarray  # per cell: index into perturbations, -1 control, -2 dropped
    batches: pd.Index
    batch_code: np.ndarray
    guides: pd.Index  # targeting guides kept
    guide_target: pd.Series  # guide -> perturbation
    guide_cells: np.ndarray  # (cell, guide) pairs, shape (2, n_pairs)
    target_cols: dict[str, int]  # measured single targets -> column
    half: np.ndarray  # per cell: random half 0/1, for cross-fitted escape signatures
    dropped: dict[str, int] = field(default_factory=dict)


def _encode(
    cells: Cells, guide_key: str, batch_key: str, min_cells: int, rng: np.random.Generator
) -> _Design:
    obs = cells.obs
    pert = obs["perturbation"].astype(str).to_numpy()
    counts = pd.Series(pert).value_counts()
    small = counts[(counts < min_cells) & (counts.index != CONTROL)]
    if len(small):
        logger.warning(
            "dropping %d perturbations with fewer than %d cells: %s",
            len(small),
            min_cells,
            ", ".join(small.index[:5]),
        )
    perturbations = pd.Index(sorted(set(counts.index) - {CONTROL} - set(small.index)))
    if len(perturbations) == 0:
        raise InputError(
            f"{cells.source or 'cells'}: no perturbation has at least {min_cells} cells besides the controls"
        )
    code = perturbations.get_indexer(pert)
    code[pert == CONTROL] = -1
    code[np.isin(pert, small.index)] = -2

    if batch_key in obs.columns:
        batches = pd.Index(obs[batch_key].astype(str).unique()).sort_values()
        batch_code = batches.get_indexer(obs[batch_key].astype(str))
    else:
        batches, batch_code = pd.Index(["all"]), np.zeros(len(obs), dtype=np.int64)

    guides, guide_target, guide_cells = _encode_guides(
        obs, guide_key, code, perturbations, min_cells
    )
    genes = {g: i for i, g in enumerate(cells.var_names)}
    target_cols = {p: genes[p] for p in perturbations if p in genes}
    dropped = {str(k): int(v) for k, v in small.items()}
    return _Design(
        perturbations,
        code,
        batches,
        batch_code,
        guides,
        guide_target,
        guide_cells,
        target_cols,
        rng.integers(0, 2, len(obs)),
        dropped,
    )


def _encode_guides(
    obs: pd.DataFrame,
    guide_key: str,
    pert_code: np.ndarray,
    perturbations: pd.Index,
    min_cells: int,
):
    empty = (pd.Index([]), pd.Series(dtype=str), np.zeros((2, 0), dtype=np.int64))
    if guide_key not in obs.columns:
        return empty
    # split each distinct guide string once (a million cells share a few thousand strings)
    codes, uniques = pd.factorize(obs[guide_key].astype(str))
    parts = [[g.strip() for g in u.split("+")] for u in uniques]
    n_parts = np.array([len(p) for p in parts])[codes]
    cell_idx = np.repeat(np.arange(len(obs)), n_parts)
    starts = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    flat = np.array([g for p in parts for g in p], dtype=object)
    offset = np.arange(len(cell_idx)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    guide_names = flat[starts[codes[cell_idx]] + offset]
    targeting = pert_code[cell_idx] >= 0
    # A guide belongs to the perturbation of the cells that carry it alone.
    single = n_parts[cell_idx] == 1
    owner = pd.DataFrame({"guide": guide_names, "code": pert_code[cell_idx]})[single & targeting]
    owner = owner.drop_duplicates()
    ambiguous = owner["guide"][owner["guide"].duplicated()]
    if len(ambiguous):
        raise InputError(
            f"guide {ambiguous.iloc[0]!r} is found in cells of two different perturbations; "
            "fix obs['guide'] (one guide id per target) or obs['perturbation']"
        )
    n_per_guide = pd.Series(guide_names[targeting]).value_counts()
    owner = owner[owner["guide"].map(n_per_guide).fillna(0).to_numpy() >= min_cells]
    guides = pd.Index(sorted(owner["guide"]))
    if len(guides) == 0:
        return empty
    guide_target = pd.Series(
        perturbations[owner.set_index("guide").loc[guides, "code"].to_numpy()], index=guides
    )
    gcode = guides.get_indexer(guide_names)
    keep = (gcode >= 0) & targeting
    return guides, guide_target, np.vstack([cell_idx[keep], gcode[keep]])


def _progress(iterable, total: int, desc: str, progress: bool | None):
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(iterable, total=total, desc=desc, unit="block", disable=disable, leave=False)


def _n_blocks(cells: Cells, chunk_size: int) -> int:
    return -(-cells.n_cells // chunk_size)


@dataclass
class _PassResult:
    pert: Moments
    pert_halves: tuple[Moments, Moments] | None  # the same per random half (escape model)
    control: Moments
    guide: Moments | None
    pert_lin: Moments
    control_lin: Moments
    guide_lin: Moments | None


def _moments_pass(
    cells: Cells,
    d: _Design,
    chunk_size: int,
    progress: bool | None,
    include: np.ndarray | None = None,
    halves: bool = False,
) -> _PassResult:
    """One streaming pass: moments of every (perturbation[, half], batch), control batch, guide.

    With ``halves``, perturbed cells are accumulated per random half (rows
    ``(2 k + half) * B + batch``) for the cross-fitted escape model; the whole-perturbation
    moments are the sums of the halves.
    """
    n, K, B = cells.n_cells, len(d.perturbations), len(d.batches)
    H = 2 if halves else 1
    use = np.ones(n, bool) if include is None else include
    half = d.half if halves else 0
    row = np.where(d.pert_code >= 0, (H * d.pert_code + half) * B + d.batch_code, -1)
    row = np.where(d.pert_code == -1, H * K * B + d.batch_code, row)
    row = np.where(use, row, -1)
    groups = membership_matrix(row, np.arange(n), (H * K + 1) * B, n)
    acc = MomentAccumulator(groups, cells.n_genes)
    cols = np.fromiter(d.target_cols.values(), dtype=np.int64, count=len(d.target_cols))
    acc_lin = MomentAccumulator(groups, len(cols))
    guide_acc = guide_lin = None
    if len(d.guides):
        gcell, gcode = d.guide_cells
        keep = use[gcell]
        gm = membership_matrix(
            gcode[keep] * B + d.batch_code[gcell[keep]], gcell[keep], len(d.guides) * B, n
        )
        guide_acc, guide_lin = (
            MomentAccumulator(gm, cells.n_genes),
            MomentAccumulator(gm, len(cols)),
        )
    blocks = cells.blocks(chunk_size)
    for start, block in _progress(blocks, _n_blocks(cells, chunk_size), "effects", progress):
        scale = size_factors(block) if cells.expression == "counts" else None
        Y = log_normalize(block, cells.expression, scale)
        Y2 = squared(Y)
        lin = _linear_columns(block, cols, scale)
        acc.add(start, Y, Y2)
        acc_lin.add(start, lin, lin * lin)
        if guide_acc is not None:
            guide_acc.add(start, Y, Y2)
            guide_lin.add(start, lin, lin * lin)
    (pm, by_half, cm), (pl, _, cl) = (
        _split_halves(acc.result(), K, B, H),
        _split_halves(acc_lin.result(), K, B, H),
    )
    gm_ = guide_acc.result().reshape(len(d.guides), B) if guide_acc else None
    gl_ = guide_lin.result().reshape(len(d.guides), B) if guide_lin else None
    return _PassResult(pm, by_half, cm, gm_, pl, cl, gl_)


def _split_halves(m: Moments, K: int, B: int, H: int):
    """Whole-perturbation, per-half (None unless ``H == 2``) and control moments."""
    g, r = m.s1.shape[1], H * K * B
    n = m.n[:r].reshape(K, H, B)
    s1 = m.s1[:r].reshape(K, H, B, g)
    s2 = m.s2[:r].reshape(K, H, B, g)
    whole = Moments(n.sum(1), s1.sum(1), s2.sum(1))
    halves = tuple(Moments(n[:, h], s1[:, h], s2[:, h]) for h in range(H)) if H == 2 else None
    control = Moments(m.n[r:][None], m.s1[r:][None], m.s2[r:][None])
    return whole, halves, control


def _linear_columns(block, cols: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    """A few columns on the linear scale: CP10k (``scale`` = size factors), or expm1 of log data."""
    if len(cols) == 0:
        return np.zeros((block.shape[0], 0))
    sub = block[:, cols]
    sub = sub.toarray() if sp.issparse(sub) else np.asarray(sub, np.float64)
    return np.expm1(sub) if scale is None else sub * scale[:, None]


def _knockdown(lin: TestResult, targets: list[str | None], d: _Design) -> np.ndarray:
    """Fraction of target mRNA lost: 1 - mean CP10k(perturbed) / mean CP10k(control), batch-matched."""
    out = np.full(len(targets), np.nan)
    col_of = {t: i for i, t in enumerate(d.target_cols)}
    for k, t in enumerate(targets):
        if t in col_of:
            j = col_of[t]
            ctrl = lin.control_mean[k, j]
            out[k] = 1.0 - (lin.delta[k, j] + ctrl) / ctrl if ctrl > 0 else np.nan
    return out


@dataclass
class EffectsResult:
    """Everything the effects engine estimates (arrays perturbations x genes)."""

    perturbations: pd.Index
    genes: pd.Index
    delta: np.ndarray
    se: np.ndarray
    pval: np.ndarray
    fdr: np.ndarray
    control_mean: np.ndarray
    table: pd.DataFrame  # per perturbation
    guides: pd.DataFrame  # per guide
    guide_delta: pd.DataFrame  # guides x genes
    guide_se: pd.DataFrame  # guides x genes
    cells: pd.DataFrame  # per perturbed cell: score, escape probability
    params: dict


def compute_effects(
    cells: Cells,
    *,
    guide_key: str = "guide",
    batch_key: str = "batch",
    min_cells: int | None = None,
    escape: bool = True,
    responders_only: bool = False,
    signature_fdr: float = 0.05,
    min_signature_genes: int = 3,
    max_null_cells: int = 5000,
    chunk_size: int = 20_000,
    rng: RngLike = None,
    progress: bool | None = None,
) -> EffectsResult:
    """Estimate every perturbation's and guide's effect on every gene, with calibrated tests.

    See :func:`causalcell.effects.effects` for the parameters.
    """
    t0 = time.perf_counter()
    rng = as_rng(rng)
    if min_cells is None:  # one profile per condition is normal for log data (bulk, DREAM)
        min_cells = 1 if cells.expression == "log" else 3
    d = _encode(cells, guide_key, batch_key, min_cells, rng)
    first = _moments_pass(cells, d, chunk_size, progress, halves=escape)
    pert_res, guide_res = _test_all(first)
    fdr = bh_fdr(pert_res.pval)

    scores, escape_prob = np.full(cells.n_cells, np.nan), np.full(cells.n_cells, np.nan)
    fits: dict[str, EscapeFit] = {}
    if escape:
        rule = (signature_fdr, min_signature_genes)
        scores, escape_prob, fits = _escape_model(
            cells, d, first, rule, chunk_size, max_null_cells, rng, progress
        )

    if responders_only and fits:
        include = ~(escape_prob > 0.5)
        first = _moments_pass(cells, d, chunk_size, progress, include=include)
        pert_res, guide_res = _test_all(first)
        fdr = bh_fdr(pert_res.pval)

    table = _perturbation_table(d, first, pert_res, fits, escape_prob)
    guides, guide_delta, guide_se = _guide_tables(
        d,
        first,
        guide_res,
        pert_res,
        fdr,
        (signature_fdr, min_signature_genes),
        scores,
        fits,
        cells.var_names,
    )
    cell_table = _cell_table(cells, d, scores, escape_prob)
    params = dict(
        guide_key=guide_key,
        batch_key=batch_key,
        min_cells=min_cells,
        escape=escape,
        responders_only=responders_only,
        signature_fdr=signature_fdr,
        min_signature_genes=min_signature_genes,
        expression=cells.expression,
        test="batch-stratified Student t test on log1p CP10k",
        fdr="Benjamini-Hochberg over all pairs",
        batches=list(d.batches),
        dropped_perturbations=d.dropped,
    )
    logger.info(
        "effects of %d perturbations on %d genes from %d cells in %.1fs",
        len(d.perturbations),
        cells.n_genes,
        cells.n_cells,
        time.perf_counter() - t0,
    )
    return EffectsResult(
        d.perturbations,
        cells.var_names,
        pert_res.delta,
        pert_res.se,
        pert_res.pval,
        fdr,
        pert_res.control_mean,
        table,
        guides,
        guide_delta,
        guide_se,
        cell_table,
        params,
    )


def _escape_model(cells, d, first, rule, chunk_size, max_null_cells, rng, progress):
    """Per-cell scores, escape probabilities and per-perturbation fits.

    Cross-fitting: each half's cells are scored on the signature learnt from the other half, so
    a cell's own noise never enters the signature it is scored on.
    """
    halves = [stratified_test(h, first.control) for h in first.pert_halves]
    signatures = [_signature(h.delta, bh_fdr(h.pval), *rule) for h in halves]
    scores, null_scores = _score_pass(
        cells, d, signatures, first.control, chunk_size, max_null_cells, rng, progress
    )
    escape_prob = np.full(cells.n_cells, np.nan)
    fits: dict[str, EscapeFit] = {}
    for k, p in enumerate(d.perturbations):
        mine = d.pert_code == k
        if signatures[0][k].any() and signatures[1][k].any() and mine.sum() >= 2:
            fits[p], escape_prob[mine] = fit_escape(scores[mine], null_scores[:, k])
    return scores, escape_prob, fits


def _signature(delta: np.ndarray, fdr: np.ndarray, alpha: float, min_genes: int) -> np.ndarray:
    """Each perturbation's signature: its effects on genes at FDR < ``alpha``, zero for
    perturbations with fewer than ``min_genes`` such genes."""
    sig = np.where(fdr < alpha, np.nan_to_num(delta), 0.0)
    sig[(sig != 0).sum(axis=1) < min_genes] = 0.0
    return sig


def _test_all(p: _PassResult) -> tuple[TestResult, TestResult | None]:
    pert = stratified_test(p.pert, p.control)
    guide = stratified_test(p.guide, p.control) if p.guide is not None else None
    return pert, guide


def _score_pass(cells, d, signatures, control, chunk_size, max_null_cells, rng, progress):
    """Per-cell projection on its perturbation's signature learnt from the other half of the cells.

    The projection weights each signature gene by its effect over its control variance (the
    linear discriminant for independent genes), scaled so that a full responder scores ~1.
    Control cells (a sample) are scored on every perturbation's signatures: the escapers' null.
    """
    ctrl_n, ctrl_s1, ctrl_s2 = control.n[0].sum(), control.s1[0].sum(0), control.s2[0].sum(0)
    ctrl_var = np.nan_to_num((ctrl_s2 - ctrl_s1**2 / ctrl_n) / max(ctrl_n - 1, 1))
    floor = np.quantile(ctrl_var[ctrl_var > 0], 0.1) if (ctrl_var > 0).any() else 1.0
    ctrl_mean = np.nan_to_num(control.s1[0] / control.n[0][:, None])  # (B, G)
    units, offsets = [], []
    for sig in signatures[::-1]:  # cells of half h use the signature of half 1 - h
        direction = sig / np.maximum(ctrl_var, floor)
        norm = (direction * sig).sum(axis=1)
        unit = np.divide(
            direction, norm[:, None], out=np.zeros_like(direction), where=norm[:, None] > 0
        )
        units.append(unit)
        offsets.append(unit @ ctrl_mean.T)  # (K, B): projection of the batch's control mean
    controls = np.flatnonzero(d.pert_code == -1)
    null_cells = np.sort(
        rng.choice(controls, size=min(max_null_cells, len(controls)), replace=False)
    )
    null_row = np.full(cells.n_cells, -1)
    null_row[null_cells] = np.arange(len(null_cells))
    scores = np.full(cells.n_cells, np.nan)
    null_scores = np.zeros((len(null_cells), len(d.perturbations)))
    blocks = cells.blocks(chunk_size, check=False)
    for start, block in _progress(blocks, _n_blocks(cells, chunk_size), "scores", progress):
        Y = log_normalize(block, cells.expression)
        stop = start + Y.shape[0]
        k, b, h = d.pert_code[start:stop], d.batch_code[start:stop], d.half[start:stop]
        nr = null_row[start:stop]
        for half in (0, 1):
            rows = np.flatnonzero((k >= 0) & (h == half))
            if len(rows):
                dot = _own_projection(Y[rows], units[half], k[rows])
                scores[start + rows] = dot - offsets[half][k[rows], b[rows]]
            nrows = np.flatnonzero((nr >= 0) & (h == half))
            if len(nrows):
                proj = np.asarray(Y[nrows] @ units[half].T)
                null_scores[nr[nrows]] = proj - offsets[half][:, b[nrows]].T
    return scores, null_scores


def _own_projection(Y, unit: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Row-wise ``Y[i] @ unit[k[i]]`` without materialising ``unit[k]`` (cells x genes)."""
    if sp.issparse(Y):
        row = np.repeat(np.arange(Y.shape[0]), np.diff(Y.indptr))
        return np.bincount(row, weights=Y.data * unit[k[row], Y.indices], minlength=Y.shape[0])
    return np.einsum("ig,ig->i", Y, unit[k])


def _perturbation_table(d, first, res, fits, escape_prob) -> pd.DataFrame:
    targets = [p if "+" not in p else None for p in d.perturbations]
    lin = stratified_test(first.pert_lin, first.control_lin)
    target_gene_col = [d.target_cols.get(t) for t in targets]
    table = pd.DataFrame(index=d.perturbations)
    table["n_cells"] = res.n_used.astype(int)
    table["n_targets"] = [len(split_label(p)) for p in d.perturbations]
    table["target_measured"] = [c is not None for c in target_gene_col]
    table["knockdown"] = _knockdown(lin, targets, d)
    table["knockdown_pval"] = [
        res.pval[k, c] if c is not None else np.nan for k, c in enumerate(target_gene_col)
    ]
    table["n_guides"] = [int((d.guide_target == p).sum()) for p in d.perturbations]
    table["responder_fraction"] = [
        fits[p].responder_fraction if p in fits else np.nan for p in d.perturbations
    ]
    # expected number of escapers, consistent with responder_fraction; per-cell calls
    # (escape_prob > 0.5) are in the cell table
    table["n_escapers"] = [
        round(fits[p].escape_fraction * n) if p in fits else 0
        for p, n in zip(d.perturbations, table["n_cells"], strict=True)
    ]
    return table


def _guide_tables(d, first, res, pert_res, fdr, signature_rule, scores, fits, genes):
    if res is None:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    k_of = d.perturbations.get_indexer(d.guide_target.to_numpy())
    guides = pd.DataFrame(index=d.guides)
    guides["perturbation"] = d.guide_target.to_numpy()
    guides["n_cells"] = res.n_used.astype(int)
    lin = stratified_test(first.guide_lin, first.control_lin)
    targets = [p if "+" not in p else None for p in guides["perturbation"]]
    guides["knockdown"] = _knockdown(lin, targets, d)
    cols = [d.target_cols.get(t) for t in targets]
    guides["knockdown_pval"] = [
        res.pval[g, c] if c is not None else np.nan for g, c in enumerate(cols)
    ]
    # Efficacy along the perturbation's signature: 1 = as strong as the average guide, 0 = dead.
    sig = _signature(pert_res.delta, fdr, *signature_rule)[k_of]
    norm2 = (sig**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        guides["signature_ratio"] = np.where(
            norm2 > 0, (np.nan_to_num(res.delta) * sig).sum(axis=1) / norm2, np.nan
        )
    gcell, gcode = d.guide_cells
    by_guide = pd.Series(scores[gcell]).groupby(gcode)
    resp = {
        g: 1.0 - null_fraction(by_guide.get_group(g).to_numpy(), fits[p].null_median)
        for g, p in enumerate(guides["perturbation"])
        if p in fits and g in by_guide.groups
    }
    guides["responder_fraction"] = [resp.get(g, np.nan) for g in range(len(d.guides))]
    guide_delta = pd.DataFrame(res.delta, index=d.guides, columns=genes)
    guide_se = pd.DataFrame(res.se, index=d.guides, columns=genes)
    return guides, guide_delta, guide_se


def _cell_table(
    cells: Cells, d: _Design, scores: np.ndarray, escape_prob: np.ndarray
) -> pd.DataFrame:
    perturbed = np.flatnonzero(d.pert_code >= 0)
    return pd.DataFrame(
        {
            "perturbation": d.perturbations[d.pert_code[perturbed]],
            "score": scores[perturbed],
            "escape_prob": escape_prob[perturbed],
        },
        index=cells.obs.index[perturbed],
    )
