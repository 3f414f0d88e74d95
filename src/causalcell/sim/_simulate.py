"""``simulate``: draw a world, sample a data set, compute its truth, package it as AnnData."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng, atomic_path, logger, write_text_atomic
from causalcell.sim._cells import design_cells, expected_deltas, sample_counts_for
from causalcell.sim._presets import get_preset
from causalcell.sim._world import NetworkLike, World, draw_world


@dataclass
class SimulatedData:
    """A simulated data set and its ground truth.

    Attributes
    ----------
    adata
        Cells (or bulk samples): ``X`` raw UMI counts (CSR, int32), ``obs["perturbation"]``,
        ``obs["guide"]``, ``obs["batch"]``, ``obs["cell_type"]`` and, by mode, ``time``,
        ``pseudotime``, ``donor``, ``phenotype``; ``var["module"]``.
    truth
        Numpy arrays and metadata, see :func:`simulate`.
    tables
        Extra CSV tables written beside the data (e.g. ``sumstats/<gene>.csv``).
    """

    adata: ad.AnnData
    truth: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``cells.h5ad``, ``truth.npz``, ``truth.json`` and tables, each atomically.

        Returns
        -------
        Path
            ``out_dir``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "cells.h5ad") as tmp:
            self.adata.write_h5ad(tmp)
        arrays = {k: v for k, v in self.truth.items() if isinstance(v, np.ndarray)}
        with atomic_path(out / "truth.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        write_text_atomic(out / "truth.json", json.dumps(_readable(self.truth), indent=1))
        for name, table in self.tables.items():
            with atomic_path(out / name) as tmp:
                table.to_csv(tmp, index=False)
        logger.info("wrote simulation to %s", out)
        return out


def _readable(truth: dict[str, Any]) -> dict[str, Any]:
    """JSON view of the truth: metadata, edge list, guides, array shapes."""
    meta = {k: v for k, v in truth.items() if not isinstance(v, np.ndarray)}
    genes = truth["genes"]
    src, tgt = np.nonzero(truth["G"])
    meta["edges"] = [
        {"source": genes[i], "target": genes[j], "weight": round(float(truth["G"][i, j]), 6)}
        for i, j in zip(src, tgt, strict=True)
    ]
    meta["arrays"] = {k: list(v.shape) for k, v in truth.items() if isinstance(v, np.ndarray)}
    if "guide" in truth:
        meta["guides"] = [
            {"guide": g, "target": t, "efficacy": round(float(e), 6)}
            for g, t, e in zip(
                truth["guide"], truth["guide_target"], truth["guide_efficacy"], strict=True
            )
        ]
    return json.loads(json.dumps(meta, default=_json_default))


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _str_array(values) -> np.ndarray:
    """Fixed-width unicode array (loads from npz without pickle)."""
    return np.asarray(values, dtype=str)


def world_truth(world: World) -> dict[str, Any]:
    """Truth shared by every mode: network, mechanism, programs, guides, batches."""
    lib, reg, genes = world.guides, world.reg, world.genes
    off = np.where(lib.off_target >= 0, genes[np.maximum(lib.off_target, 0)], "")
    return {
        "genes": _str_array(genes),
        "G": reg.G,
        "T": reg.T,
        "module": world.net.module,
        "setpoint": reg.setpoint,
        "hill_n": np.array(np.nan if reg.hill_n is None else reg.hill_n),
        "pairs": reg.pairs,
        "pair_weight": reg.pair_weight,
        "tau": world.tau,
        "noise_sd": world.config.cells.noise_sd
        * (np.ones(world.net.n_genes) if world.noise_scale is None else world.noise_scale),
        "programs": world.programs,
        "guide": _str_array(lib.names),
        "guide_target": _str_array(genes[lib.target]),
        "guide_efficacy": lib.efficacy,
        "guide_off_target": _str_array(off),
        "guide_off_efficacy": lib.off_efficacy,
        "batch_shift": world.measurement.batch_shift,
        "preset": world.config.name,
        "kind": world.kind.name,
        "fold": world.fold,
        "config": dataclasses.asdict(world.config),
        "conventions": {
            "G": "G[i, j] = direct effect of gene i on gene j (log expression)",
            "T": "total effects (I - G)^-1 of the affine mechanism, rows = source",
            "delta": "expected mean log1p(counts/total*1e4), label minus control cells",
            "delta_latent": "expected change of latent log expression, label minus control",
            "programs": "basal log shift of each cell type; with a trajectory, pseudotime "
            "k / (types - 1) is type k and the program is linear in between",
        },
    }


def _obs_frame(design, world: World) -> pd.DataFrame:
    obs = pd.DataFrame(
        {
            "perturbation": design.label,
            "guide": design.guide,
            "batch": np.char.add("batch", design.batch.astype(str)),
            "cell_type": np.char.add("type", design.cell_type.astype(str)),
        }
    )
    if design.time is not None:
        obs["time"] = design.time
    if design.pseudotime is not None:
        obs["pseudotime"] = design.pseudotime
    obs.index = [f"cell{i}" for i in range(len(obs))]
    for col in ("perturbation", "guide", "batch", "cell_type"):
        obs[col] = obs[col].astype("category")
    return obs


def _anndata(counts, obs: pd.DataFrame, world: World) -> ad.AnnData:
    var = pd.DataFrame({"module": world.net.module}, index=pd.Index(world.genes, dtype=str))
    adata = ad.AnnData(X=counts, obs=obs, var=var)
    adata.uns["simulation"] = {"preset": world.config.name, "kind": world.kind.name}
    return adata


def _simulate_cells(world: World, rng: np.random.Generator) -> SimulatedData:
    design = design_cells(world, rng)
    counts = sample_counts_for(world, design, rng)
    labels = sorted(set(design.label) - {"control"})
    truth = world_truth(world) | expected_deltas(world, labels, rng)
    truth["perturbations"] = _str_array(labels)
    times = world.config.perturbation.times
    if times:  # delta at the last time point; the whole course in delta_by_time
        truth["times"] = np.asarray(times, float)
        for key in ("delta", "delta_se", "delta_latent"):
            truth[f"{key}_by_time"] = truth[key]
            truth[key] = truth[key][:, -1]
        truth["control_mean_by_time"] = truth["control_mean"]
        truth["control_mean"] = truth["control_mean"][-1]
    return SimulatedData(_anndata(counts, _obs_frame(design, world), world), truth)


def _mode(name: str) -> Callable[[World, np.random.Generator], SimulatedData]:
    from causalcell.sim._bulk import simulate_bulk
    from causalcell.sim._population import simulate_population

    modes = {"cells": _simulate_cells, "bulk": simulate_bulk, "population": simulate_population}
    if name not in modes:
        raise InputError(f"unknown simulation mode {name!r}; choose one of {sorted(modes)}")
    return modes[name]


def _network_source(network, config) -> str:
    if network is None:
        return "random" if config.network.edges is None else f"edges:{config.network.edges}"
    return f"edges:{network}" if isinstance(network, (str, Path)) else "user"


def simulate(
    preset: str = "small",
    *,
    rng: RngLike = None,
    network: NetworkLike | None = None,
    **overrides,
) -> SimulatedData:
    """Simulate a data set with known causal truth.

    Parameters
    ----------
    preset
        Name of a preset (see :func:`list_presets`).
    rng
        Seed or generator; the same seed gives identical data and truth.
    network
        The regulatory network to simulate on, instead of the preset's random one: a
        :class:`~causalcell.sim.Network` (used as is; the Perron root of ``|G|`` must be below
        1), an edge DataFrame or a CSV path with columns ``source,target`` (or DoRothEA's
        ``tf,target``) and ``weight`` (signed effect) or ``mor`` (sign only; magnitudes drawn
        from ``weight_range``). Edge lists are scaled to ``spectral_radius`` and DoRothEA
        confidence levels D-E are dropped. The genes (var_names) are the edge list's symbols,
        all of them unless ``n_genes`` is given (then the largest regulons first).
    **overrides
        Config fields replaced by their plain names (e.g. ``n_genes=50``, ``kind="crispra"``,
        ``hill=2.0``, ``n_batches=3``, ``times=(1.0, 4.0)``).

    Returns
    -------
    SimulatedData
        ``adata`` (counts, obs, var) and ``truth`` with at least: ``genes``; ``G`` (direct
        effects, ``G[i, j]`` = effect of gene ``i`` on gene ``j``); ``T`` (total effects
        ``(I - G)^-1``); ``perturbations`` (labels as in ``obs``); ``delta`` (labels x genes,
        the expected log1p CP10k difference to control, computed as described in
        :mod:`causalcell.sim._cells`); ``delta_se`` (its Monte Carlo standard error);
        ``delta_latent``; ``control_mean``; guide table (``guide``, ``guide_target``,
        ``guide_efficacy``, ``guide_off_target``, ``guide_off_efficacy``). Time courses add
        ``times`` and ``*_by_time`` arrays (``delta`` is then the last time point); bulk and
        population modes add their own keys.
    """
    start = time.perf_counter()
    if network is not None and "n_genes" not in overrides:
        overrides["n_genes"] = None  # keep every gene of the user's network
    config = get_preset(preset).override(**overrides)
    rng = as_rng(rng)
    world = draw_world(config, rng=rng, network=network)
    data = _mode(config.mode)(world, rng)
    data.truth["network_source"] = _network_source(network, config)
    logger.info(
        "simulated %s: %d x %d in %.1f s",
        config.name,
        data.adata.n_obs,
        data.adata.n_vars,
        time.perf_counter() - start,
    )
    return data
