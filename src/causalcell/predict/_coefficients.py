"""Gene-level interaction coefficients: a combination as a weighted sum of its singles' drives.

Norman et al. (2019) fit each measured double as ``c_a y_a + c_b y_b``. In their published table
a pair's coefficients are predicted by the same genes' coefficients in their *other* pairs
(leave-one-pair-out: MSE 0.066 vs 0.170 for additivity and 0.083 for the mean coefficient of all
pairs, ``bench/predict_norman_gi.py``): how a gene combines is largely a property of the gene.
So each gene ``g`` gets one coefficient ``k_g = k0 + u_g``, fitted over all measured combinations
at once by least squares, with ``k0`` shared and ``u_g`` shrunk to 0 by a penalty worth ``lam``
combinations. ``lam = inf`` gives one shared coefficient, and the caller keeps ``k = 1``
(additive) when that predicts held-out combinations best.

Arrays only: each combination is given by the indices of its genes among the coefficient genes,
the singles' drives on the rows used for fitting (members x rows) and its own drive on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CoefficientProblem:
    """Normal equations of ``y_p ~ sum_i k[members_p[i]] X_p[i]`` over combinations ``p``.

    Attributes
    ----------
    n_genes
        Number of coefficients.
    members
        Per combination, the coefficient indices of its genes.
    gram, cross
        Per combination, ``X_p X_p'`` and ``X_p y_p``.
    """

    n_genes: int
    members: list[np.ndarray]
    gram: list[np.ndarray]
    cross: list[np.ndarray]

    @classmethod
    def from_rows(
        cls, n_genes: int, members: list[np.ndarray], X: list[np.ndarray], y: list[np.ndarray]
    ) -> CoefficientProblem:
        return cls(
            n_genes,
            [np.asarray(m, int) for m in members],
            [x @ x.T for x in X],
            [x @ t for x, t in zip(X, y, strict=True)],
        )

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Normal equations summed over the combinations."""
        A = np.zeros((self.n_genes, self.n_genes))
        b = np.zeros(self.n_genes)
        for m, g, c in zip(self.members, self.gram, self.cross, strict=True):
            A[np.ix_(m, m)] += g
            b[m] += c
        return A, b

    def information(self) -> np.ndarray:
        """Mean information on each gene's coefficient per combination it is in (the unit of
        the penalty: ``lam`` combinations' worth)."""
        info = np.zeros(self.n_genes)
        count = np.zeros(self.n_genes)
        for m, g in zip(self.members, self.gram, strict=True):
            np.add.at(info, m, np.diag(g))
            np.add.at(count, m, 1.0)
        return np.divide(info, count, out=np.zeros_like(info), where=count > 0)


def solve_coefficients(
    A: np.ndarray, b: np.ndarray, info: np.ndarray, lam: float
) -> tuple[np.ndarray, float]:
    """Per-gene coefficients ``k`` and their shared centre ``k0`` from the normal equations.

    ``k0`` is the least-squares coefficient common to all genes; ``k`` minimises the squared
    error plus ``lam * info_g * (k_g - k0)^2``. Genes without data keep ``k0``.
    """
    total = A.sum()
    k0 = float(b.sum() / total) if total > 0 else 1.0
    if not np.isfinite(lam):
        return np.full(len(b), k0), k0
    penalty = lam * np.maximum(info, 1e-12 * max(info.max(initial=0.0), 1e-300))
    k = np.linalg.solve(A + np.diag(penalty), b + penalty * k0)
    return k, k0


def fit_coefficients(problem: CoefficientProblem, lam: float) -> tuple[np.ndarray, float]:
    """Coefficients from all combinations of ``problem``."""
    A, b = problem.totals()
    return solve_coefficients(A, b, problem.information(), lam)


def leave_one_out(problem: CoefficientProblem, lam: float) -> list[tuple[np.ndarray, float]]:
    """Coefficients fitted without each combination in turn (for its held-out error)."""
    A, b = problem.totals()
    info = problem.information()
    out = []
    for m, g, c in zip(problem.members, problem.gram, problem.cross, strict=True):
        A_p, b_p = A.copy(), b.copy()
        A_p[np.ix_(m, m)] -= g
        b_p[m] -= c
        out.append(solve_coefficients(A_p, b_p, info, lam))
    return out
