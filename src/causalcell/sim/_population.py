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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell.sim._cells import design_from, sample_counts_for
from causalcell.sim._mechanism import steady_state
from causalcell.sim._world import World


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

    def genotypes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Allele dosages of ``n`` people, shape (n, snps)."""
        return rng.binomial(2, self.maf, (n, self.maf.size)).astype(float)

    def basal_shift(self, dosage: np.ndarray, n_genes: int, cell_type: int) -> np.ndarray:
        """Shift of every gene's basal input in one cell type, shape (people, genes)."""
        shift = np.zeros((dosage.shape[0], n_genes))
        beta = self.beta * self.active[cell_type]
        np.add.at(shift.T, self.gene, ((dosage - 2 * self.maf) * beta).T)
        return shift


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


def _ols(g: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marginal OLS slope and se of ``y`` (n,) or (n, k) on each column of ``g``."""
    gc = g - g.mean(axis=0)
    yc = (y - y.mean(axis=0)).reshape(len(y), -1)
    ss = (gc**2).sum(axis=0)
    beta = (gc * yc).sum(axis=0) / ss
    resid = yc - gc * beta
    se = np.sqrt((resid**2).sum(axis=0) / (len(y) - 2) / ss)
    return beta, se


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

    def liability_and_shift(n: int):
        dosage = gen.genotypes(n, rng)
        shift = gen.basal_shift(dosage, n_genes, ct)
        genetic = (_mean_state(world, shift, ct) - world.reg.setpoint) @ alpha
        genetic += (dosage - 2 * gen.maf) @ gen.pleiotropy
        return dosage, genetic

    # noise calibrated on a large reference sample so that h2 is as configured
    _, ref = liability_and_shift(cfg.n_gwas)
    noise_sd = np.sqrt(ref.var() * (1 - cfg.heritability) / max(cfg.heritability, 1e-9))
    threshold = np.quantile(ref + rng.normal(0, noise_sd, ref.size), 1 - cfg.prevalence)

    dosage, genetic = liability_and_shift(cfg.n_donors)
    env, env_genes = _environment(world, cfg.n_donors, cfg.confounder_sd, rng)
    liability = genetic + rng.normal(0, noise_sd, cfg.n_donors) + env * ref.std()
    phenotype = (liability > threshold).astype(int)

    donor = np.repeat(np.arange(cfg.n_donors), n_types * cfg.cells_per_donor)
    cell_type = np.tile(np.repeat(np.arange(n_types), cfg.cells_per_donor), cfg.n_donors)
    shifts = np.stack([gen.basal_shift(dosage, n_genes, c) for c in range(n_types)])
    shifts += cfg.confounder_sd * np.outer(env, env_genes)[None]
    design = design_from(world, [()] * donor.size, rng, cell_type=cell_type)
    counts = sample_counts_for(world, design, rng, basal_shift=shifts[cell_type, donor])
    obs = _obs_frame(design, world)
    obs["donor"] = pd.Categorical(np.char.add("donor", donor.astype(str)))
    obs["phenotype"] = phenotype[donor]

    tables = _sumstats(world, gen, alpha, noise_sd, ct, rng)
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


def _sumstats(world, gen: Genetics, alpha, noise_sd, ct, rng) -> dict[str, pd.DataFrame]:
    """Exposure (eQTL, in the disease cell type) and outcome (GWAS) summary statistics."""
    cfg = world.config.population
    n_genes = world.net.n_genes
    # exposure: expression in the disease cell type, measured with noise
    dos_e = gen.genotypes(cfg.n_eqtl, rng)
    expr = _mean_state(world, gen.basal_shift(dos_e, n_genes, ct), ct)
    expr += rng.normal(0, world.config.cells.noise_sd, expr.shape)
    # outcome: the liability (quantitative disease score)
    dos_g = gen.genotypes(cfg.n_gwas, rng)
    x = _mean_state(world, gen.basal_shift(dos_g, n_genes, ct), ct)
    liab = (x - world.reg.setpoint) @ alpha + (dos_g - 2 * gen.maf) @ gen.pleiotropy
    liab += rng.normal(0, noise_sd, cfg.n_gwas)
    b_out, se_out = _ols(dos_g, liab)
    b_exp, se_exp = _ols(dos_e, expr[:, gen.gene])
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
