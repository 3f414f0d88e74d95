"""Transcriptome-wide MR (TWMR, Porcu et al. 2019 Nat Commun): multivariable MR of a trait on
several genes' expression, with correlated eQTL instruments.

Follows the reference implementation (GitHub ``eleporcu/TWMR``, ``MR.R``), which adds a ridge
term to the paper's formula: ``H = (1 - l) E' C^-1 E + l I`` with ``l = 1 / sqrt(3781)``,
``alpha = H^-1 E' C^-1 G``, and a delta-method standard error that treats every eQTL effect as
having variance ``1 / N_eQTL`` and every GWAS effect ``1 / N_GWAS`` (standardised effects),
correlated across SNPs by ``C``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from causalcell._errors import InputError

__all__ = ["TWMR_RIDGE", "TWMRResult", "twmr"]

TWMR_RIDGE = 1 / np.sqrt(3781)
"""Ridge weight hard-coded in the reference ``MR.R``."""


@dataclass(frozen=True)
class TWMRResult:
    """Per-gene TWMR estimates.

    Parameters
    ----------
    alpha
        Causal effect of each gene's expression on the trait.
    se
        Delta-method standard errors.
    n_snps
        Number of instruments.
    """

    alpha: np.ndarray
    se: np.ndarray
    n_snps: int

    @property
    def pval(self) -> np.ndarray:
        """Two-sided normal p-values."""
        return 2 * stats.norm.sf(np.abs(self.alpha / self.se))

    def to_df(self, genes=None) -> pd.DataFrame:
        """One row per gene: ``gene, alpha, se, pval, n_snps``."""
        genes = range(self.alpha.size) if genes is None else genes
        return pd.DataFrame(
            {
                "gene": list(genes),
                "alpha": self.alpha,
                "se": self.se,
                "pval": self.pval,
                "n_snps": self.n_snps,
            }
        )


def twmr(E, G, C, *, n_eqtl: float, n_gwas: float, ridge: float = TWMR_RIDGE) -> TWMRResult:
    """Estimate the effects of K genes on a trait from n correlated eQTLs.

    Parameters
    ----------
    E
        Standardised eQTL effects, shape (n_snps, K genes).
    G
        Standardised SNP effects on the trait, shape (n_snps,).
    C
        LD correlation matrix of the SNPs, (n_snps, n_snps).
    n_eqtl, n_gwas
        Sample sizes of the eQTL study and of the GWAS.
    ridge
        Ridge weight ``l`` (0 gives the paper's unpenalised formula).

    Returns
    -------
    TWMRResult
        ``alpha``, ``se`` and ``pval`` for every gene (the first is usually the focal one).
    """
    E = np.atleast_2d(np.asarray(E, dtype=float))
    G = np.asarray(G, dtype=float).reshape(-1, 1)
    C = np.asarray(C, dtype=float)
    n, k = E.shape
    if G.shape[0] != n or C.shape != (n, n):
        raise InputError(
            f"twmr: E is {E.shape}, G has {G.shape[0]} and C is {C.shape} values; "
            "give one row of E, one G and one row/column of C per SNP"
        )
    if not all(np.all(np.isfinite(a)) for a in (E, G, C)):
        raise InputError("twmr: E, G and C must be finite; remove SNPs with missing effects")
    c_inv = np.linalg.inv(C)
    h_inv = np.linalg.inv((1 - ridge) * E.T @ c_inv @ E + ridge * np.eye(k))
    alpha = (h_inv @ E.T @ c_inv @ G).ravel()
    # Jacobian of alpha with respect to (vec E, G), written as in MR.R.
    d_g = h_inv @ E.T @ c_inv
    inner = G.T @ c_inv @ ((E @ h_inv @ E.T) @ c_inv + np.eye(n))
    d_e = np.kron(h_inv, inner) + np.kron(-G.T @ c_inv @ E @ h_inv, d_g)
    jac = np.hstack([d_e, d_g])
    sds = np.r_[np.full(n * k, 1 / np.sqrt(n_eqtl)), np.full(n, 1 / np.sqrt(n_gwas))]
    sigma = np.outer(sds, sds) * np.kron(C, np.eye(k + 1))
    se = np.sqrt(np.diag(jac @ sigma @ jac.T))
    return TWMRResult(alpha, se, n)
