"""The effects engine: streaming passes over cells that turn counts into calibrated effects."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.effects._escape import EscapeFit, fit_escape, null_fraction
from causalcell.effects._kernels import (
    Moments,
    TestResult,
    bh_fdr,
    log_normalize,
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
    guide_set: np.ndarray  # per cell: code of its guide label (one per distinct string), or -1
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
    guide_set = (
        pd.factorize(obs[guide_key].astype(str))[0]
        if guide_key in obs.columns
        else np.full(len(obs), -1)
    )
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
        guide_set,
        dropped,
    )


def _encode_guides(
    obs: pd.DataFrame,
    guide_key: str,
    pert_code: np.ndarray,
    perturbations: pd.Index,
    min_cells: int,
):
    """Targeting guides, their perturbation, and (cell, guide) memberships.

    Guide labels are split on '+' once per distinct label (a million cells share a few
    thousand), then everything is integer codes.
    """
    empty = (pd.Index([]), pd.Series(dtype=str), np.zeros((2, 0), dtype=np.int64))
    if guide_key not in obs.columns:
        return empty
    codes, labels = pd.factorize(obs[guide_key].astype(str))
    parts = [[g.strip() for g in str(label).split("+")] for label in labels]
    names = pd.Index(sorted({g for p in parts for g in p}))
    part_ids = names.get_indexer([g for p in parts for g in p])
    n_parts_of = np.array([len(p) for p in parts])
    first_part = np.concatenate([[0], np.cumsum(n_parts_of)[:-1]])
    # expand to one row per (cell, guide part)
    n_parts = n_parts_of[codes]
    cell_idx = np.repeat(np.arange(len(obs)), n_parts)
    offset = np.arange(len(cell_idx)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    guide_id = part_ids[first_part[codes[cell_idx]] + offset]
    targeting = pert_code[cell_idx] >= 0
    # A guide belongs to the perturbation of the cells that carry it alone.
    single = (n_parts[cell_idx] == 1) & targeting
    K = len(perturbations)
    owned = np.unique(guide_id[single] * K + pert_code[cell_idx[single]])
    owner_guide, owner_code = np.divmod(owned, K)
    twice = owner_guide[1:][owner_guide[1:] == owner_guide[:-1]]
    if len(twice):
        raise InputError(
            f"guide {names[twice[0]]!r} is found in cells of two different perturbations; "
            "fix obs['guide'] (one guide id per target) or obs['perturbation']"
        )
    n_per_guide = np.bincount(guide_id[targeting], minlength=len(names))
    keep = n_per_guide[owner_guide] >= min_cells
    owner_guide, owner_code = owner_guide[keep], owner_code[keep]
    if len(owner_guide) == 0:
        return empty
    guides = names[owner_guide]  # sorted, as ``names`` is
    guide_target = pd.Series(perturbations[owner_code], index=guides)
    new_code = np.full(len(names), -1)
    new_code[owner_guide] = np.arange(len(owner_guide))
    gcode = new_code[guide_id]
    # a guide's profile comes from the cells of its own perturbation only: in a combination's
    # cells it would also carry the partner's effects
    own = np.append(owner_code, -1)[gcode] == pert_code[cell_idx]
    member = (gcode >= 0) & targeting & own
    return guides, guide_target, np.vstack([cell_idx[member], gcode[member]])


@dataclass
class _PassResult:
    pert: Moments
    pert_halves: tuple[Moments, Moments] | None  # the same per random half (escape model)
    control: Moments
    guide: Moments | None
    pert_lin: Moments
    control_lin: Moments
    guide_lin: Moments | None


@dataclass
class _Classes:
    """Cells grouped into classes sharing every label a test groups by.

    A class is one (perturbation, guide set, batch[, random half]) combination, or (control,
    batch). One streaming pass accumulates moments per class; perturbation, half, guide and
    control moments are then sums of classes, so each non-zero is visited once however many
    groupings the engine tests.
    """

    of_cell: np.ndarray  # per cell: class, -1 when the cell is not used
    pert: np.ndarray  # per class: perturbation code, -1 for controls
    batch: np.ndarray
    half: np.ndarray
    guides: np.ndarray  # (2, n_pairs): (class, guide) memberships

    @property
    def n(self) -> int:
        return len(self.pert)


def _classes(d: _Design, use: np.ndarray, halves: bool) -> _Classes:
    pert = np.where(use, d.pert_code, -2)
    half = d.half if halves else np.zeros_like(d.half)
    guide_set = np.where(pert >= 0, d.guide_set, -1)
    half = np.where(pert >= 0, half, 0)
    # one integer key per cell (a 1-D unique is ~50x faster than a row-wise one on 1M cells)
    n_sets, B = int(guide_set.max()) + 2, len(d.batches)
    key = (((pert + 2) * n_sets + guide_set + 1) * B + d.batch_code) * 2 + half
    used = pert >= -1
    uniq, inverse = np.unique(key[used], return_inverse=True)
    of_cell = np.full(len(pert), -1)
    of_cell[used] = inverse.ravel()
    gcell, gcode = d.guide_cells
    cls = of_cell[gcell]
    pair_key = np.unique((cls * len(d.guides) + gcode)[cls >= 0])
    pairs = np.stack(np.divmod(pair_key, max(len(d.guides), 1)))
    rest, half_of = np.divmod(uniq, 2)
    rest, batch_of = np.divmod(rest, B)
    return _Classes(of_cell, rest // n_sets - 2, batch_of, half_of, pairs)


def _moments_pass(
    cells: Cells,
    d: _Design,
    chunk_size: int,
    progress: bool | None,
    include: np.ndarray | None = None,
    halves: bool = False,
) -> _PassResult:
    """One streaming pass: moments of every (perturbation[, half], batch), control batch, guide.

    With ``halves``, perturbed cells are also split by random half (for the cross-fitted
    escape model); the whole-perturbation moments are the sums of the halves.
    """
    from causalcell.effects._fused import class_moments
    from causalcell.effects._stream import accumulate

    use = np.ones(cells.n_cells, bool) if include is None else include
    cl = _classes(d, use, halves)
    cols = np.fromiter(d.target_cols.values(), dtype=np.int64, count=len(d.target_cols))
    target_pos = np.full(cells.n_genes, -1, dtype=np.int64)
    target_pos[cols] = np.arange(len(cols))
    counts = cells.expression == "counts"

    def init():
        shapes = [(cl.n, cells.n_genes)] * 2 + [(cl.n, len(cols))] * 2
        return tuple(np.zeros(shape) for shape in shapes)

    def add(acc, start, block, threads):
        rows = cl.of_cell[start : start + block.shape[0]]
        s1, s2, lin1, lin2 = acc
        threads.run(class_moments, block, rows, counts, s1, s2, target_pos, lin1, lin2)

    s1, s2, lin1, lin2 = accumulate(
        cells, init, add, chunk_size=chunk_size, desc="effects", progress=progress
    )
    n = np.bincount(cl.of_cell[cl.of_cell >= 0], minlength=cl.n).astype(np.float64)
    return _group_moments(d, cl, halves, Moments(n, s1, s2), Moments(n, lin1, lin2))


def _group_moments(d: _Design, cl: _Classes, halves: bool, m: Moments, lin: Moments):
    """Sum class moments into perturbation (x half) x batch, control x batch and guide x batch."""
    K, B, H = len(d.perturbations), len(d.batches), 2 if halves else 1
    row = np.where(cl.pert >= 0, (H * cl.pert + cl.half) * B + cl.batch, H * K * B + cl.batch)
    to_pert = _summing_matrix(row, np.arange(cl.n), (H * K + 1) * B, cl.n)
    (pm, by_half, cm), (pl, _, cl_) = (
        _split_halves(_sum_classes(to_pert, m), K, B, H),
        _split_halves(_sum_classes(to_pert, lin), K, B, H),
    )
    if not len(d.guides):
        return _PassResult(pm, by_half, cm, None, pl, cl_, None)
    klass, guide = cl.guides
    to_guide = _summing_matrix(guide * B + cl.batch[klass], klass, len(d.guides) * B, cl.n)
    gm = _sum_classes(to_guide, m).reshape(len(d.guides), B)
    gl = _sum_classes(to_guide, lin).reshape(len(d.guides), B)
    return _PassResult(pm, by_half, cm, gm, pl, cl_, gl)


def _summing_matrix(rows, classes, n_rows: int, n_classes: int) -> sp.csr_matrix:
    """Sparse 0/1 matrix (groups x classes) with a one at each ``(rows[i], classes[i])``."""
    ones = np.ones(len(rows))
    return sp.csr_matrix((ones, (rows, classes)), shape=(n_rows, n_classes))


def _sum_classes(A: sp.csr_matrix, m: Moments) -> Moments:
    return Moments(A @ m.n, A @ m.s1, A @ m.s2)


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
    order, bounds = _grouped(d.pert_code, len(d.perturbations))
    # The fits are tiny optimisations: BLAS threads only add overhead (8x slower measured with
    # two OpenBLAS threads on a busy 2-core machine).
    with threadpool_limits(1, user_api="blas"):
        for k, p in enumerate(d.perturbations):
            mine = order[bounds[k] : bounds[k + 1]]
            if signatures[0][k].any() and signatures[1][k].any() and len(mine) >= 2:
                fits[p], escape_prob[mine] = fit_escape(scores[mine], null_scores[:, k])
    return scores, escape_prob, fits


def _grouped(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Members of each group: group ``g`` is ``order[bounds[g]:bounds[g + 1]]`` (in input order).

    One sort instead of a mask per group (which costs groups x cells).
    """
    order = np.argsort(codes, kind="stable")
    return order, np.searchsorted(codes[order], np.arange(n_groups + 1))


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
    from causalcell.effects._fused import own_projections
    from causalcell.effects._stream import accumulate

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
    K = len(d.perturbations)
    # row of the stacked (half, perturbation) units each perturbed cell is scored on
    unit_of_cell = np.where(d.pert_code >= 0, d.half * K + d.pert_code, -1)
    stacked, offset = np.concatenate(units), np.stack(offsets)  # (2 K, G), (2, K, B)
    counts = cells.expression == "counts"

    def init():
        return np.zeros(cells.n_cells), np.zeros((len(null_cells), K))

    def add(acc, start, block, threads):
        scores, null_scores = acc
        rows = slice(start, start + block.shape[0])
        k, b, h = d.pert_code[rows], d.batch_code[rows], d.half[rows]
        dot = np.zeros(block.shape[0])
        threads.run(own_projections, block, unit_of_cell[rows], counts, stacked, dot)
        mine = k >= 0
        scores[rows][mine] = dot[mine] - offset[h[mine], k[mine], b[mine]]
        nr = null_row[rows]
        for half in (0, 1):
            nrows = np.flatnonzero((nr >= 0) & (h == half))
            if len(nrows):
                Y = log_normalize(block[nrows], cells.expression)
                proj = np.asarray(Y @ units[half].T)
                null_scores[nr[nrows]] = proj - offset[half][:, b[nrows]].T

    scores, null_scores = accumulate(
        cells, init, add, chunk_size=chunk_size, desc="scores", progress=progress, check=False
    )
    scores[d.pert_code < 0] = np.nan
    return scores, null_scores


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
    order, bounds = _grouped(gcode, len(d.guides))
    resp = np.full(len(d.guides), np.nan)
    for g, p in enumerate(guides["perturbation"]):
        if p in fits and bounds[g + 1] > bounds[g]:
            mine = scores[gcell[order[bounds[g] : bounds[g + 1]]]]
            resp[g] = 1.0 - null_fraction(mine, fits[p].null_median)
    guides["responder_fraction"] = resp
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
