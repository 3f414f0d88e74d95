"""The drawn ground truth of one simulation (network, mechanism, programs, guides, batches)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io._labels import is_control_part
from causalcell.sim._config import CellConfig, MechanismConfig, NetworkConfig, SimConfig
from causalcell.sim._measure import Measurement
from causalcell.sim._mechanism import Regulation
from causalcell.sim._network import Network, network_from_edges, perron_root, random_network
from causalcell.sim._perturb import GuideLibrary, Kind, get_kind, make_guides


@dataclass(frozen=True)
class World:
    """Everything fixed before cells are drawn.

    Attributes
    ----------
    config
        The simulation config.
    net
        The network (``G``, gene names, modules).
    reg
        The mechanism, with set point = reference log expression.
    b0
        Reference basal input; ``b0 @ T`` is the set point.
    programs
        Log shifts of the basal input per cell type, shape (types, genes).
    tau
        mRNA lifetimes (hours).
    kind
        Perturbation kind.
    fold
        Fold change of a target at full efficacy.
    guides
        Guide library.
    perturbations
        Designed perturbations as tuples of gene indices.
    measurement
        Measurement operator with drawn batch effects.
    noise_scale
        Per-gene factor of the intrinsic noise sd (None: 1 for every gene).
    """

    config: SimConfig
    net: Network
    reg: Regulation
    b0: np.ndarray
    programs: np.ndarray
    tau: np.ndarray
    kind: Kind
    fold: float
    guides: GuideLibrary
    perturbations: list[tuple[int, ...]]
    measurement: Measurement
    noise_scale: np.ndarray | None = None

    @property
    def genes(self) -> np.ndarray:
        """Gene names."""
        return self.net.genes

    def trajectory_program(self, pseudotime: np.ndarray) -> np.ndarray:
        """Program (basal log shift) at each pseudotime, shape (cells, genes).

        The differentiation path runs through the type programs in order: pseudotime 0 is
        type 0, 1 is the last type, and the program is linear between consecutive milestones
        ``k / (types - 1)``. The network then propagates the shifting programs, so the path of
        expression is curved wherever the mechanism is nonlinear.
        """
        pos = np.clip(pseudotime, 0.0, 1.0) * (self.programs.shape[0] - 1)
        k = np.minimum(pos.astype(int), self.programs.shape[0] - 2)
        frac = (pos - k)[:, None]
        return (1 - frac) * self.programs[k] + frac * self.programs[k + 1]

    def milestone(self, pseudotime: np.ndarray) -> np.ndarray:
        """Cell type of a trajectory position: the nearest milestone."""
        return np.rint(np.clip(pseudotime, 0.0, 1.0) * (self.programs.shape[0] - 1)).astype(int)

    def basal(
        self, cell_type: np.ndarray, pseudotime: np.ndarray | None, rng: RngLike
    ) -> np.ndarray:
        """Basal input of cells: reference + type program (or trajectory) + intrinsic noise."""
        rng = as_rng(rng)
        if pseudotime is None:
            prog = self.programs[cell_type]
        else:
            prog = self.trajectory_program(pseudotime)
        sd = self.config.cells.noise_sd
        if self.noise_scale is not None:
            sd = sd * self.noise_scale
        noise = rng.normal(0.0, 1.0, prog.shape) * sd
        return self.b0 + prog + noise


NetworkLike = Network | pd.DataFrame | str | Path


def read_edges(path: str | Path) -> pd.DataFrame:
    """Read an edge list (CSV, optionally gzipped) with an :class:`InputError` on failure."""
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read edge list {str(path)!r}: {exc}") from None


def select_regulons(edges: pd.DataFrame, n_genes: int | None) -> np.ndarray:
    """Genes of an edge list, capped at ``n_genes`` by taking the largest regulons first.

    Edges with a DoRothEA ``confidence`` outside A-C are dropped first (the usual practice).
    """
    if n_genes is None:
        return np.unique(np.concatenate([edges["source"], edges["target"]]).astype(str))
    size = edges.groupby("source").size().sort_values(ascending=False, kind="stable")
    genes: list[str] = []
    for tf in size.index:  # largest regulons first until n_genes are covered
        genes = list(dict.fromkeys([*genes, tf, *edges.loc[edges["source"] == tf, "target"]]))
        if len(genes) >= n_genes:
            break
    return np.sort(np.array(genes[:n_genes], dtype=str))


def _check_gene_names(genes: np.ndarray) -> None:
    """Gene names become labels joined by ``+``; refuse names that would break them."""
    bad = [g for g in genes if "+" in g or g.strip() != g or is_control_part(g) or not g]
    if bad:
        raise InputError(
            f"gene name(s) {bad[:5]} in the network cannot be used as labels (no '+', no "
            "surrounding spaces, not a control spelling); rename them in the edge list"
        )


def _edges_network(edges: pd.DataFrame, cfg: NetworkConfig, rng) -> Network:
    edges = edges.rename(columns={"tf": "source"})
    if {"source", "target"} - set(edges.columns):
        raise InputError(
            f"edge list has columns {list(edges.columns)}; it needs source (or tf), target and "
            "weight (or mor)"
        )
    if "confidence" in edges:  # DoRothEA: keep the usual A-C levels
        edges = edges[edges["confidence"].isin(list("ABC"))]
    edges = edges.astype({"source": str, "target": str})
    if edges.empty:
        raise InputError("edge list has no edges (after keeping DoRothEA confidence A-C)")
    genes = select_regulons(edges, cfg.n_genes)
    _check_gene_names(genes)
    return network_from_edges(
        edges,
        genes=genes,
        weight_range=cfg.weight_range,
        n_modules=cfg.n_modules,
        spectral_radius=cfg.spectral_radius,
        rng=rng,
    )


def _given_network(net: Network) -> Network:
    """Validate a user :class:`Network` (square, named, stable)."""
    G, genes = np.asarray(net.G, float), np.asarray(net.genes, dtype=str)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] != genes.size:
        raise InputError(f"network G has shape {G.shape} but {genes.size} gene names")
    if len(set(genes)) != genes.size:
        raise InputError("network gene names are not unique")
    _check_gene_names(genes)
    if perron_root(G) >= 1:
        raise InputError(
            "network is unstable: the Perron root of |G| is >= 1; scale G down (e.g. build it "
            "with network_from_edges(..., spectral_radius=0.6))"
        )
    module = np.asarray(net.module, int)
    if module.shape != genes.shape:
        module = np.zeros(genes.size, int)
    return Network(G=G, genes=genes, module=module)


def _network(cfg: NetworkConfig, rng: np.random.Generator, given: NetworkLike | None) -> Network:
    """The network of a world: the given one, the config's edge list, or a random one."""
    if isinstance(given, Network):
        return _given_network(given)
    if isinstance(given, (str, Path)):
        given = read_edges(given)
    if given is None and cfg.edges is not None:
        given = read_edges(cfg.edges)
    if isinstance(given, pd.DataFrame):
        return _edges_network(given, cfg, rng)
    if given is not None:
        raise InputError(
            f"network must be a Network, an edge DataFrame or a CSV path, not {type(given)}"
        )
    if cfg.n_genes is None:
        raise InputError("n_genes is required for a random network (or give an edge list)")
    return random_network(
        cfg.n_genes,
        n_modules=cfg.n_modules,
        regulator_fraction=cfg.regulator_fraction,
        min_out_degree=cfg.min_out_degree,
        degree_exponent=cfg.degree_exponent,
        within_module=cfg.within_module,
        positive_fraction=cfg.positive_fraction,
        weight_range=cfg.weight_range,
        autoregulation=cfg.autoregulation,
        n_feedback=cfg.n_feedback,
        spectral_radius=cfg.spectral_radius,
        rng=rng,
    )


def _pairs(G: np.ndarray, cfg: MechanismConfig, rng) -> tuple[np.ndarray, np.ndarray]:
    """AND/OR-like terms on targets with at least two regulators."""
    if cfg.n_pairs and cfg.hill is None:
        raise InputError("pair terms (n_pairs > 0) need a saturating mechanism; set hill=2")
    off = G - np.diag(np.diag(G))
    targets = np.flatnonzero((off != 0).sum(axis=0) >= 2)
    chosen = rng.choice(targets, size=min(cfg.n_pairs, targets.size), replace=False)
    rows = [(*rng.choice(np.flatnonzero(off[:, j]), 2, replace=False), j) for j in chosen]
    pairs = np.array(rows, int).reshape(-1, 3)
    weight = cfg.pair_weight * np.where(rng.random(len(rows)) < 0.5, 1.0, -1.0)
    return pairs, weight


def _programs(module: np.ndarray, cfg: CellConfig, rng) -> np.ndarray:
    """Cell-type programs: module-wide log shifts with gene-level variation."""
    n_mod = int(module.max()) + 1
    programs = np.zeros((max(cfg.n_cell_types, 2 if cfg.trajectory else 1), module.size))
    if programs.shape[0] == 1:
        return programs
    for prog in programs:
        mods = rng.choice(n_mod, size=min(cfg.programs_per_type, n_mod), replace=False)
        level = rng.normal(0, cfg.program_sd, n_mod)
        on = np.isin(module, mods)
        prog[on] = level[module[on]] * (1 + 0.3 * rng.standard_normal(on.sum()))
    return programs


def _targets(net: Network, n_single: int, frac_reg: float, rng) -> np.ndarray:
    if n_single > net.n_genes:
        raise InputError(f"n_single={n_single} exceeds n_genes={net.n_genes}; lower n_single")
    regs = net.regulators
    n_reg = min(round(frac_reg * n_single), regs.size)
    chosen = rng.choice(regs, n_reg, replace=False)
    rest = np.setdiff1d(np.arange(net.n_genes), chosen)
    return np.concatenate([chosen, rng.choice(rest, n_single - n_reg, replace=False)])


def _combos(
    targets: np.ndarray, n_combo: int, order: int | tuple[int, ...], rng
) -> list[tuple[int, ...]]:
    """Distinct combinations of single targets; orders cycle through ``order`` if a tuple."""
    orders = (order,) if np.isscalar(order) else tuple(order)
    if min(orders) < 2 or max(orders) > targets.size:
        raise InputError(
            f"combo_order {order} must lie between 2 and the number of single targets "
            f"({targets.size})"
        )
    n_possible = sum(math.comb(targets.size, k) for k in set(orders))
    combos: set[tuple[int, ...]] = set()
    k = 0
    while len(combos) < min(n_combo, n_possible):
        size = orders[k % len(orders)]
        k += 1
        combos.add(tuple(sorted(rng.choice(targets, size, replace=False).tolist())))
    return sorted(combos, key=lambda c: (len(c), c))


def _related_combos(G: np.ndarray, targets: np.ndarray, n: int, rng) -> set[tuple[int, ...]]:
    """Up to ``n`` distinct pairs of targets that share a direct (non-self) target gene."""
    off = (G - np.diag(np.diag(G))) != 0
    sub = off[targets].astype(float)
    shared = np.triu(sub @ sub.T, k=1) > 0
    i, j = np.nonzero(shared)
    pick = rng.choice(i.size, size=min(n, i.size), replace=False)
    return {tuple(sorted((int(targets[i[k]]), int(targets[j[k]])))) for k in pick}


def _design_combos(G: np.ndarray, targets: np.ndarray, pert, rng) -> list[tuple[int, ...]]:
    """Combinations of the design: a ``combo_related`` share of related pairs, then random."""
    if not pert.n_combo:
        return []
    if pert.combo_related <= 0 or pert.combo_order != 2:
        return _combos(targets, pert.n_combo, pert.combo_order, rng)
    related = _related_combos(G, targets, round(pert.combo_related * pert.n_combo), rng)
    rest = _combos(targets, pert.n_combo, 2, rng)
    extra = [c for c in rest if c not in related][: pert.n_combo - len(related)]
    return sorted(related | set(extra), key=lambda c: (len(c), c))


def _combo_pairs(
    G: np.ndarray, combos: list[tuple[int, ...]], cfg: MechanismConfig, rng
) -> tuple[np.ndarray, np.ndarray]:
    """AND/OR terms of designed pairs on a shared target (``cfg.combo_pairs`` of them).

    The target is the shared one with the most targets of its own, so that the joint term
    propagates (a program switched on or damped only when both genes are perturbed).
    """
    off = (G - np.diag(np.diag(G))) != 0
    related = [c for c in combos if len(c) == 2 and (off[c[0]] & off[c[1]]).any()]
    n = min(cfg.combo_pairs, len(related))
    rows = []
    for k in rng.choice(len(related), size=n, replace=False):
        a, b = related[k]
        shared = np.flatnonzero(off[a] & off[b])
        rows.append((a, b, int(shared[np.argmax(off[shared].sum(axis=1))])))
    weight = cfg.pair_weight * np.where(rng.random(n) < 0.5, 1.0, -1.0)
    return np.array(rows, int).reshape(-1, 3), weight


def _offsets(n_genes: int, mech: MechanismConfig, rng) -> np.ndarray | None:
    """Promoter set points on the sigmoid (None for a linear promoter response)."""
    if mech.gain is None:
        return None
    if mech.hill is None:
        raise InputError("a promoter gain needs a saturating mechanism; set hill=2")
    return rng.uniform(-mech.offset_max, mech.offset_max, n_genes)


def draw_world(
    config: SimConfig, *, rng: RngLike = None, network: NetworkLike | None = None
) -> World:
    """Draw the ground truth of a simulation from its config.

    ``network`` (a :class:`Network`, an edge DataFrame or a CSV path) replaces the config's
    network; see :func:`causalcell.sim.simulate`.
    """
    rng = as_rng(rng)
    net = _network(config.network, rng, network)
    mech, cells, pert = config.mechanism, config.cells, config.perturbation
    setpoint = rng.normal(0.0, cells.base_sd, net.n_genes)
    b0 = setpoint @ (np.eye(net.n_genes) - net.G)  # so that the reference state is `setpoint`
    pairs, weight = _pairs(net.G, mech, rng)
    offset = _offsets(net.n_genes, mech, rng)
    reg = Regulation(net.G, mech.hill, pairs, weight, setpoint, mech.gain, offset)
    programs = _programs(net.module, cells, rng)
    tau = np.exp(rng.uniform(*np.log(mech.tau_range), net.n_genes))
    kind = get_kind(pert.kind)
    targets = _targets(net, pert.n_single, pert.target_regulators, rng)
    guides = make_guides(
        targets,
        net.genes,
        guides_per_target=pert.guides_per_target,
        efficacy_beta=pert.efficacy_beta,
        dead_rate=pert.dead_rate,
        off_target_rate=pert.off_target_rate,
        off_target_efficacy=pert.off_target_efficacy,
        rng=rng,
    )
    singles = [(int(t),) for t in targets]
    combos = _design_combos(net.G, targets, pert, rng)
    if mech.combo_pairs:
        extra, w_extra = _combo_pairs(net.G, combos, mech, rng)
        reg = dataclasses.replace(
            reg,
            pairs=np.vstack([reg.pairs, extra]),
            pair_weight=np.concatenate([reg.pair_weight, w_extra]),
        )
    measurement = Measurement.draw(config.measurement, setpoint, rng)
    fold = kind.fold if pert.fold is None else pert.fold
    spread = cells.noise_sd_spread  # drawn last, so that spread 0 leaves the stream as it was
    scale = np.exp(rng.normal(0.0, spread, net.n_genes)) if spread > 0 else None
    return World(
        config,
        net,
        reg,
        b0,
        programs,
        tau,
        kind,
        fold,
        guides,
        singles + combos,
        measurement,
        scale,
    )
