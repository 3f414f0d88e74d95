"""The drawn ground truth of one simulation (network, mechanism, programs, guides, batches)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.sim._config import CellConfig, MechanismConfig, NetworkConfig, SimConfig
from causalcell.sim._measure import Measurement
from causalcell.sim._mechanism import Regulation
from causalcell.sim._network import Network, network_from_edges, random_network
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

    @property
    def genes(self) -> np.ndarray:
        """Gene names."""
        return self.net.genes

    def basal(
        self, cell_type: np.ndarray, pseudotime: np.ndarray | None, rng: RngLike
    ) -> np.ndarray:
        """Basal input of cells: reference + type program (or trajectory) + intrinsic noise."""
        rng = as_rng(rng)
        if pseudotime is None:
            prog = self.programs[cell_type]
        else:
            prog = np.outer(1 - pseudotime, self.programs[0]) + np.outer(
                pseudotime, self.programs[1]
            )
        noise = rng.normal(0.0, self.config.cells.noise_sd, prog.shape)
        return self.b0 + prog + noise


def _network(cfg: NetworkConfig, rng: np.random.Generator) -> Network:
    if cfg.edges is None:
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
    edges = pd.read_csv(cfg.edges).rename(columns={"tf": "source"})
    if "confidence" in edges:  # DoRothEA: keep the usual A-C levels
        edges = edges[edges["confidence"].isin(list("ABC"))]
    size = edges.groupby("source").size().sort_values(ascending=False, kind="stable")
    genes: list[str] = []
    for tf in size.index:  # largest regulons first until n_genes are covered
        genes = list(dict.fromkeys([*genes, tf, *edges.loc[edges["source"] == tf, "target"]]))
        if len(genes) >= cfg.n_genes:
            break
    return network_from_edges(
        edges,
        genes=np.sort(np.array(genes[: cfg.n_genes])),
        weight_range=cfg.weight_range,
        n_modules=cfg.n_modules,
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


def _combos(targets: np.ndarray, n_combo: int, order: int, rng) -> list[tuple[int, ...]]:
    combos: set[tuple[int, ...]] = set()
    n_possible = np.prod(np.arange(targets.size, targets.size - order, -1)) // np.prod(
        np.arange(1, order + 1)
    )
    while len(combos) < min(n_combo, n_possible):
        combos.add(tuple(sorted(rng.choice(targets, order, replace=False).tolist())))
    return sorted(combos)


def draw_world(config: SimConfig, *, rng: RngLike = None) -> World:
    """Draw the ground truth of a simulation from its config."""
    rng = as_rng(rng)
    net = _network(config.network, rng)
    mech, cells, pert = config.mechanism, config.cells, config.perturbation
    setpoint = rng.normal(0.0, cells.base_sd, net.n_genes)
    b0 = setpoint @ (np.eye(net.n_genes) - net.G)  # so that the reference state is `setpoint`
    pairs, weight = _pairs(net.G, mech, rng)
    reg = Regulation(net.G, mech.hill, pairs, weight, setpoint)
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
    combos = _combos(targets, pert.n_combo, pert.combo_order, rng) if pert.n_combo else []
    measurement = Measurement.draw(config.measurement, setpoint, rng)
    fold = kind.fold if pert.fold is None else pert.fold
    return World(
        config, net, reg, b0, programs, tau, kind, fold, guides, singles + combos, measurement
    )
