"""Population mode: donors with cis-eQTL genotypes, single cells per donor, a disease.

Genetics: a fraction of genes (eGenes) each carry ``snps_per_gene`` independent cis variants
(MAF ~ U(0.05, 0.5)) that shift the gene's basal input by ``beta * (dosage - 2 maf)``; the shift
propagates through the network (trans effects), so a variant moves its gene by ``beta *
T[k, k]``. Disease: the liability of a person is ``sum_j alpha_j xbar_j + pleiotropy + noise``,
where ``xbar`` is the noise-free steady state of the person in ``disease_cell_type`` and
``alpha`` is nonzero for ``n_causal`` genes; noise gives the configured heritability and the top
``prevalence`` fraction are cases (``phenotype = 1``).

Summary statistics (for Mendelian randomization): per eGene, marginal OLS of its expression in
the disease cell type on each of its variants in an eQTL cohort (``n_eqtl`` people, expression
measured with sd ``noise_sd``: exposure) and of the liability, a quantitative disease score, on
the variants in a GWAS cohort (``n_gwas`` people: outcome). The MR estimand of gene ``k`` is then
``mr_effect[k] = (T alpha)_k / T[k, k]`` (exact for the affine mechanism), stored in the truth
with ``disease_effect`` (alpha) and ``disease_effect_total`` (``T alpha``). Tables:
``sumstats.csv`` (all eGenes, column ``gene``) and ``sumstats/<gene>.csv``.
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
    """cis-eQTL variants: gene, MAF, effect on the basal input, direct (pleiotropic) effect."""

    gene: np.ndarray
    maf: np.ndarray
    beta: np.ndarray
    pleiotropy: np.ndarray

    def genotypes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Allele dosages of ``n`` people, shape (n, snps)."""
        return rng.binomial(2, self.maf, (n, self.maf.size)).astype(float)

    def basal_shift(self, dosage: np.ndarray, n_genes: int) -> np.ndarray:
        """Shift of every gene's basal input, shape (people, genes)."""
        shift = np.zeros((dosage.shape[0], n_genes))
        np.add.at(shift.T, self.gene, ((dosage - 2 * self.maf) * self.beta).T)
        return shift


def _genetics(world: World, rng: np.random.Generator) -> Genetics:
    cfg = world.config.population
    n_genes = world.net.n_genes
    egenes = np.sort(rng.choice(n_genes, max(1, round(cfg.egenes_fraction * n_genes)), False))
    gene = np.repeat(egenes, cfg.snps_per_gene)
    beta = rng.normal(0, cfg.eqtl_sd, gene.size)
    pleio = rng.normal(0, cfg.eqtl_sd * cfg.causal_sd, gene.size)
    pleio *= rng.random(gene.size) < cfg.pleiotropy_rate
    return Genetics(gene, rng.uniform(0.05, 0.5, gene.size), beta, pleio)


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
    causal = rng.choice(n_genes, min(cfg.n_causal, n_genes), replace=False)
    alpha[causal] = rng.normal(0, cfg.causal_sd, causal.size)

    def liability_and_shift(n: int):
        dosage = gen.genotypes(n, rng)
        shift = gen.basal_shift(dosage, n_genes)
        genetic = (_mean_state(world, shift, ct) - world.reg.setpoint) @ alpha
        genetic += (dosage - 2 * gen.maf) @ gen.pleiotropy
        return dosage, shift, genetic

    # noise calibrated on a large reference sample so that h2 is as configured
    _, _, ref = liability_and_shift(cfg.n_gwas)
    noise_sd = np.sqrt(ref.var() * (1 - cfg.heritability) / max(cfg.heritability, 1e-9))
    threshold = np.quantile(ref + rng.normal(0, noise_sd, ref.size), 1 - cfg.prevalence)

    dosage, shift, genetic = liability_and_shift(cfg.n_donors)
    liability = genetic + rng.normal(0, noise_sd, cfg.n_donors)
    phenotype = (liability > threshold).astype(int)

    donor = np.repeat(np.arange(cfg.n_donors), n_types * cfg.cells_per_donor)
    cell_type = np.tile(np.repeat(np.arange(n_types), cfg.cells_per_donor), cfg.n_donors)
    design = design_from(world, [()] * donor.size, rng, cell_type=cell_type)
    counts = sample_counts_for(world, design, rng, basal_shift=shift[donor])
    obs = _obs_frame(design, world)
    obs["donor"] = pd.Categorical(np.char.add("donor", donor.astype(str)))
    obs["phenotype"] = phenotype[donor]

    tables, stats = _sumstats(world, gen, alpha, noise_sd, ct, rng)
    T = world.reg.T
    truth = (
        world_truth(world)
        | {
            "perturbations": _str_array([]),
            "delta": np.zeros((0, n_genes)),
            "disease_effect": alpha,
            "disease_effect_total": T @ alpha,
            "mr_effect": (T @ alpha) / np.diag(T),
            "causal_genes": _str_array(world.genes[np.sort(causal)]),
            "disease_cell_type": f"type{ct}",
            "snp": _str_array([f"rs{i}" for i in range(gen.gene.size)]),
            "snp_gene": _str_array(world.genes[gen.gene]),
            "snp_maf": gen.maf,
            "eqtl_beta": gen.beta,
            "eqtl_effect_on_gene": gen.beta * np.diag(T)[gen.gene],
            "snp_pleiotropy": gen.pleiotropy,
            "genotypes": dosage,
            "donor_liability": liability,
            "donor_phenotype": phenotype,
            "liability_noise_sd": noise_sd,
        }
        | stats
    )
    return SimulatedData(_anndata(counts, obs, world), truth, tables)


def _sumstats(world, gen: Genetics, alpha, noise_sd, ct, rng):
    """Exposure (eQTL) and outcome (GWAS) summary statistics per eGene."""
    cfg = world.config.population
    n_genes = world.net.n_genes
    # exposure: expression in the disease cell type, measured with noise
    dos_e = gen.genotypes(cfg.n_eqtl, rng)
    expr = _mean_state(world, gen.basal_shift(dos_e, n_genes), ct)
    expr += rng.normal(0, world.config.cells.noise_sd, expr.shape)
    # outcome: the liability (quantitative disease score)
    dos_g = gen.genotypes(cfg.n_gwas, rng)
    x = _mean_state(world, gen.basal_shift(dos_g, n_genes), ct)
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
    return tables, {}
