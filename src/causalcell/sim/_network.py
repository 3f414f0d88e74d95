"""Regulatory networks: sparse signed direct-effect matrices with hubs, modules and feedback.

Convention everywhere in :mod:`causalcell.sim`: ``G[i, j]`` is the direct effect of gene ``i``
(regulator, row) on gene ``j`` (target, column), on log expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng


@dataclass(frozen=True)
class Network:
    """A gene regulatory network.

    Attributes
    ----------
    G
        Direct effects, shape (genes, genes); ``G[i, j]`` = effect of gene ``i`` on gene ``j``.
    genes
        Gene names (unique strings).
    module
        Module (co-regulated program) of every gene, integers ``0..n_modules-1``.
    """

    G: np.ndarray
    genes: np.ndarray
    module: np.ndarray

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return self.G.shape[0]

    @property
    def n_modules(self) -> int:
        """Number of modules."""
        return int(self.module.max()) + 1

    @property
    def regulators(self) -> np.ndarray:
        """Indices of genes with at least one out-edge to another gene."""
        off_diag = self.G - np.diag(np.diag(self.G))
        return np.flatnonzero((off_diag != 0).any(axis=1))

    def edges(self) -> pd.DataFrame:
        """Edge list with columns ``source, target, weight``, strongest first."""
        src, tgt = np.nonzero(self.G)
        df = pd.DataFrame(
            {"source": self.genes[src], "target": self.genes[tgt], "weight": self.G[src, tgt]}
        )
        return df.iloc[np.argsort(-np.abs(df["weight"].to_numpy()), kind="stable")].reset_index(
            drop=True
        )


def gene_names(n_genes: int, prefix: str = "GENE") -> np.ndarray:
    """Zero-padded names (``GENE001``...) so that string order equals numeric order."""
    width = len(str(n_genes - 1))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(n_genes)])


def perron_root(A: np.ndarray, n_iter: int = 2000, tol: float = 1e-9) -> float:
    """Spectral radius of ``|A|`` (its Perron root) by power iteration on ``|A| + I``.

    ``rho(|A|)`` bounds the spectral radius of ``A`` and the Lipschitz constant of saturating
    mechanisms built on it, so scaling it below 1 makes every steady state unique and stable.
    The shift by ``I`` removes the periodicity of cycles so that the iteration converges.
    """
    M = sparse.csr_matrix(np.abs(A)) + sparse.identity(A.shape[0], format="csr")
    v = np.full(A.shape[0], 1.0 / A.shape[0])
    rho = np.inf
    for _ in range(n_iter):
        w = M.T @ v
        rho_new = w.sum()  # v sums to one
        v = w / rho_new
        if abs(rho_new - rho) < tol:
            break
        rho = rho_new
    return max(float(rho_new) - 1.0, 0.0)


def _out_degrees(n_reg: int, n_genes: int, min_degree: int, exponent: float, rng) -> np.ndarray:
    """Pareto (power-law) out-degrees: few hubs with many targets."""
    raw = min_degree * (1.0 + rng.pareto(exponent - 1.0, size=n_reg))
    return np.clip(raw.astype(int), 1, n_genes - 1)


def _pick_targets(reg: int, degree: int, module: np.ndarray, within: float, rng) -> np.ndarray:
    """Targets of one regulator: mostly inside its own module, never itself."""
    same = np.flatnonzero(module == module[reg])
    same = same[same != reg]
    n_in = min(rng.binomial(degree, within), same.size)
    inside = rng.choice(same, size=n_in, replace=False)
    others = np.setdiff1d(np.arange(module.size), np.append(inside, reg))
    outside = rng.choice(others, size=min(degree - n_in, others.size), replace=False)
    return np.concatenate([inside, outside]).astype(int)


def _signed_weights(size: int, positive: float, low: float, high: float, rng) -> np.ndarray:
    sign = np.where(rng.random(size) < positive, 1.0, -1.0)
    return sign * rng.uniform(low, high, size)


def _add_feedback(G: np.ndarray, n_loops: int, rng) -> None:
    """Close ``n_loops`` two-gene loops ``j -> i`` on edges ``i -> j`` whose target regulates."""
    is_reg = (G != 0).any(axis=1)
    src, tgt = np.nonzero(G)
    ok = (src != tgt) & is_reg[tgt] & (G[tgt, src] == 0)
    cand = np.flatnonzero(ok)
    for e in rng.choice(cand, size=min(n_loops, cand.size), replace=False):
        # mostly negative feedback, the common motif that keeps expression homeostatic
        G[tgt[e], src[e]] = -abs(G[src[e], tgt[e]]) * (1 if rng.random() < 0.75 else -1)


def random_network(
    n_genes: int,
    *,
    n_modules: int = 10,
    regulator_fraction: float = 0.1,
    min_out_degree: int = 3,
    degree_exponent: float = 2.5,
    within_module: float = 0.8,
    positive_fraction: float = 0.6,
    weight_range: tuple[float, float] = (0.3, 0.9),
    autoregulation: float = 0.1,
    n_feedback: int = 5,
    spectral_radius: float = 0.6,
    rng: RngLike = None,
) -> Network:
    """Random sparse signed network with hubs, modules, feedback loops and autoregulation.

    Parameters
    ----------
    n_genes
        Number of genes.
    n_modules
        Number of modules; genes are split into modules of equal size and regulators pick most
        targets inside their own module (low-rank block structure of ``G``).
    regulator_fraction
        Fraction of genes that regulate other genes (transcription factors).
    min_out_degree, degree_exponent
        Out-degrees follow a Pareto law ``P(d) ~ d^-exponent`` above ``min_out_degree``.
    within_module
        Probability that a target lies in the regulator's module.
    positive_fraction
        Probability that an edge activates.
    weight_range
        Range of absolute edge weights before scaling.
    autoregulation
        Fraction of regulators with a self-edge.
    n_feedback
        Number of two-gene feedback loops closed among regulators.
    spectral_radius
        The Perron root of ``|G|`` is scaled down to at most this value (must be < 1), which
        makes affine and saturating steady states unique and globally stable.
    rng
        Seed or generator.

    Returns
    -------
    Network
    """
    if not 0 < spectral_radius < 1:
        raise InputError(f"spectral_radius must be in (0, 1), got {spectral_radius}")
    if n_genes < 2:
        raise InputError(f"n_genes must be at least 2, got {n_genes}")
    rng = as_rng(rng)
    module = np.sort(np.arange(n_genes) % max(1, min(n_modules, n_genes)))
    n_reg = max(1, round(regulator_fraction * n_genes))
    regs = np.sort(rng.choice(n_genes, size=n_reg, replace=False))
    degrees = _out_degrees(n_reg, n_genes, min_out_degree, degree_exponent, rng)
    G = np.zeros((n_genes, n_genes))
    for reg, deg in zip(regs, degrees, strict=True):
        targets = _pick_targets(reg, deg, module, within_module, rng)
        G[reg, targets] = _signed_weights(targets.size, positive_fraction, *weight_range, rng)
    _add_feedback(G, n_feedback, rng)
    auto = regs[rng.random(n_reg) < autoregulation]
    G[auto, auto] = _signed_weights(auto.size, 0.5, *weight_range, rng) / 2
    rho = perron_root(G)
    if rho > spectral_radius:
        G *= spectral_radius / rho
    return Network(G=G, genes=gene_names(n_genes), module=module)


def network_from_edges(
    edges: pd.DataFrame,
    *,
    genes: list[str] | np.ndarray | None = None,
    weight_range: tuple[float, float] = (0.3, 0.9),
    n_modules: int = 10,
    spectral_radius: float = 0.6,
    rng: RngLike = None,
) -> Network:
    """Network from a user edge list (e.g. DoRothEA regulons).

    Parameters
    ----------
    edges
        Columns ``source`` and ``target`` (or DoRothEA's ``tf`` and ``target``) and either a
        numeric ``weight`` or a sign column ``mor`` (+1/-1); with ``mor`` the magnitudes are
        drawn uniformly from ``weight_range``.
    genes
        Gene universe; defaults to all genes named in ``edges`` in sorted order.
    weight_range
        Magnitudes for sign-only edge lists.
    n_modules
        Modules assigned by each gene's strongest regulator (hash of its name into
        ``n_modules`` groups); genes without regulators get modules in turn.
    spectral_radius
        Cap on the Perron root of ``|G|`` (see :func:`random_network`).
    rng
        Seed or generator (used only for drawn magnitudes).

    Returns
    -------
    Network
    """
    rng = as_rng(rng)
    df = edges.rename(columns={"tf": "source"})
    missing = {"source", "target"} - set(df.columns)
    if missing:
        raise InputError(f"edge list lacks columns {sorted(missing)}; give source,target,weight")
    if "weight" in df:
        w = df["weight"].to_numpy(float)
    elif "mor" in df:
        w = np.sign(df["mor"].to_numpy(float)) * rng.uniform(*weight_range, len(df))
    else:
        raise InputError("edge list needs a 'weight' or a 'mor' (+1/-1) column")
    names = np.unique(np.concatenate([df["source"], df["target"]])) if genes is None else genes
    names = np.asarray(names, dtype=str)
    index = pd.Index(names)
    src, tgt = index.get_indexer(df["source"]), index.get_indexer(df["target"])
    keep = (src >= 0) & (tgt >= 0)
    G = np.zeros((names.size, names.size))
    G[src[keep], tgt[keep]] = w[keep]
    rho = perron_root(G)
    if rho > spectral_radius:
        G *= spectral_radius / rho
    strongest = np.where(np.abs(G).any(axis=0), np.abs(G).argmax(axis=0), np.arange(names.size))
    module = strongest % max(1, n_modules)
    _, module = np.unique(module, return_inverse=True)
    return Network(G=G, genes=names, module=module)
