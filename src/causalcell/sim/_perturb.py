"""Experiment operator: perturbation kinds, guide libraries, cell assignment.

A cell's interventions are summarised by its *efficacy row*: a sparse vector over genes whose
entry ``e`` in (0, 1] is the combined efficacy of the guides hitting that gene (on- and
off-target, escaped guides removed; two guides on one gene combine as ``1 - (1-e1)(1-e2)``).
The kind of perturbation turns an efficacy into a log fold change
``log(1 + e * (fold - 1))`` and decides whether it is a shift or a clamp.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.sim._mechanism import Clamp


@dataclass(frozen=True)
class Kind:
    """A perturbation kind.

    Attributes
    ----------
    name
        Registry key.
    clamp
        True: a hard intervention that fixes the target (cuts its incoming edges) at ``fold``
        times its unperturbed level. False: a shift of the target's transcription by ``fold``.
    mrna
        For clamps: True when the mRNA is clamped as well as the activity (knockout,
        induction); False for activity only (degron: instant protein loss).
    fold
        Default fold change of the target at full efficacy.
    """

    name: str
    clamp: bool
    mrna: bool
    fold: float

    def log_fold(self, efficacy: np.ndarray, fold: float | None = None) -> np.ndarray:
        """Log fold change of a target hit with ``efficacy``."""
        f = self.fold if fold is None else fold
        return np.log1p(np.asarray(efficacy) * (f - 1.0))


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("knockout", clamp=True, mrna=True, fold=0.01),
        Kind("crispri", clamp=False, mrna=True, fold=0.05),
        Kind("crispra", clamp=False, mrna=True, fold=10.0),
        Kind("degron", clamp=True, mrna=False, fold=0.01),
        Kind("induction", clamp=True, mrna=True, fold=20.0),
    )
}


def get_kind(name: str) -> Kind:
    """Look up a perturbation kind, raising :class:`InputError` with the valid names."""
    if name not in KINDS:
        raise InputError(f"unknown perturbation kind {name!r}; choose one of {sorted(KINDS)}")
    return KINDS[name]


@dataclass(frozen=True)
class GuideLibrary:
    """Guides against a set of target genes.

    Attributes
    ----------
    names
        Guide ids ``<GENE>_g<k>``.
    target
        On-target gene index of each guide.
    efficacy
        On-target efficacy in [0, 1]; 0 for dead guides.
    off_target
        Off-target gene index, -1 for none.
    off_efficacy
        Off-target efficacy (0 where none).
    """

    names: np.ndarray
    target: np.ndarray
    efficacy: np.ndarray
    off_target: np.ndarray
    off_efficacy: np.ndarray

    def guides_of(self, gene: int) -> np.ndarray:
        """Indices of the guides against ``gene``."""
        return np.flatnonzero(self.target == gene)


def make_guides(
    targets: np.ndarray,
    genes: np.ndarray,
    *,
    guides_per_target: int = 3,
    efficacy_beta: tuple[float, float] = (6.0, 1.5),
    dead_rate: float = 0.1,
    off_target_rate: float = 0.0,
    off_target_efficacy: float = 0.5,
    rng: RngLike = None,
) -> GuideLibrary:
    """Draw a guide library: Beta efficacies, some dead guides, optional off-targets.

    Parameters
    ----------
    targets
        Gene indices to target.
    genes
        All gene names (for guide ids).
    guides_per_target
        Guides per target.
    efficacy_beta
        Beta(a, b) parameters of the efficacy of working guides.
    dead_rate
        Probability that a guide does nothing.
    off_target_rate
        Probability that a guide also hits a random other gene.
    off_target_efficacy
        Off-target efficacy as a fraction of the on-target one.
    rng
        Seed or generator.

    Returns
    -------
    GuideLibrary
    """
    rng = as_rng(rng)
    target = np.repeat(np.asarray(targets, int), guides_per_target)
    n = target.size
    efficacy = rng.beta(*efficacy_beta, n) * (rng.random(n) >= dead_rate)
    off = np.where(rng.random(n) < off_target_rate, rng.integers(0, genes.size, n), -1)
    off[off == target] = -1
    off_eff = np.where(off >= 0, off_target_efficacy * efficacy, 0.0)
    names = np.array(
        [f"{genes[t]}_g{k + 1}" for t in targets for k in range(guides_per_target)], dtype=object
    )
    return GuideLibrary(names.astype(str), target, efficacy, off, off_eff)


def combine(hits: list[tuple[int, float]]) -> dict[int, float]:
    """Combine guide hits ``(gene, efficacy)`` into one efficacy per gene (independent action)."""
    miss: dict[int, float] = defaultdict(lambda: 1.0)
    for gene, e in hits:
        if e > 0:
            miss[gene] *= 1.0 - e
    return {g: 1.0 - m for g, m in miss.items() if m < 1.0}


def guide_hits(lib: GuideLibrary, guide: int) -> list[tuple[int, float]]:
    """The ``(gene, efficacy)`` hits of one guide."""
    hits = [(int(lib.target[guide]), float(lib.efficacy[guide]))]
    if lib.off_target[guide] >= 0:
        hits.append((int(lib.off_target[guide]), float(lib.off_efficacy[guide])))
    return hits


def efficacy_configs(
    lib: GuideLibrary, targets: tuple[int, ...], escape_rate: float
) -> list[tuple[dict[int, float], float]]:
    """All efficacy configurations of a cell carrying one guide per target, with probabilities.

    Each target's guide is uniform among its guides and escapes with ``escape_rate``; identical
    configurations are merged. This is the exact mixture behind a perturbation label.
    """
    per_target = []
    for t in targets:
        g = lib.guides_of(t)
        opts = [(guide_hits(lib, k), (1 - escape_rate) / g.size) for k in g]
        per_target.append([*opts, ([], escape_rate)])
    merged: dict[tuple, float] = defaultdict(float)
    for combo in itertools.product(*per_target):
        hits = [h for hs, _ in combo for h in hs]
        key = tuple(sorted(combine(hits).items()))
        merged[key] += float(np.prod([p for _, p in combo]))
    return [(dict(k), p) for k, p in merged.items() if p > 0]


def efficacy_matrix(rows: list[dict[int, float]], n_genes: int) -> sparse.csr_matrix:
    """Stack efficacy dicts into a CSR matrix (cells x genes)."""
    indptr = np.cumsum([0, *(len(r) for r in rows)])
    indices = np.fromiter((g for r in rows for g in r), int, indptr[-1])
    data = np.fromiter((e for r in rows for e in r.values()), float, indptr[-1])
    E = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_genes))
    E.sort_indices()
    return E


def apply_shifts(b: np.ndarray, E: sparse.csr_matrix, kind: Kind, fold: float | None) -> None:
    """Add the shift interventions of efficacy matrix ``E`` to basal input ``b`` in place."""
    coo = E.tocoo()
    b[coo.row, coo.col] += kind.log_fold(coo.data, fold)


def clamp_groups(E: sparse.csr_matrix) -> dict[tuple[int, ...], np.ndarray]:
    """Group cells (rows of ``E``) by the set of genes they hit."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i in range(E.shape[0]):
        groups[tuple(E.indices[E.indptr[i] : E.indptr[i + 1]].tolist())].append(i)
    return {k: np.asarray(v) for k, v in groups.items()}


def make_clamp(
    genes: tuple[int, ...],
    E: sparse.csr_matrix,
    x_ctrl: np.ndarray,
    kind: Kind,
    fold: float | None,
) -> Clamp:
    """Clamp the hit genes at ``fold(e)`` times their unperturbed levels ``x_ctrl``."""
    g = np.asarray(genes, int)
    eff = E[:, g].toarray() if g.size else np.zeros((E.shape[0], 0))
    values = x_ctrl[:, g] + kind.log_fold(eff, fold)
    return Clamp(g, values, np.full(g.size, kind.mrna))
