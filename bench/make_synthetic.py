"""Write a synthetic Perturb-seq data set (an ``.h5ad`` of raw UMI counts) in row chunks.

The file follows the input contract (``CONTRACT.md``): ``X`` is a CSR matrix of int32 UMI counts, ``obs`` holds ``perturbation`` (``"control"`` for controls), ``guide`` and ``batch``, and
``var_names`` are gene symbols. It is built chunk by chunk: only one chunk of cells is ever dense
in memory and the CSR arrays are appended to resizable HDF5 datasets (anndata's on-disk sparse
format, via :func:`anndata.io.sparse_dataset`), so one million cells take about 1 GB of RAM (measured peak).

Model
-----
- Gene proportions ``p_g`` are lognormal (``sigma = 1.2``), normalised to sum to 1.
- A cell's library size is ``umis_per_cell * lognormal(0, 0.3)`` (mean ``umis_per_cell``),
  times a per-batch size factor; each batch also scales every gene by ``lognormal(0, 0.1)``.
- Counts are negative binomial (Gamma-Poisson, dispersion 0.2) around
  ``library * p_g * batch_g * exp(effect)``.
- Each perturbation targets one gene (knockdown 50-90%, one value per guide) and shifts 10 other
  genes (log fold changes ``N(0, 0.5)``); 10% of its cells escape (no effect at all).
- Cells are assigned perturbations and batches at random; ``control_fraction`` are controls
  carrying one of 10 non-targeting guides. Each perturbation has ``guides_per_perturbation``
  guides.

The planted log fold changes are stored in ``uns['synthetic']`` (``lfc``: perturbations x genes,
``targets``) with the generating parameters.

Examples
--------
Small data set for smoke runs (default)::

    python bench/make_synthetic.py

The benchmark's full size (1,000,000 cells x 2,000 genes, 500 perturbations)::

    python bench/make_synthetic.py --full
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata.io import sparse_dataset, write_elem

WORK = Path(__file__).resolve().parent / "_work"

GENE_SIGMA = 1.2  # sd of log gene proportions: ~850 non-zero genes of 2,000 at 2,000 UMIs
LIBRARY_SIGMA = 0.3
BATCH_GENE_SIGMA = 0.1
DISPERSION = 0.2  # NB variance = mu + DISPERSION * mu^2
N_DOWNSTREAM = 10
DOWNSTREAM_SD = 0.5
ESCAPE_FRACTION = 0.1
N_CONTROL_GUIDES = 10


@dataclass(frozen=True)
class Config:
    """Size and seed of a synthetic data set."""

    n_cells: int = 20_000
    n_genes: int = 1_000
    umis_per_cell: float = 2_000.0
    n_perts: int = 50
    guides_per_perturbation: int = 3
    n_batches: int = 4
    control_fraction: float = 0.05
    seed: int = 0
    chunk_size: int = 10_000

    @classmethod
    def full(cls) -> Config:
        """The benchmark's full size: 1M cells x 2,000 genes, 500 perturbations."""
        return cls(n_cells=1_000_000, n_genes=2_000, n_perts=500)

    def default_path(self) -> Path:
        """``bench/_work/synthetic_<cells>x<genes>_p<perts>_s<seed>.h5ad``."""
        name = f"synthetic_{self.n_cells}x{self.n_genes}_p{self.n_perts}_s{self.seed}.h5ad"
        return WORK / name


@dataclass
class _Design:
    """Everything drawn before the counts: genes, perturbations, effects, cell labels."""

    genes: pd.Index
    proportions: np.ndarray  # (G,)
    batch_gene: np.ndarray  # (B, G) multiplicative batch effect per gene
    batch_size: np.ndarray  # (B,) library size factor
    targets: np.ndarray  # (K,) target column of each perturbation
    lfc: np.ndarray  # (K, G) planted log fold change of responders (guide-averaged target)
    guide_lfc: np.ndarray  # (K, n_guides) target log fold change per guide
    pert: np.ndarray  # per cell: perturbation index, -1 control
    guide: np.ndarray  # per cell: guide index within the perturbation (or control guide)
    batch: np.ndarray  # per cell
    responder: np.ndarray  # per cell: bool


def _design(cfg: Config, rng: np.random.Generator) -> _Design:
    G, K, B = cfg.n_genes, cfg.n_perts, cfg.n_batches
    if K > G:
        raise SystemExit(f"n_perts ({K}) must not exceed n_genes ({G}): each targets one gene")
    genes = pd.Index([f"GENE{i:05d}" for i in range(G)])
    p = np.exp(rng.normal(0.0, GENE_SIGMA, G))
    p /= p.sum()
    batch_gene = np.exp(rng.normal(0.0, BATCH_GENE_SIGMA, (B, G)))
    batch_gene /= batch_gene @ p[:, None]  # a batch reshuffles genes but keeps the library size
    batch_size = np.exp(rng.normal(0.0, 0.15, B))
    batch_size /= batch_size.mean()
    # Targets: random genes among the better expressed ones so that knockdown is measurable.
    expressed = np.argsort(p)[::-1][: max(K, int(0.6 * G))]
    targets = rng.choice(expressed, size=K, replace=False)
    lfc = np.zeros((K, G))
    for k in range(K):
        others = rng.choice(np.delete(np.arange(G), targets[k]), N_DOWNSTREAM, replace=False)
        lfc[k, others] = rng.normal(0.0, DOWNSTREAM_SD, N_DOWNSTREAM)
    knockdown = rng.uniform(0.5, 0.9, (K, cfg.guides_per_perturbation))
    guide_lfc = np.log1p(-knockdown)
    lfc[np.arange(K), targets] = guide_lfc.mean(axis=1)

    n = cfg.n_cells
    n_ctrl = round(cfg.control_fraction * n)
    pert = np.concatenate([np.full(n_ctrl, -1), np.arange(n - n_ctrl) % K])
    rng.shuffle(pert)
    guide = np.where(
        pert < 0,
        rng.integers(0, N_CONTROL_GUIDES, n),
        rng.integers(0, cfg.guides_per_perturbation, n),
    )
    batch = rng.integers(0, B, n)
    responder = (pert >= 0) & (rng.random(n) >= ESCAPE_FRACTION)
    return _Design(
        genes, p, batch_gene, batch_size, targets, lfc, guide_lfc, pert, guide, batch, responder
    )


def _obs(cfg: Config, d: _Design) -> pd.DataFrame:
    target_names = d.genes[d.targets].to_numpy()
    is_ctrl = d.pert < 0
    pert_label = np.where(is_ctrl, "control", target_names[np.maximum(d.pert, 0)])
    guide_label = np.where(
        is_ctrl,
        np.char.add("NT_", d.guide.astype(str)),
        np.char.add(np.char.add(pert_label.astype(str), "_g"), (d.guide + 1).astype(str)),
    )
    return pd.DataFrame(
        {
            "perturbation": pd.Categorical(pert_label),
            "guide": pd.Categorical(guide_label),
            "batch": pd.Categorical(np.char.add("b", d.batch.astype(str))),
        },
        index=pd.Index([f"cell{i:07d}" for i in range(cfg.n_cells)]),
    )


def _chunk_counts(
    d: _Design, lo: int, hi: int, cfg: Config, rng: np.random.Generator
) -> sp.csr_matrix:
    """Counts of cells ``lo:hi`` (dense only for this chunk), as int32 CSR."""
    pert, batch, resp = d.pert[lo:hi], d.batch[lo:hi], d.responder[lo:hi]
    m = hi - lo
    library = (
        cfg.umis_per_cell
        * np.exp(rng.normal(-0.5 * LIBRARY_SIGMA**2, LIBRARY_SIGMA, m))
        * d.batch_size[batch]
    )
    log_effect = np.zeros((m, cfg.n_genes))
    rows = np.flatnonzero(resp)
    if len(rows):
        log_effect[rows] = d.lfc[pert[rows]]
        # The target's knockdown depends on the guide, not only on the perturbation.
        log_effect[rows, d.targets[pert[rows]]] = d.guide_lfc[pert[rows], d.guide[lo:hi][rows]]
    mu = library[:, None] * d.proportions[None, :] * d.batch_gene[batch] * np.exp(log_effect)
    mu *= rng.gamma(1.0 / DISPERSION, DISPERSION, mu.shape)
    counts = rng.poisson(mu).astype(np.int32)
    out = sp.csr_matrix(counts)
    out.indptr = out.indptr.astype(np.int64)
    return out


def write_synthetic(cfg: Config, path: Path, *, verbose: bool = True) -> dict:
    """Write the data set of ``cfg`` to ``path`` (via a temporary file); return its summary.

    Parameters
    ----------
    cfg
        Sizes and seed.
    path
        Output ``.h5ad``.
    verbose
        Print progress to stderr.

    Returns
    -------
    dict
        Parameters, ``nnz``, mean non-zeros and UMIs per cell, file size and writing time.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    d = _design(cfg, rng)
    obs = _obs(cfg, d)
    var = pd.DataFrame(index=d.genes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # Annotations first (X left out), then X appended chunk by chunk.
    ad.AnnData(obs=obs, var=var).write_h5ad(tmp)
    nnz = 0
    umis = 0
    with h5py.File(tmp, "a") as f:
        for lo in range(0, cfg.n_cells, cfg.chunk_size):
            hi = min(lo + cfg.chunk_size, cfg.n_cells)
            block = _chunk_counts(d, lo, hi, cfg, rng)
            nnz += block.nnz
            umis += int(block.data.sum(dtype=np.int64))
            if lo == 0:
                write_elem(f, "X", block, dataset_kwargs={"chunks": (1 << 20,)})
            else:
                sparse_dataset(f["X"]).append(block)
            if verbose:
                elapsed = time.perf_counter() - t0
                print(f"\r{hi:,}/{cfg.n_cells:,} cells, {elapsed:.0f}s", end="", file=sys.stderr)
        truth = {
            "lfc": d.lfc,
            "targets": d.genes[d.targets].to_numpy().astype(str),
            "params": {k: v for k, v in asdict(cfg).items() if k != "chunk_size"},
        }
        write_elem(f["uns"], "synthetic", truth)
    tmp.replace(path)
    if verbose:
        print(file=sys.stderr)
    return {
        **asdict(cfg),
        "path": str(path),
        "nnz": nnz,
        "nnz_per_cell": nnz / cfg.n_cells,
        "umis_per_cell_observed": umis / cfg.n_cells,
        "file_gb": path.stat().st_size / 1e9,
        "write_s": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--full",
        action="store_true",
        help="benchmark size: 1,000,000 cells x 2,000 genes, 500 perturbations "
        "(other flags still override)",
    )
    parser.add_argument("--n-cells", type=int, help="cells (default 20,000; --full 1,000,000)")
    parser.add_argument("--n-genes", type=int, help="genes (default 1,000; --full 2,000)")
    parser.add_argument("--umis-per-cell", type=float, help="mean UMIs per cell (default 2,000)")
    parser.add_argument("--n-perts", type=int, help="perturbations (default 50; --full 500)")
    parser.add_argument("--n-batches", type=int, help="batches (default 4)")
    parser.add_argument("--control-fraction", type=float, help="share of controls (default 0.05)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--chunk-size", type=int, help="cells generated per chunk (10,000)")
    parser.add_argument("--out", type=Path, help="output .h5ad (default: bench/_work/...)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    base = Config.full() if args.full else Config()
    overrides = {
        "n_cells": args.n_cells,
        "n_genes": args.n_genes,
        "umis_per_cell": args.umis_per_cell,
        "n_perts": args.n_perts,
        "n_batches": args.n_batches,
        "control_fraction": args.control_fraction,
        "seed": args.seed,
        "chunk_size": args.chunk_size,
    }
    cfg = Config(**{**asdict(base), **{k: v for k, v in overrides.items() if v is not None}})
    path = args.out or cfg.default_path()
    if path.exists() and not args.force:
        print(f"{path} exists (use --force to overwrite)", file=sys.stderr)
        return 0
    summary = write_synthetic(cfg, path, verbose=not args.quiet)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
