"""Single cells: experiment design, latent states, counts and the expected deltas (truth).

The true delta of a perturbation label is the population expectation

    E[log1p CP10k | cells with this label] - E[log1p CP10k | control cells]

over everything random in the simulator: cell type, intrinsic noise, batch, library size,
guide choice (uniform among the target's guides), escape, dead and off-target guides, and
count noise. It is computed on a panel of ``truth_panel`` cells drawn once and reused for every
label (common random numbers), enumerating the guide/escape configurations of the label exactly
and taking the count noise in closed form (:func:`expected_log1p_cp10k`). The remaining Monte
Carlo error over the panel is reported per entry as ``delta_se`` (typically 1e-3 to 1e-2, well
below the sampling error of a few hundred cells); genes the perturbation does not reach have a
delta of exactly zero up to the library-composition effect. The one approximation (cell total
replaced by its expectation) biases deltas by O(1/n_genes): about 0.1 sampling sd at 150 genes
with 2,000 cells per label, unmeasurable at 400 genes and above.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from causalcell._utils import RngLike, as_rng, logger
from causalcell.sim._mechanism import integrate, steady_state
from causalcell.sim._perturb import (
    apply_shifts,
    clamp_groups,
    combine,
    efficacy_configs,
    efficacy_matrix,
    guide_hits,
    make_clamp,
)
from causalcell.sim._world import World

CHUNK = 5_000  # cells per block: bounds memory; fixed so results do not depend on it


@dataclass(frozen=True)
class Design:
    """Per-cell experimental design.

    Attributes
    ----------
    label
        Perturbation label (sorted target genes joined by ``+``, or ``control``).
    guide
        Guide ids joined by ``+``.
    E
        Efficacy rows (cells x genes, CSR).
    cell_type
        Cell-type codes.
    pseudotime
        Position on the differentiation trajectory, or None.
    batch
        Batch codes.
    time
        Hours after perturbation, or None at steady state.
    """

    label: np.ndarray
    guide: np.ndarray
    E: sparse.csr_matrix
    cell_type: np.ndarray
    pseudotime: np.ndarray | None
    batch: np.ndarray
    time: np.ndarray | None

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.label.size


def _cell_guides(world: World, designed: list[tuple[int, ...]], rng) -> list[list[int]]:
    """One random guide per designed target, plus ``Poisson(moi - 1)`` extra guides.

    Extra guides (MOI > 1) target genes the cell does not carry yet, drawn uniformly among the
    library's targets, each with a uniform guide. So every targeted gene of a cell carries
    exactly one guide, uniform among its guides, whatever the MOI: the label's mixture over
    guides and escapes is then exactly the one :func:`expected_deltas` enumerates.
    """
    lib, moi = world.guides, world.config.perturbation.moi
    extra = rng.poisson(max(moi - 1.0, 0.0), len(designed))
    library_targets = np.unique(lib.target)
    out = []
    for targets, k in zip(designed, extra, strict=True):
        free = np.setdiff1d(library_targets, targets)
        more = rng.choice(free, size=min(k, free.size), replace=False) if k else []
        out.append([int(rng.choice(lib.guides_of(t))) for t in (*targets, *more)])
    return out


def _label(world: World, guides: list[int]) -> str:
    genes = sorted({world.genes[world.guides.target[g]] for g in guides})
    return "+".join(genes) if genes else "control"


def design_cells(world: World, rng: RngLike = None) -> Design:
    """Draw the design: which cell carries which guides, escapes, type, batch and time."""
    rng = as_rng(rng)
    pert = world.config.perturbation
    times = list(pert.times) or [None]
    designed = [()] * pert.n_control + [
        p for p in world.perturbations for _ in range(pert.cells_per_perturbation)
    ]
    designed = designed * len(times)
    time = np.repeat(np.asarray(times, float), len(designed) // len(times)) if pert.times else None
    return design_from(world, designed, rng, time=time)


def design_from(
    world: World,
    designed: list[tuple[int, ...]],
    rng: np.random.Generator,
    *,
    time: np.ndarray | None = None,
    cell_type: np.ndarray | None = None,
) -> Design:
    """Design of cells with the given designed targets (guides, escapes, labels, batches).

    ``cell_type`` defaults to uniform types (or the nearest milestone of the trajectory).
    """
    pert, cells = world.config.perturbation, world.config.cells
    guides = _cell_guides(world, designed, rng)
    escaped = [rng.random(len(g)) < pert.escape_rate for g in guides]
    rows = [
        combine(
            [h for g, e in zip(gs, es, strict=True) if not e for h in guide_hits(world.guides, g)]
        )
        for gs, es in zip(guides, escaped, strict=True)
    ]
    nt = rng.integers(1, pert.n_control_guides + 1, len(designed))
    guide_ids = [
        "+".join(sorted(world.guides.names[gs])) if gs else f"NT_g{k}"
        for gs, k in zip(guides, nt, strict=True)
    ]
    n = len(designed)
    pseudotime = rng.random(n) if cells.trajectory else None
    if cell_type is None:
        n_types = world.programs.shape[0]
        cell_type = world.milestone(pseudotime) if cells.trajectory else rng.integers(0, n_types, n)
    return Design(
        label=np.array([_label(world, g) for g in guides]),
        guide=np.array(guide_ids),
        E=efficacy_matrix(rows, world.net.n_genes),
        cell_type=cell_type,
        pseudotime=pseudotime,
        batch=rng.integers(0, world.config.measurement.n_batches, n),
        time=time,
    )


def _steady_states(
    world: World, b: np.ndarray, E: sparse.csr_matrix, x_ctrl: np.ndarray | None = None
) -> np.ndarray:
    """Steady states of cells with basal input ``b`` under the interventions ``E``.

    ``x_ctrl``, the unperturbed steady states of the same cells, may be passed to save work.
    """
    kind, reg = world.kind, world.reg
    x_ctrl = steady_state(b, reg) if x_ctrl is None else x_ctrl
    if not kind.clamp:
        if reg.affine:  # (b + S) T = b T + S T
            S = E.copy()
            S.data = kind.log_fold(S.data, world.fold)
            return x_ctrl + S @ reg.T
        b = b.copy()
        apply_shifts(b, E, kind, world.fold)
        return steady_state(b, reg)
    x = x_ctrl.copy()
    for genes, idx in clamp_groups(E).items():
        if genes:
            clamp = make_clamp(genes, E[idx], x_ctrl[idx], kind, world.fold)
            y = x_ctrl[idx] if reg.affine else None
            x[idx] = steady_state(b[idx], reg, clamp, unclamped=y)
    return x


def _dynamic_states(
    world: World, b: np.ndarray, E: sparse.csr_matrix, times: np.ndarray, rng
) -> np.ndarray:
    """States at ``times`` after the interventions ``E`` start, shape (times, cells, genes).

    Cells start from their unperturbed steady state followed by ``burn_in`` hours of noisy
    dynamics, so time 0 is a draw from the stationary control population.
    """
    mech, reg, kind = world.config.mechanism, world.reg, world.kind
    x_ss = steady_state(b, reg)
    run = {"reg": reg, "tau": world.tau, "noise_sd": mech.sde_noise, "dt": mech.dt}
    x0 = integrate(x_ss, b, times=[mech.burn_in], rng=rng, **run)[0]
    if not kind.clamp:
        b = b.copy()
        apply_shifts(b, E, kind, world.fold)
        return integrate(x0, b, times=times, rng=rng, **run)
    out = np.empty((len(times), *b.shape))
    for genes, idx in clamp_groups(E).items():
        clamp = make_clamp(genes, E[idx], x_ss[idx], kind, world.fold)
        out[:, idx] = integrate(x0[idx], b[idx], times=times, clamp=clamp, rng=rng, **run)
    return out


def _block_counts(
    world: World, design: Design, idx: np.ndarray, rng, shift: np.ndarray | None
) -> sparse.csr_matrix:
    """Counts of one block of cells."""
    pt = None if design.pseudotime is None else design.pseudotime[idx]
    b = world.basal(design.cell_type[idx], pt, rng)
    if shift is not None:
        b += shift[idx]
    E = design.E[idx]
    if design.time is None:
        x = _steady_states(world, b, E)
    else:
        times, which = np.unique(design.time[idx], return_inverse=True)
        x = _dynamic_states(world, b, E, times, rng)[which, np.arange(idx.size)]
    meas = world.measurement
    log_mu = meas.log_mean(x, design.batch[idx], meas.log_library(design.batch[idx], rng))
    return sparse.csr_matrix(meas.sample(log_mu, rng))


def sample_counts_for(
    world: World,
    design: Design,
    rng: RngLike = None,
    n_jobs: int | None = None,
    basal_shift: np.ndarray | None = None,
) -> sparse.csr_matrix:
    """UMI counts of all designed cells (CSR, int32).

    ``basal_shift`` (cells x genes) is added to the cells' basal inputs (e.g. genotypes).

    Cells are processed in blocks of ``CHUNK`` cells, each with its own generator seeded from
    ``rng``, on ``n_jobs`` threads (default: all cores; numpy's samplers and BLAS release the
    GIL). The result does not depend on ``n_jobs``.
    """
    rng = as_rng(rng)
    starts = range(0, design.n_cells, CHUNK)
    seeds = rng.integers(2**63, size=len(starts))

    def block(k: int) -> sparse.csr_matrix:
        idx = np.arange(starts[k], min(starts[k] + CHUNK, design.n_cells))
        return _block_counts(world, design, idx, np.random.default_rng(seeds[k]), basal_shift)

    with ThreadPoolExecutor(n_jobs or os.cpu_count() or 1) as pool:
        blocks = list(pool.map(block, range(len(starts))))
    return sparse.vstack(blocks, format="csr").astype(np.int32)


# --- truth -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """Common random numbers for expectations: basal inputs, batches, library sizes."""

    b: np.ndarray
    batch: np.ndarray
    log_lib: np.ndarray
    seed: int

    @classmethod
    def draw(
        cls, world: World, n: int, rng: np.random.Generator, cell_type: int | None = None
    ) -> Panel:
        """Draw ``n`` cells from the control population (of one cell type if given)."""
        cells = world.config.cells
        n_types = world.programs.shape[0]
        pt = rng.random(n) if cells.trajectory and cell_type is None else None
        if cell_type is not None:
            ct = np.full(n, cell_type)
        else:
            ct = world.milestone(pt) if cells.trajectory else rng.integers(0, n_types, n)
        b = world.basal(ct, pt, rng)
        batch = rng.integers(0, world.config.measurement.n_batches, n)
        log_lib = world.measurement.log_library(batch, rng)
        return cls(b, batch, log_lib, int(rng.integers(2**32)))


def _panel_states(
    world: World, panel: Panel, E: sparse.csr_matrix, times, x_ctrl=None
) -> np.ndarray:
    """Latent states of the panel (times, cells, genes); same dynamic noise for every call."""
    if times is None:
        return _steady_states(world, panel.b, E, None if x_ctrl is None else x_ctrl[0])[None]
    return _dynamic_states(world, panel.b, E, times, np.random.default_rng(panel.seed))


def _panel_measure(world: World, panel: Panel, x: np.ndarray) -> np.ndarray:
    meas = world.measurement
    return np.stack(
        [meas.expected_log1p(meas.log_mean(xt, panel.batch, panel.log_lib)) for xt in x]
    )


def _label_targets(world: World, label: str) -> tuple[int, ...]:
    index = {g: i for i, g in enumerate(world.genes)}
    return tuple(index[g] for g in label.split("+"))


def expected_deltas(world: World, labels: list[str], rng: RngLike = None) -> dict[str, np.ndarray]:
    """True expected deltas of perturbation labels (see module docstring).

    Returns
    -------
    dict
        ``delta`` and ``delta_se`` (labels x genes, or labels x times x genes for time
        courses), ``delta_latent`` (expected change of log expression, same shape),
        ``control_mean`` (expected log1p CP10k of control cells, genes or times x genes).
    """
    rng = as_rng(rng)
    times = np.asarray(world.config.perturbation.times, float)
    times = times if times.size else None
    n, g = world.config.truth_panel, world.net.n_genes
    panel = Panel.draw(world, n, rng)
    none = sparse.csr_matrix((n, g))
    x_ctrl = _panel_states(world, panel, none, times)
    h_ctrl = _panel_measure(world, panel, x_ctrl)
    shape = (len(labels), *h_ctrl.shape[:1], g)
    out = {k: np.zeros(shape) for k in ("delta", "delta_se", "delta_latent")}
    for i, label in enumerate(labels):
        d_h, d_x = np.zeros_like(h_ctrl), np.zeros((h_ctrl.shape[0], g))
        for config, p in efficacy_configs(
            world.guides, _label_targets(world, label), world.config.perturbation.escape_rate
        ):
            if not config:
                continue  # escaped everywhere: a control cell
            E = efficacy_matrix([config] * n, g)
            x = _panel_states(world, panel, E, times, x_ctrl)
            d_h += p * (_panel_measure(world, panel, x) - h_ctrl)
            d_x += p * (x - x_ctrl).mean(axis=1)
        out["delta"][i] = d_h.mean(axis=1)
        out["delta_se"][i] = d_h.std(axis=1, ddof=1) / np.sqrt(n)
        out["delta_latent"][i] = d_x
    out["control_mean"] = h_ctrl.mean(axis=1)
    if times is None:
        out = {k: v[:, 0] if v.ndim == 3 else v[0] for k, v in out.items()}
    logger.info(
        "true deltas of %d labels on a %d-cell panel; largest Monte Carlo se %.2g",
        len(labels),
        n,
        out["delta_se"].max() if labels else 0.0,
    )
    return out
