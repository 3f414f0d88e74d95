"""Configuration dataclasses of the simulator, one per layer of the model.

Every field name is unique across sections, so ``simulate(preset, n_genes=50, theta=3)``
overrides fields by their plain names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from causalcell._errors import InputError
from causalcell.sim._measure import MeasurementConfig


@dataclass(frozen=True)
class NetworkConfig:
    """Network layer (see :func:`causalcell.sim.random_network`).

    ``edges`` names an edge list instead: a CSV path with ``source,target,weight`` (or
    DoRothEA's ``tf,target,mor``); then ``n_genes`` caps the genes kept (the largest regulons
    first) and ``None`` keeps them all. A network passed to ``simulate(network=...)`` keeps all
    its genes unless ``n_genes`` is given too.
    """

    n_genes: int | None = 100
    n_modules: int = 5
    regulator_fraction: float = 0.15
    min_out_degree: int = 3
    degree_exponent: float = 2.5
    within_module: float = 0.8
    positive_fraction: float = 0.6
    weight_range: tuple[float, float] = (0.3, 0.9)
    autoregulation: float = 0.1
    n_feedback: int = 3
    spectral_radius: float = 0.6
    edges: str | None = None


@dataclass(frozen=True)
class CellConfig:
    """Cell population: reference expression, intrinsic noise, cell types and trajectory.

    Attributes
    ----------
    base_sd
        Sd across genes of the reference log expression (the control steady state).
    noise_sd
        Sd of the static intrinsic noise of each cell's basal input (the median over genes).
    noise_sd_spread
        Sd across genes of the log of each gene's noise sd (0: every gene has ``noise_sd``);
        gives genes different overdispersion, as in real data.
    n_cell_types
        Number of cell types, in equal proportions.
    programs_per_type
        Modules switched by each cell type's program.
    program_sd
        Sd of the module-wide log shift of a program.
    trajectory
        Cells lie uniformly on a differentiation path through the type programs in order
        (type 0 at pseudotime 0, the last type at 1; at least two types), obs ``pseudotime``;
        ``cell_type`` is the nearest milestone.
    """

    base_sd: float = 1.5
    noise_sd: float = 0.25
    noise_sd_spread: float = 0.0
    n_cell_types: int = 1
    programs_per_type: int = 2
    program_sd: float = 1.0
    trajectory: bool = False


@dataclass(frozen=True)
class MechanismConfig:
    """Regulatory mechanism and dynamics.

    Attributes
    ----------
    hill
        Hill coefficient of the saturating response (None: affine, linear in log space).
    n_pairs
        Number of AND/OR-like pair terms (two regulators of a shared target).
    pair_weight
        Absolute weight of pair terms.
    combo_pairs
        Number of designed pair combinations (``PerturbationConfig.combo_related``) given an
        AND/OR term on a shared target, on top of ``n_pairs`` random ones. Needs ``hill``.
    gain
        Gain of each target's sigmoid promoter response to its summed input (None: linear);
        makes co-regulators of a target interact (synergy below the sigmoid's midpoint,
        buffering above it). Needs ``hill``.
    offset_max
        Promoter set points are drawn uniformly in ``[-offset_max, offset_max]`` around the
        sigmoid's midpoint; the largest promoter slope is ``cosh(offset_max)^2``.
    tau_range
        Range of mRNA lifetimes in hours (log-uniform).
    sde_noise
        Stationary sd of the dynamic intrinsic noise of time courses.
    dt
        Integration step in hours.
    burn_in
        Hours of unperturbed dynamics before time 0.
    """

    hill: float | None = None
    n_pairs: int = 0
    pair_weight: float = 0.3
    combo_pairs: int = 0
    gain: float | None = None
    offset_max: float = 0.6
    tau_range: tuple[float, float] = (0.5, 4.0)
    sde_noise: float = 0.1
    dt: float = 0.05
    burn_in: float = 8.0


@dataclass(frozen=True)
class PerturbationConfig:
    """Experiment design.

    Attributes
    ----------
    kind
        One of ``knockout, crispri, crispra, degron, induction``.
    fold
        Fold change of a target at full efficacy (None: the kind's default).
    n_single
        Number of single-gene perturbations.
    n_combo
        Number of combinations (drawn among the single targets).
    combo_order
        Genes per combination (any order >= 2); a tuple such as ``(2, 3)`` mixes orders,
        cycling through them.
    combo_related
        Fraction of pair combinations drawn among target pairs that share a direct target
        gene (co-regulators, as in screens that pick related genes); the rest are drawn at
        random. Applies to order-2 designs.
    target_regulators
        Fraction of single targets drawn among regulators.
    guides_per_target
        Guides per target gene.
    efficacy_beta
        Beta parameters of guide efficacy.
    dead_rate
        Fraction of dead guides.
    escape_rate
        Probability that a cell escapes a guide.
    off_target_rate
        Probability that a guide also hits another gene.
    off_target_efficacy
        Off-target efficacy relative to on-target.
    moi
        Mean guides per cell: extra guides ``~ Poisson(moi - 1)`` drawn from the library.
    cells_per_perturbation
        Cells per perturbation (per time point for time courses).
    n_control
        Control cells (per time point for time courses).
    n_control_guides
        Non-targeting guides ``NT_g<k>``.
    times
        Hours after perturbation at which cells are sampled; empty = steady state.
    """

    kind: str = "knockout"
    fold: float | None = None
    n_single: int = 10
    n_combo: int = 0
    combo_order: int | tuple[int, ...] = 2
    combo_related: float = 0.0
    target_regulators: float = 0.8
    guides_per_target: int = 3
    efficacy_beta: tuple[float, float] = (6.0, 1.5)
    dead_rate: float = 0.1
    escape_rate: float = 0.05
    off_target_rate: float = 0.0
    off_target_efficacy: float = 0.5
    moi: float = 1.0
    cells_per_perturbation: int = 100
    n_control: int = 500
    n_control_guides: int = 4
    times: tuple[float, ...] = ()


@dataclass(frozen=True)
class BulkConfig:
    """Bulk samples: sums over cells drawn from cell-type mixtures.

    Attributes
    ----------
    samples_per_condition
        Bulk samples per condition (control and each perturbation).
    cells_per_sample
        Cells summed into a bulk sample.
    proportion_concentration
        Dirichlet concentration of cell-type proportions (large = nearly equal).
    """

    samples_per_condition: int = 4
    cells_per_sample: int = 500
    proportion_concentration: float = 5.0


@dataclass(frozen=True)
class PopulationConfig:
    """Donors, cis-eQTLs and a disease.

    Attributes
    ----------
    n_donors
        Donors with single-cell data.
    cells_per_donor
        Cells per donor and cell type.
    egenes_fraction
        Fraction of genes with cis-eQTL variants.
    snps_per_gene
        Independent cis variants per eGene.
    eqtl_sd
        Sd of eQTL effects on log expression (per allele).
    n_causal
        Genes whose expression in the disease cell type causes the disease.
    causal_sd
        Sd of their effects on the liability.
    disease_cell_type
        Cell type in which the causal genes act.
    heritability
        Share of liability variance explained by genetic expression; the rest is noise.
    prevalence
        Fraction of donors and GWAS individuals labelled cases.
    pleiotropy_rate
        Fraction of variants with a direct effect on the liability (horizontal pleiotropy).
    n_gwas
        Individuals of the outcome GWAS.
    n_eqtl
        Individuals of the exposure (eQTL) study.
    eqtl_sharing
        Probability that a cis variant also acts in each cell type other than its own (drawn
        uniformly); 0: cell-type-specific eQTLs, 1: every variant acts in every cell type.
    confounder_sd
        Sd of a donor-level environmental factor (disease activity, age, ...) shifting the basal
        input of one module's genes in every cell type; the same factor adds to the liability
        with the sd of its genetic part. 0: no confounder.
    """

    n_donors: int = 40
    cells_per_donor: int = 30
    egenes_fraction: float = 0.3
    snps_per_gene: int = 5
    eqtl_sd: float = 0.3
    n_causal: int = 5
    causal_sd: float = 0.5
    disease_cell_type: int = 0
    heritability: float = 0.5
    prevalence: float = 0.5
    pleiotropy_rate: float = 0.0
    n_gwas: int = 20000
    n_eqtl: int = 2000
    eqtl_sharing: float = 0.0
    confounder_sd: float = 0.0


@dataclass(frozen=True)
class SimConfig:
    """A full simulation: one section per layer, plus the output mode.

    Attributes
    ----------
    name
        Preset name.
    mode
        ``cells`` (single cells), ``bulk`` (bulk samples) or ``population`` (donors).
    truth_panel
        Cells of the common-random-numbers panel used to compute expected deltas.
    """

    name: str = "custom"
    mode: str = "cells"
    truth_panel: int = 256
    network: NetworkConfig = field(default_factory=NetworkConfig)
    cells: CellConfig = field(default_factory=CellConfig)
    mechanism: MechanismConfig = field(default_factory=MechanismConfig)
    perturbation: PerturbationConfig = field(default_factory=PerturbationConfig)
    measurement: MeasurementConfig = field(default_factory=MeasurementConfig)
    bulk: BulkConfig = field(default_factory=BulkConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)

    def override(self, **changes) -> SimConfig:
        """Copy with fields replaced by their plain names, in whichever section holds them."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        sections = {k: v for k, v in values.items() if dataclasses.is_dataclass(v)}
        top = set(values) - set(sections)
        where = {k: s for s, obj in sections.items() for k in _field_names(obj)}
        unknown = sorted(set(changes) - set(where) - top)
        if unknown:
            raise InputError(
                f"unknown simulation parameter(s) {unknown}; valid: {sorted(set(where) | top)}"
            )
        new = {
            s: dataclasses.replace(obj, **{k: v for k, v in changes.items() if where.get(k) == s})
            for s, obj in sections.items()
        }
        new.update({k: v for k, v in changes.items() if k in top})
        return dataclasses.replace(self, **new)


def _field_names(obj) -> list[str]:
    return [f.name for f in dataclasses.fields(obj)]
