"""Bulk samples: sums of single-cell counts over cell-type mixtures.

Each condition (control and every designed perturbation) gets ``samples_per_condition``
samples; a sample draws cell-type proportions from a symmetric Dirichlet, ``cells_per_sample``
cells from them (each with its own guide, escape and noise), and sums their UMI counts. ``X``
holds the integer sums (use ``--expression counts``). Varying proportions act as a hidden common
cause of all genes, and nonlinear mechanisms do not commute with the sum (DESIGN.md, layer 3).

Truth: ``delta`` is the expected log1p CP10k of a bulk sample of the condition minus that of a
control sample, ``E_p[log1p(1e4 * sum_t n_t m_t / sum_t n_t M_t)]`` over Dirichlet-multinomial
type counts ``n_t``, with ``m_t`` the expected counts per cell of type ``t`` (exact mixture over
guide configurations, panel average over cells) and ``M_t`` their sum. Count noise of the sums is
neglected (relative error ~ 1 / sqrt(expected bulk count)). Also ``proportions`` (samples x
types) and ``type_counts`` (conditions x types x genes, expected counts per cell).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from causalcell._utils import group_indicator
from causalcell.sim._cells import Panel, _label_targets, _panel_states, design_from
from causalcell.sim._cells import sample_counts_for as _cell_counts
from causalcell.sim._perturb import efficacy_configs, efficacy_matrix
from causalcell.sim._world import World

N_PROPORTION_DRAWS = 4000


def _expected_counts(world: World, panel: Panel, E: sparse.csr_matrix, x_ctrl) -> np.ndarray:
    meas = world.measurement
    x = _panel_states(world, panel, E, None, x_ctrl)[0]
    log_mu = meas.log_mean(x, panel.batch, panel.log_lib)
    return ((1 - meas.zero_inflation(log_mu)) * np.exp(log_mu)).mean(axis=0)


def type_counts(world: World, labels: list[str], rng: np.random.Generator) -> np.ndarray:
    """Expected counts per cell, shape (labels, types, genes); ``"control"`` allowed."""
    n, g = world.config.truth_panel, world.net.n_genes
    escape = world.config.perturbation.escape_rate
    out = np.zeros((len(labels), world.programs.shape[0], g))
    for t in range(out.shape[1]):
        panel = Panel.draw(world, n, rng, cell_type=t)
        x_ctrl = _panel_states(world, panel, sparse.csr_matrix((n, g)), None)
        ctrl = _expected_counts(world, panel, sparse.csr_matrix((n, g)), x_ctrl)
        for i, label in enumerate(labels):
            if label == "control":
                out[i, t] = ctrl
                continue
            for config, p in efficacy_configs(world.guides, _label_targets(world, label), escape):
                E = efficacy_matrix([config] * n, g)
                out[i, t] += p * (_expected_counts(world, panel, E, x_ctrl) if config else ctrl)
    return out


def _bulk_log1p(counts: np.ndarray, type_n: np.ndarray) -> np.ndarray:
    """Mean over draws of log1p CP10k of the expected bulk profile; counts (types, genes)."""
    pooled = type_n @ counts  # (draws, genes)
    return np.log1p(1e4 * pooled / pooled.sum(axis=1, keepdims=True)).mean(axis=0)


def simulate_bulk(world: World, rng: np.random.Generator):
    """Bulk mode of :func:`causalcell.sim.simulate` (see module docstring)."""
    from causalcell.sim._simulate import SimulatedData, _anndata, _str_array, world_truth

    cfg = world.config.bulk
    n_types = world.programs.shape[0]
    conditions = [(), *world.perturbations]
    props = rng.dirichlet(
        np.full(n_types, cfg.proportion_concentration), (len(conditions), cfg.samples_per_condition)
    )
    designed, cell_type, sample = [], [], []
    for c, cond in enumerate(conditions):
        for s in range(cfg.samples_per_condition):
            types = rng.choice(n_types, cfg.cells_per_sample, p=props[c, s])
            designed += [cond] * cfg.cells_per_sample
            cell_type.append(types)
            sample += [c * cfg.samples_per_condition + s] * cfg.cells_per_sample
    design = design_from(world, designed, rng, cell_type=np.concatenate(cell_type))
    cells = _cell_counts(world, design, rng)
    sample = np.asarray(sample)
    n_samples = len(conditions) * cfg.samples_per_condition
    X = sparse.csr_matrix((group_indicator(sample, n_samples) @ cells).astype(np.int64))
    labels = ["control"] + ["+".join(sorted(world.genes[list(p)])) for p in world.perturbations]
    obs = pd.DataFrame(
        {
            "perturbation": np.repeat(labels, cfg.samples_per_condition),
            "batch": "batch0",
            "n_cells": cfg.cells_per_sample,
        },
        index=[f"sample{i}" for i in range(n_samples)],
    )
    obs["perturbation"] = obs["perturbation"].astype("category")
    expected = type_counts(world, labels, rng)
    type_n = rng.multinomial(
        cfg.cells_per_sample,
        rng.dirichlet(np.full(n_types, cfg.proportion_concentration), N_PROPORTION_DRAWS),
    ).astype(float)
    profile = np.stack([_bulk_log1p(m, type_n) for m in expected])
    truth = world_truth(world) | {
        "perturbations": _str_array(labels[1:]),
        "delta": profile[1:] - profile[0],
        "control_mean": profile[0],
        "proportions": props.reshape(n_samples, n_types),
        "type_counts": expected,
    }
    return SimulatedData(_anndata(X, obs, world), truth)
