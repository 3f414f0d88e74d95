"""Seeded single-cell-like data for DML: cells nested in donors, a latent state confounding
gene expression and a per-donor case label, a few causal genes."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._utils import RngLike, as_rng


def simulate_cells(
    *,
    n_donors: int = 40,
    cells_per_donor: int = 100,
    n_genes: int = 200,
    n_causal: int = 5,
    n_latent: int = 3,
    causal_sd: float = 0.5,
    causal_weight: float = 1.0,
    depth: float = 5000.0,
    rng: RngLike = None,
) -> tuple[ad.AnnData, dict[str, np.ndarray]]:
    """Counts of cells in donors with a per-donor 0/1 phenotype confounded by the cell state.

    Generative model (log scale):

    - donor state ``u_d ~ N(0, I)`` (``n_latent`` dims); cell state ``z_i = u_d + N(0, I)``;
    - causal genes ``c`` carry a donor-level programme ``b_dc ~ N(0, causal_sd^2)``;
    - log mean of gene ``j`` in cell ``i``: ``base_j + W_j z_i (+ b_dj if causal)``, counts
      ``Poisson(size_i exp(.))`` with ``size_i`` from a library-size distribution of mean
      ``depth`` reads spread over the genes;
    - donor liability ``causal_weight * sum_c b_dc + 1' u_d + N(0, 0.5^2)``; the phenotype
      is 1 for donors above the median liability (a per-donor case label, repeated on each of
      the donor's cells).

    The latent state drives both expression (all genes) and the phenotype: adjusting for it
    leaves only the causal genes associated with the phenotype.

    Returns
    -------
    adata
        Counts in X (CSR) and ``layers['counts']``-free; obs ``donor``, ``phenotype``,
        ``cell_type`` (a single ``"T"``); var_names ``g0 ...``.
    truth
        ``causal`` (bool per gene), ``state`` (cells x latent), ``donor_state``.
    """
    rng = as_rng(rng)
    n_cells = n_donors * cells_per_donor
    donor = np.repeat(np.arange(n_donors), cells_per_donor)
    u = rng.normal(size=(n_donors, n_latent))
    z = u[donor] + rng.normal(size=(n_cells, n_latent))
    causal = np.zeros(n_genes, dtype=bool)
    causal[rng.choice(n_genes, n_causal, replace=False)] = True
    b = rng.normal(0.0, causal_sd, size=(n_donors, n_causal))
    weights = rng.normal(0.0, 0.4, size=(n_genes, n_latent))
    log_mu = rng.normal(0.0, 1.0, n_genes) + z @ weights.T
    log_mu[:, causal] += b[donor]
    rate = np.exp(log_mu)
    size = rng.lognormal(np.log(depth), 0.3, n_cells) / rate.mean(1) / n_genes
    counts = rng.poisson(size[:, None] * rate)
    liability = causal_weight * b.sum(1) + u.sum(1) + rng.normal(0.0, 0.5, n_donors)
    label = (liability > np.median(liability)).astype(int)
    obs = pd.DataFrame(
        {
            "donor": pd.Categorical([f"d{d}" for d in donor]),
            "phenotype": label[donor],
            "cell_type": "T",
        },
        index=[f"c{i}" for i in range(n_cells)],
    )
    adata = ad.AnnData(
        X=sp.csr_matrix(counts.astype(np.float32)),
        obs=obs,
        var=pd.DataFrame(index=[f"g{j}" for j in range(n_genes)]),
    )
    return adata, {"causal": causal, "state": z, "donor_state": u}
