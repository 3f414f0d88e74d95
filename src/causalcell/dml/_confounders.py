"""Confounder representations of the cells' latent state, each gene left out of its own.

Adjusting gene ``j``'s effect for principal components computed from all genes lets gene ``j``
leak into its own adjustment: a PC that partly *is* gene ``j`` absorbs its effect and biases the
estimate towards zero. Two remedies, one per representation:

- PCA (``pca_confounders``): the PC scores are ``Z = E_c V`` (centred expression times
  loadings), a sum of one term per gene. Gene ``j``'s own term ``E_c[:, j] V[j]`` is removed
  exactly by the rank-one downdate ``Z_(-j) = Z - E_c[:, j] V[j]``: the cells projected on the
  same axes without gene ``j``. Recomputing the PCA without gene ``j`` would also move the axes,
  a second-order change (one gene among thousands) that is not worth ``p`` decompositions. The
  downdate is never formed: :func:`causalcell.dml.ridge_fit_predict` folds it into the normal
  equations, so all genes share one pass.
- Autoencoder (``autoencoder_confounders``): a nonlinear encoder has no per-gene term to
  subtract, so genes are split into ``n_gene_groups`` groups and one encoder per group is
  trained without that group's genes (masked from its input and its loss): every gene is
  adjusted for an embedding that never saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from causalcell._utils import RngLike, as_rng


@dataclass
class Confounders:
    """Confounder features for a set of target genes.

    Attributes
    ----------
    features
        One array (cells x components) per gene group.
    groups
        For each entry of ``features``, the indices (into the target genes) it adjusts.
    loadings
        Per group, (genes in group x components) leave-gene-out loadings, or None when the
        features already exclude the group's genes.
    """

    features: list[np.ndarray]
    groups: list[np.ndarray]
    loadings: list[np.ndarray | None]


def pca_scores(expr: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Top principal component scores (cells x k) and loadings (genes x k) of ``expr``.

    Exact top-``k`` eigenpairs of the smaller Gram matrix (genes x genes or cells x cells);
    scores are ``(expr - mean) @ loadings``, so each gene's own term can be downdated exactly.
    """
    centred = expr - expr.mean(0)
    n, p = centred.shape
    k = min(n_components, n - 1, p)
    if p <= n:
        _, vecs = linalg.eigh(centred.T @ centred, subset_by_index=[p - k, p - 1])
        loadings = vecs[:, ::-1]
    else:
        vals, vecs = linalg.eigh(centred @ centred.T, subset_by_index=[n - k, n - 1])
        loadings = centred.T @ vecs[:, ::-1] / np.sqrt(np.maximum(vals[::-1], 1e-300))
    return centred @ loadings, loadings


def pca_confounders(
    expr: np.ndarray,
    targets: np.ndarray,
    n_components: int,
    *,
    exclude_gene: bool = True,
    rng: RngLike = None,
) -> Confounders:
    """PC scores of all genes, with each target's own contribution downdated when ``exclude_gene``.

    Parameters
    ----------
    expr
        Expression, cells x all genes (log scale).
    targets
        Column indices of the genes whose effects are estimated.
    n_components
        Number of principal components.
    exclude_gene
        Leave each gene out of its own adjustment (rank-one downdate of the scores).
    rng
        Unused (PCA is deterministic); accepted for a uniform signature.
    """
    scores, loadings = pca_scores(expr, n_components)
    target_loadings = loadings[targets] if exclude_gene else None
    return Confounders([scores], [np.arange(len(targets))], [target_loadings])


def autoencoder_confounders(
    expr: np.ndarray,
    targets: np.ndarray,
    n_components: int,
    *,
    exclude_gene: bool = True,
    rng: RngLike = None,
    n_gene_groups: int = 5,
    **train_kwargs,
) -> Confounders:
    """Autoencoder embeddings (PyTorch), one encoder per group of held-out target genes.

    Parameters
    ----------
    expr
        Expression, cells x all genes (log scale).
    targets
        Column indices of the genes whose effects are estimated.
    n_components
        Embedding dimension.
    exclude_gene
        Train one encoder per gene group without that group's genes; otherwise one encoder on
        all genes (leaky, for comparison).
    rng
        Generator for the gene grouping and the networks' initialisation and batches.
    n_gene_groups
        Number of gene groups (encoders) when ``exclude_gene``.
    **train_kwargs
        Passed to :func:`train_autoencoder` (``hidden``, ``epochs``, ``batch_size``, ``lr``).
    """
    rng = as_rng(rng)
    if not exclude_gene:
        embedding = train_autoencoder(expr, n_components, rng=rng, **train_kwargs)
        return Confounders([embedding], [np.arange(len(targets))], [None])
    parts = np.array_split(rng.permutation(len(targets)), min(n_gene_groups, len(targets)))
    features = []
    for part in parts:
        mask = np.ones(expr.shape[1], dtype=bool)
        mask[targets[part]] = False
        features.append(train_autoencoder(expr[:, mask], n_components, rng=rng, **train_kwargs))
    return Confounders(features, [np.sort(p) for p in parts], [None] * len(parts))


def train_autoencoder(
    expr: np.ndarray,
    n_components: int,
    *,
    rng: RngLike = None,
    hidden: int = 128,
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 1e-3,
) -> np.ndarray:
    """Embedding (cells x ``n_components``) from a one-hidden-layer autoencoder on z-scored genes.

    Seeded from ``rng`` through a forked torch generator state, so the global torch seed is left
    untouched.
    """
    import torch
    from torch import nn

    rng = as_rng(rng)
    sd = expr.std(0)
    z = (expr - expr.mean(0)) / np.where(sd > 0, sd, 1.0)
    data = torch.as_tensor(z, dtype=torch.float32)
    seed = int(rng.integers(2**31))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        p = data.shape[1]
        encoder = nn.Sequential(nn.Linear(p, hidden), nn.ReLU(), nn.Linear(hidden, n_components))
        decoder = nn.Sequential(nn.Linear(n_components, hidden), nn.ReLU(), nn.Linear(hidden, p))
        params = [*encoder.parameters(), *decoder.parameters()]
        optim = torch.optim.Adam(params, lr=lr)
        for _ in range(epochs):
            for batch in torch.randperm(len(data)).split(batch_size):
                x = data[batch]
                loss = ((decoder(encoder(x)) - x) ** 2).mean()
                optim.zero_grad()
                loss.backward()
                optim.step()
        with torch.no_grad():
            return encoder(data).double().numpy()


CONFOUNDERS = {"pca": pca_confounders, "autoencoder": autoencoder_confounders}
"""Named confounder representations: ``pca`` and ``autoencoder``."""
