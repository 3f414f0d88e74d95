"""Named simulation presets."""

from __future__ import annotations

from causalcell._errors import InputError
from causalcell.sim._config import (
    BulkConfig,
    CellConfig,
    MechanismConfig,
    NetworkConfig,
    PerturbationConfig,
    PopulationConfig,
    SimConfig,
)
from causalcell.sim._measure import MeasurementConfig

PRESETS: dict[str, SimConfig] = {
    # seconds: 150 genes, 8 knockouts and 3 pairs, two batches; for tests and examples
    "small": SimConfig(
        name="small",
        truth_panel=128,
        network=NetworkConfig(n_genes=150, n_modules=3),
        perturbation=PerturbationConfig(
            kind="knockout", n_single=8, n_combo=3, cells_per_perturbation=80, n_control=400
        ),
        measurement=MeasurementConfig(depth=3000, n_batches=2),
    ),
    # genome-scale-like CRISPRi screen: 1,000 genes, 300 singles, 50 pairs, ~20k cells.
    # Count parameters measured on the real Papalexi et al. 2021 screen (bench/sim_realism.py):
    # sd of log library size 0.54 (depth_sd), sd of log gene means 1.85 (base_sd), median
    # overdispersion 0.66 with gene-to-gene spread (noise_sd_spread), no zero inflation beyond
    # the negative binomial (dropout 0); heavier-tailed out-degrees and stronger edges
    # (spectral_radius 0.8) so that more perturbations have trans effects, as the real ones do.
    "perturbseq": SimConfig(
        name="perturbseq",
        truth_panel=128,
        network=NetworkConfig(
            n_genes=1000,
            n_modules=20,
            regulator_fraction=0.1,
            degree_exponent=2.0,
            min_out_degree=5,
            spectral_radius=0.8,
        ),
        cells=CellConfig(base_sd=1.8, noise_sd=0.25, noise_sd_spread=0.6),
        perturbation=PerturbationConfig(
            kind="crispri",
            n_single=300,
            n_combo=50,
            cells_per_perturbation=50,
            n_control=2000,
            off_target_rate=0.02,
        ),
        measurement=MeasurementConfig(depth=5000, depth_sd=0.5, n_batches=3, dropout=0.0),
    ),
    # Norman et al. 2019-like: CRISPRa singles and pairs, saturating mechanism with AND/OR
    # terms, so pairs show genetic interactions (non-additive deltas). As in the screen, most
    # pairs are related genes (co-regulators of a shared target: combo_related), and 40 of
    # them act jointly on that target through an AND (synergy) or OR (buffering) term; random
    # pairs of a sparse network share no target and are additive (docs/benchmarks/sim_interactions)
    "norman": SimConfig(
        name="norman",
        truth_panel=64,
        network=NetworkConfig(n_genes=400, n_modules=8),
        mechanism=MechanismConfig(hill=1.0, n_pairs=60, pair_weight=0.8, combo_pairs=40),
        perturbation=PerturbationConfig(
            kind="crispra",
            n_single=100,
            n_combo=130,
            combo_related=0.6,
            guides_per_target=2,
            dead_rate=0.05,
            cells_per_perturbation=50,
            n_control=1500,
            target_regulators=0.9,
        ),
        measurement=MeasurementConfig(depth=4000, n_batches=2),
    ),
    # degron time course: instant protein loss, cells sampled 15 min to 8 h after
    "degron_timecourse": SimConfig(
        name="degron_timecourse",
        truth_panel=128,
        network=NetworkConfig(n_genes=200, n_modules=5),
        perturbation=PerturbationConfig(
            kind="degron",
            n_single=20,
            target_regulators=1.0,
            guides_per_target=1,
            dead_rate=0.0,
            efficacy_beta=(20.0, 1.0),
            cells_per_perturbation=40,
            n_control=100,
            times=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
        ),
        measurement=MeasurementConfig(depth=4000),
    ),
    # bulk RNA-seq of knockouts in mixtures of three cell types with varying proportions
    "bulk_mixture": SimConfig(
        name="bulk_mixture",
        mode="bulk",
        truth_panel=128,
        network=NetworkConfig(n_genes=300, n_modules=6),
        cells=CellConfig(n_cell_types=3, programs_per_type=2, program_sd=1.0),
        perturbation=PerturbationConfig(kind="knockout", n_single=20),
        bulk=BulkConfig(samples_per_condition=4, cells_per_sample=500),
    ),
    # donors with cis-eQTLs and a disease caused by known genes in one cell type
    "population": SimConfig(
        name="population",
        mode="population",
        truth_panel=128,
        network=NetworkConfig(n_genes=200, n_modules=5),
        cells=CellConfig(n_cell_types=3),
        perturbation=PerturbationConfig(n_single=0),
        population=PopulationConfig(n_donors=40, cells_per_donor=30),
    ),
}


def list_presets() -> list[str]:
    """Names of the presets."""
    return sorted(PRESETS)


def get_preset(name: str) -> SimConfig:
    """The config of preset ``name``; :class:`InputError` listing the valid names otherwise."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(list_presets())}")
    return PRESETS[name]
