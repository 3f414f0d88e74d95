"""Ground-truth simulator: cells, perturbations, time, bulk and populations with known causes.

Three layers (see DESIGN.md): an experiment operator (knockout, CRISPRi, CRISPRa, degron,
induction; guides with efficacies, escape, off-targets, combinations, MOI), a regulatory
mechanism (affine or saturating on log expression, steady state or SDE dynamics, cell-type
programs) and a measurement operator (library size, batch, negative-binomial counts, dropout,
bulk aggregation). ``simulate(preset, rng=seed)`` returns the data and its truth;
``simulate(preset, network=edges)`` runs the same experiment on a user's network (an edge
DataFrame or CSV such as DoRothEA regulons, or a :class:`Network`), with its gene symbols.
"""

from causalcell.sim._config import (
    BulkConfig,
    CellConfig,
    MechanismConfig,
    NetworkConfig,
    PerturbationConfig,
    PopulationConfig,
    SimConfig,
)
from causalcell.sim._measure import (
    Measurement,
    MeasurementConfig,
    expected_log1p_cp10k,
    sample_counts,
)
from causalcell.sim._mechanism import Clamp, Regulation, hill, integrate, steady_state
from causalcell.sim._network import Network, network_from_edges, perron_root, random_network
from causalcell.sim._perturb import KINDS, GuideLibrary, Kind, make_guides
from causalcell.sim._presets import PRESETS, get_preset, list_presets
from causalcell.sim._simulate import SimulatedData, simulate
from causalcell.sim._world import World, draw_world

__all__ = [
    "KINDS",
    "PRESETS",
    "BulkConfig",
    "CellConfig",
    "Clamp",
    "GuideLibrary",
    "Kind",
    "Measurement",
    "MeasurementConfig",
    "MechanismConfig",
    "Network",
    "NetworkConfig",
    "PerturbationConfig",
    "PopulationConfig",
    "Regulation",
    "SimConfig",
    "SimulatedData",
    "World",
    "draw_world",
    "expected_log1p_cp10k",
    "get_preset",
    "hill",
    "integrate",
    "list_presets",
    "make_guides",
    "network_from_edges",
    "perron_root",
    "random_network",
    "sample_counts",
    "simulate",
    "steady_state",
]
