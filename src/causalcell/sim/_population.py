"""Population mode: donors with cis-eQTL genotypes, single cells per donor, a disease.

Genetics: a fraction of genes (eGenes) each carry ``snps_per_gene`` independent cis variants
(MAF ~ U(0.05, 0.5)) that shift the gene's basal input by ``beta * (dosage - 2 maf)``. Each
variant acts in one cell type drawn uniformly (its "home") and in each other cell type with
probability ``eqtl_sharing`` (0: cell-type-specific eQTLs, as most single-cell eQTL maps find;
1: shared by all). The shift propagates through the network (trans effects), so a variant moves
its gene by ``beta * T[k, k]`` in the cell types where it acts.

Disease: the liability of a person is ``sum_j alpha_j xbar_j + pleiotropy + noise``, where
``xbar`` is the noise-free steady state of the person in ``disease_cell_type`` and ``alpha`` is
nonzero for ``n_causal`` genes, drawn among the eGenes with a variant acting in that cell type
(the genes Mendelian randomization can test); noise gives the configured heritability and the top
``prevalence`` fraction are cases (``phenotype = 1``, a donor property repeated on its cells).

Summary statistics (for Mendelian randomization): per eGene, marginal OLS of its expression in
the disease cell type on each of its variants in an eQTL cohort (``n_eqtl`` people, expression
measured with sd ``noise_sd``: exposure) and of the liability, a quantitative disease score, on
the variants in a GWAS cohort (``n_gwas`` people: outcome). The MR estimand of gene ``k`` is then
``mr_effect[k] = (T alpha)_k / T[k, k]`` (exact for the affine mechanism), stored in the truth
with ``disease_effect`` (alpha) and ``disease_effect_total`` (``T alpha``). Tables:
``sumstats.csv`` (all eGenes, column ``gene``) and ``sumstats/<gene>.csv``.

Environment (``confounder_sd > 0``): a donor-level factor ``u ~ N(0, 1)`` shifts the basal input
of the genes of one module by ``confounder_sd * u`` in every cell type and adds ``u`` times the sd
of the genetic liability to the liability: a non-genetic common cause of expression and disease,
invisible to Mendelian randomization, that single-cell analyses must adjust for.
``confounder_effect`` (genes) is the factor's effect on each gene's expression (through ``T``).

Truth for single-cell analyses: ``genetic_cov`` (cell types x genes), the covariance across people
of each gene's mean expression in each cell type with the liability (exact for the affine
mechanism). A gene with ``genetic_cov == 0`` in a cell type is a true null there: its donor-level
expression carries no information on the disease, whatever it is adjusted for that is not a
descendant of it.

Cost: genotypes are drawn in blocks of people (two alleles from one uniform per dosage) and the
GWAS is reduced to per-variant moments block by block, so memory does not grow with ``n_gwas``.
For the affine mechanism the genetic liability is linear in the dosages,
``const + (dosage - 2 maf) @ w`` with ``w = beta active[ct] (T alpha)[gene] + pleiotropy``
(exactly the steady-state definition above), and the reference sample that calibrates the noise
only needs the variants with ``w != 0``; other mechanisms solve the steady state per block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from causalcell.sim._cells import Design, design_from, sample_counts_for
from causalcell.sim._mechanism import steady_state
from causalcell.sim._world import World

BLOCK = 10_000
"""People per block of genotypes (bounds memory; fixed, as the random stream depends on it)."""

CELL_BLOCK = 20_000
"""Cells per call of the count sampler (bounds the memory of their basal shifts; fixed)."""


@dataclass(frozen=True)
class Genetics:
    """cis-eQTL variants: gene, MAF, effect on the basal input, direct (pleiotropic) effect.

    ``active[c, s]`` says whether variant ``s`` acts in cell type ``c``.
    """

    gene: np.ndarray
    maf: np.ndarray
    beta: np.ndarray
    pleiotropy: np.ndarray
    active: np.ndarray

    def genotypes(
        self, n: int, rng: np.random.Generator, snps: np.ndarray | None = None
    ) -> np.ndarray:
        """Allele dosages ~ Binomial(2, maf) of ``n`` people, shape (n, snps).

        One uniform ``u`` per dosage: ``(u > (1 - maf)^2) + (u > 1 - maf^2)``, which is 0, 1, 2
        with probabilities ``(1 - maf)^2``, ``2 maf (1 - maf)``, ``maf^2``. ``snps`` restricts
        to those variants (default all).
        """
        maf = self.maf if snps is None else self.maf[snps]
        u = rng.random((n, maf.size), dtype=np.float32)
        return (u > (1 - maf) ** 2).astype(float) + (u > 1 - maf**2)

    def shift_matrix(self, n_genes: int, cell_type: int) -> sparse.csr_matrix:
        """(snps x genes) effect of each centred dosage on the basal inputs in one cell type."""
        beta = self.beta * self.active[cell_type]
        rows = np.arange(self.gene.size)
        return sparse.csr_matrix((beta, (rows, self.gene)), shape=(self.gene.size, n_genes))

    def basal_shift(self, dosage: np.ndarray, n_genes: int, cell_type: int) -> np.ndarray:
        """Shift of every gene's basal input in one cell type, shape (people, genes)."""
        return np.asarray((dosage - 2 * self.maf) @ self.shift_matrix(n_genes, cell_type))


def _genetics(world: World, rng: np.random.Generator) -> Genetics:
    cfg = world.config.population
    n_genes, n_types = world.net.n_genes, world.programs.shape[0]
    egenes = np.sort(rng.choice(n_genes, max(1, round(cfg.egenes_fraction * n_genes)), False))
    gene = np.repeat(egenes, cfg.snps_per_gene)
    beta = rng.normal(0, cfg.eqtl_sd, gene.size)
    pleio = rng.normal(0, cfg.eqtl_sd * cfg.causal_sd, gene.size)
    pleio *= rng.random(gene.size) < cfg.pleiotropy_rate
    active = rng.random((n_types, gene.size)) < cfg.eqtl_sharing
    active[rng.integers(0, n_types, gene.size), np.arange(gene.size)] = True
    return Genetics(gene, rng.uniform(0.05, 0.5, gene.size), beta, pleio, active)


def _causal_genes(gen: Genetics, n_genes: int, n: int, ct: int, rng) -> np.ndarray:
    """``n`` causal genes, first among the eGenes with a variant acting in cell type ``ct``."""
    testable = np.unique(gen.gene[gen.active[ct]])
    n = min(n, n_genes)
    first = rng.choice(testable, min(n, testable.size), replace=False)
    rest = np.setdiff1d(np.arange(n_genes), first)
    return np.concatenate([first, rng.choice(rest, n - first.size, replace=False)])


def _environment(world: World, n: int, sd: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Donor-level environmental factor (zeros when ``sd == 0``) and its module indicator."""
    genes = np.zeros(world.net.n_genes)
    if sd <= 0:
        return np.zeros(n), genes
    module = world.net.module
    genes[module == rng.choice(np.unique(module))] = 1.0
    return rng.normal(size=n), genes


def _mean_state(world: World, shift: np.ndarray, cell_type: int) -> np.ndarray:
    """Noise-free steady state of people with basal shifts ``shift`` in one cell type."""
    return steady_state(world.b0 + world.programs[cell_type] + shift, world.reg)


@dataclass(frozen=True)
class Liability:
    """Genetic part of the disease liability, ``(xbar - setpoint) @ alpha + pleiotropy``.

    ``xbar`` is the noise-free steady state in cell type ``ct``. For the affine mechanism it is
    ``const + (dosage - 2 maf) @ weight`` (``weight`` per variant); otherwise ``weight`` is None
    and the steady state is solved.
    """

    world: World
    gen: Genetics
    alpha: np.ndarray
    ct: int
    const: float
    weight: np.ndarray | None

    @classmethod
    def build(cls, world: World, gen: Genetics, alpha: np.ndarray, ct: int) -> Liability:
        """The liability of a world, its variants and disease effects ``alpha``."""
        base = _mean_state(world, np.zeros((1, world.net.n_genes)), ct)[0]
        const = float((base - world.reg.setpoint) @ alpha)
        weight = None
        if world.reg.affine:
            weight = gen.beta * gen.active[ct] * (world.reg.T @ alpha)[gen.gene] + gen.pleiotropy
        return cls(world, gen, alpha, ct, const, weight)

    @property
    def snps(self) -> np.ndarray:
        """Variants that can move the liability (all unless affine)."""
        if self.weight is None:
            return np.arange(self.gen.gene.size)
        return np.flatnonzero(self.weight)

    def __call__(self, dosage: np.ndarray, snps: np.ndarray | None = None) -> np.ndarray:
        """Genetic liability of people with dosages (n, snps) over ``snps`` (default all).

        A subset must hold every variant of :attr:`snps`.
        """
        gen = self.gen
        snps = np.arange(gen.gene.size) if snps is None else snps
        centred = dosage - 2 * gen.maf[snps]
        if self.weight is not None:
            return self.const + centred @ self.weight[snps]
        full = np.zeros((dosage.shape[0], gen.gene.size))
        full[:, snps] = centred
        shift = np.asarray(full @ gen.shift_matrix(self.world.net.n_genes, self.ct))
        x = _mean_state(self.world, shift, self.ct)
        return (x - self.world.reg.setpoint) @ self.alpha + full @ gen.pleiotropy


def _blocks(n: int) -> Iterator[int]:
    """Sizes of the blocks of ``n`` people."""
    for start in range(0, n, BLOCK):
        yield min(BLOCK, n - start)


def _ols(g: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marginal OLS slope and se of ``y`` (n,) or (n, k) on each column of ``g``."""
    gc = g - g.mean(axis=0)
    yc = (y - y.mean(axis=0)).reshape(len(y), -1)
    ss = (gc**2).sum(axis=0)
    beta = (gc * yc).sum(axis=0) / ss
    resid = yc - gc * beta
    se = np.sqrt((resid**2).sum(axis=0) / (len(y) - 2) / ss)
    return beta, se


class MarginalOLS:
    """Marginal OLS of one outcome on each column of ``g``, accumulated over blocks of rows.

    Sums of the block-centred moments are combined exactly (Chan et al.'s pairwise update), so
    the slopes and SEs equal :func:`_ols` on the stacked rows.
    """

    def __init__(self) -> None:
        self.n = 0
        self.mean_g = self.mean_y = 0.0
        self.sgg = self.sgy = self.syy = 0.0

    def add(self, g: np.ndarray, y: np.ndarray) -> None:
        """Add rows ``g`` (n, snps) with outcomes ``y`` (n,)."""
        m = len(y)
        mg, my = g.mean(axis=0), y.mean()
        gc, yc = g - mg, y - my
        dg, dy = mg - self.mean_g, my - self.mean_y
        w = self.n * m / (self.n + m)
        self.sgg = self.sgg + (gc**2).sum(axis=0) + w * dg**2
        self.sgy = self.sgy + yc @ gc + w * dg * dy
        self.syy = self.syy + yc @ yc + w * dy**2
        self.mean_g = self.mean_g + dg * m / (self.n + m)
        self.mean_y = self.mean_y + dy * m / (self.n + m)
        self.n += m

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Slopes and their SEs, shape (snps,) each."""
        beta = self.sgy / self.sgg
        rss = np.maximum(self.syy - beta * self.sgy, 0.0)
        return beta, np.sqrt(rss / (self.n - 2) / self.sgg)


def genetic_covariance(gen: Genetics, T: np.ndarray, alpha: np.ndarray, ct: int) -> np.ndarray:
    """Covariance across people of each gene's mean expression per cell type with the liability.

    For the affine mechanism a variant ``s`` of gene ``g`` moves gene ``j`` in cell type ``c`` by
    ``beta_s active[c, s] T[g, j]`` per allele and the liability by ``beta_s active[ct, s]
    (T alpha)_g + pleiotropy_s``; variants are independent with dosage variance ``2 maf (1 -
    maf)``. Returns shape (cell types, genes).
    """
    var = 2 * gen.maf * (1 - gen.maf)
    on_disease = gen.beta * gen.active[ct] * (T @ alpha)[gen.gene] + gen.pleiotropy
    weight = var * on_disease * gen.beta  # (snps,)
    return (gen.active * weight) @ T[gen.gene]


def _calibrate(liab: Liability, n: int, heritability: float, prevalence: float, rng):
    """Noise sd giving the heritability and the case threshold, on a reference sample of ``n``.

    Returns ``(noise_sd, threshold, genetic sd)``.
    """
    snps = liab.snps
    ref = np.concatenate([liab(liab.gen.genotypes(m, rng, snps), snps) for m in _blocks(n)])
    noise_sd = np.sqrt(ref.var() * (1 - heritability) / max(heritability, 1e-9))
    threshold = np.quantile(ref + rng.normal(0, noise_sd, ref.size), 1 - prevalence)
    return noise_sd, threshold, ref.std()


def _control_design(world: World, cell_type: np.ndarray, rng) -> Design:
    """Design of unperturbed cells of the given types (as :func:`design_from` with no targets).

    Without designed targets and with ``moi <= 1`` a cell carries no guide: it gets a random
    non-targeting guide id and batch, and an empty efficacy row.
    """
    pert, cells = world.config.perturbation, world.config.cells
    n = cell_type.size
    if pert.moi > 1 or cells.trajectory:
        return design_from(world, [()] * n, rng, cell_type=cell_type)
    nt = rng.integers(1, pert.n_control_guides + 1, n)
    return Design(
        label=np.full(n, "control"),
        guide=np.char.add("NT_g", nt.astype(str)),
        E=sparse.csr_matrix((n, world.net.n_genes)),
        cell_type=cell_type,
        pseudotime=None,
        batch=rng.integers(0, world.config.measurement.n_batches, n),
        time=None,
    )


def _donor_counts(
    world: World, design: Design, shifts: np.ndarray, donor: np.ndarray, rng
) -> sparse.csr_matrix:
    """Counts of the donors' cells, in blocks of ``CELL_BLOCK`` cells to bound memory.

    ``shifts`` (cell types x donors x genes) are the donors' basal shifts per cell type.
    """
    blocks = []
    for start in range(0, design.n_cells, CELL_BLOCK):
        rows = slice(start, start + CELL_BLOCK)
        part = Design(
            label=design.label[rows],
            guide=design.guide[rows],
            E=design.E[rows],
            cell_type=design.cell_type[rows],
            pseudotime=None if design.pseudotime is None else design.pseudotime[rows],
            batch=design.batch[rows],
            time=None if design.time is None else design.time[rows],
        )
        shift = shifts[part.cell_type, donor[rows]]
        blocks.append(sample_counts_for(world, part, rng, basal_shift=shift))
    return sparse.vstack(blocks, format="csr")


def simulate_population(world: World, rng: np.random.Generator):
    """Population mode of :func:`causalcell.sim.simulate` (see module docstring)."""
    from causalcell.sim._simulate import (
        SimulatedData,
        _anndata,
        _obs_frame,
        _str_array,
        world_truth,
    )

    cfg = world.config.population
    n_genes, n_types = world.net.n_genes, world.programs.shape[0]
    ct = min(cfg.disease_cell_type, n_types - 1)
    gen = _genetics(world, rng)
    alpha = np.zeros(n_genes)
    causal = _causal_genes(gen, n_genes, cfg.n_causal, ct, rng)
    alpha[causal] = rng.normal(0, cfg.causal_sd, causal.size)
    liab = Liability.build(world, gen, alpha, ct)

    # noise calibrated on a large reference sample so that h2 is as configured
    noise_sd, threshold, genetic_sd = _calibrate(
        liab, cfg.n_gwas, cfg.heritability, cfg.prevalence, rng
    )

    dosage = gen.genotypes(cfg.n_donors, rng)
    env, env_genes = _environment(world, cfg.n_donors, cfg.confounder_sd, rng)
    liability = liab(dosage) + rng.normal(0, noise_sd, cfg.n_donors) + env * genetic_sd
    phenotype = (liability > threshold).astype(int)

    donor = np.repeat(np.arange(cfg.n_donors), n_types * cfg.cells_per_donor)
    cell_type = np.tile(np.repeat(np.arange(n_types), cfg.cells_per_donor), cfg.n_donors)
    shifts = np.stack([gen.basal_shift(dosage, n_genes, c) for c in range(n_types)])
    shifts += cfg.confounder_sd * np.outer(env, env_genes)[None]
    design = _control_design(world, cell_type, rng)
    counts = _donor_counts(world, design, shifts, donor, rng)
    obs = _obs_frame(design, world)
    obs["donor"] = pd.Categorical(np.char.add("donor", donor.astype(str)))
    obs["phenotype"] = phenotype[donor]

    tables = _sumstats(world, gen, liab, noise_sd, rng)
    T = world.reg.T
    truth = world_truth(world) | {
        "perturbations": _str_array([]),
        "delta": np.zeros((0, n_genes)),
        "disease_effect": alpha,
        "disease_effect_total": T @ alpha,
        "mr_effect": (T @ alpha) / np.diag(T),
        "causal_genes": _str_array(world.genes[np.sort(causal)]),
        "disease_cell_type": f"type{ct}",
        "cell_types": _str_array([f"type{c}" for c in range(n_types)]),
        "genetic_cov": genetic_covariance(gen, T, alpha, ct),
        "confounder_effect": cfg.confounder_sd * env_genes @ T,
        "donor_environment": env,
        "snp": _str_array([f"rs{i}" for i in range(gen.gene.size)]),
        "snp_gene": _str_array(world.genes[gen.gene]),
        "snp_maf": gen.maf,
        "eqtl_beta": gen.beta,
        "eqtl_active": gen.active,
        "eqtl_effect_on_gene": gen.beta * np.diag(T)[gen.gene] * gen.active[ct],
        "snp_pleiotropy": gen.pleiotropy,
        "genotypes": dosage,
        "donor_liability": liability,
        "donor_phenotype": phenotype,
        "liability_noise_sd": noise_sd,
    }
    return SimulatedData(_anndata(counts, obs, world), truth, tables)


def _egene_expression(world: World, gen: Genetics, dosage: np.ndarray, ct: int) -> np.ndarray:
    """Noise-free expression of the eGenes (sorted) in cell type ``ct``, shape (people, eGenes)."""
    egenes = np.unique(gen.gene)
    shift = gen.basal_shift(dosage, world.net.n_genes, ct)
    if not world.reg.affine:
        return _mean_state(world, shift, ct)[:, egenes]
    base = _mean_state(world, np.zeros((1, world.net.n_genes)), ct)[0, egenes]
    # the shift is zero outside the eGenes: x = (b + shift) T restricted to their rows/columns
    return base + shift[:, egenes] @ world.reg.T[np.ix_(egenes, egenes)]


def _sumstats(world, gen: Genetics, liab: Liability, noise_sd, rng) -> dict[str, pd.DataFrame]:
    """Exposure (eQTL, in the disease cell type) and outcome (GWAS) summary statistics."""
    cfg = world.config.population
    # exposure: expression in the disease cell type, measured with noise
    dos_e = gen.genotypes(cfg.n_eqtl, rng)
    expr = _egene_expression(world, gen, dos_e, liab.ct)
    expr += rng.normal(0, world.config.cells.noise_sd, expr.shape)
    b_exp, se_exp = _ols(dos_e, expr[:, np.searchsorted(np.unique(gen.gene), gen.gene)])
    # outcome: the liability (quantitative disease score), GWAS in blocks of people
    gwas = MarginalOLS()
    for m in _blocks(cfg.n_gwas):
        dos_g = gen.genotypes(m, rng)
        gwas.add(dos_g, liab(dos_g) + rng.normal(0, noise_sd, m))
    b_out, se_out = gwas.result()
    table = pd.DataFrame(
        {
            "gene": world.genes[gen.gene],
            "snp": [f"rs{i}" for i in range(gen.gene.size)],
            "beta_exposure": b_exp,
            "se_exposure": se_exp,
            "beta_outcome": b_out,
            "se_outcome": se_out,
        }
    )
    tables = {"sumstats.csv": table}
    cols = ["beta_exposure", "se_exposure", "beta_outcome", "se_outcome", "snp"]
    for gene, sub in table.groupby("gene", sort=True):
        tables[f"sumstats/{gene}.csv"] = sub[cols].reset_index(drop=True)
    return tables
