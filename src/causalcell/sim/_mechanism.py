"""Regulatory mechanism: steady states and stochastic dynamics of log expression.

The state of a cell is its log expression ``x`` (genes) and the activity ``u`` of each gene's
product. Without intervention ``u = x``. The mechanism is

    x = b + drive(u),    drive(u) = r @ G + g(z),
    z = f(u - r) @ G + sum_pairs w * f(u_a - r_a) f(u_b - r_b)

with ``b`` the cell's basal input (type program, intrinsic noise, shift interventions), ``r`` the
reference set point (steady state of a noise-free control cell), ``f`` either the identity
(affine mechanism, linear in log space) or a Hill function of the fold change, and ``g`` the
response of each target's promoter to its summed input change ``z``: the identity, or a sigmoid
whose set point sits below (convex: co-activators act synergistically), near (linear) or above
its midpoint (concave: co-activators buffer each other). ``f`` acts on each regulator alone, so
only ``g`` and the pair terms make two regulators of one target interact. ``f'(0) = g'(0) = 1``
and the pair terms have zero gradient at ``r``, so ``G`` is exactly the Jacobian of the mechanism
at the set point in every case.

Interventions: a *shift* is added to ``b`` (CRISPRi/CRISPRa); a *clamp* fixes the activity of a
gene (degron), or its activity and its mRNA (knockout, induction), cutting its incoming edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from causalcell._utils import RngLike, as_rng, logger


def hill(v: np.ndarray, n: float) -> np.ndarray:
    """Hill response to a log fold change ``v``, rescaled to slope 1 at ``v = 0``.

    ``(2/n) * tanh(n v / 2) = (2/n) * (a^n - 1) / (a^n + 1)`` with ``a = exp(v)`` the fold change:
    a Hill function with coefficient ``n`` and threshold at the set point, saturating at
    ``+-2/n``.
    """
    return (2.0 / n) * np.tanh(0.5 * n * v)


def promoter(z: np.ndarray, gain: float, offset: np.ndarray) -> np.ndarray:
    """Sigmoid promoter response to an input change ``z``, rescaled to slope 1 at ``z = 0``.

    ``(tanh(gain z + c) - tanh(c)) / (gain sech(c)^2)`` with ``c = offset`` (one per target,
    broadcast over the last axis): ``c < 0`` puts the set point below the midpoint (convex for
    rising input: synergy), ``c > 0`` above it (concave: saturation, buffering). The largest
    slope is ``cosh(c)^2``.
    """
    slope = np.cosh(offset) ** -2
    return (np.tanh(gain * z + offset) - np.tanh(offset)) / (gain * slope)


@dataclass(frozen=True)
class Clamp:
    """Hard interventions shared by a group of cells.

    Attributes
    ----------
    genes
        Clamped gene indices, shape (k,).
    values
        Clamped log levels, shape (cells, k).
    mrna
        Shape (k,): True when the mRNA is clamped too (knockout, induction), False when only
        the activity is (degron: the mRNA keeps following its regulators).
    """

    genes: np.ndarray
    values: np.ndarray
    mrna: np.ndarray

    @classmethod
    def empty(cls, n_cells: int) -> Clamp:
        """No clamp."""
        return cls(np.zeros(0, int), np.zeros((n_cells, 0)), np.zeros(0, bool))

    def __len__(self) -> int:
        return self.genes.size

    def apply(self, u: np.ndarray, which: str = "all") -> np.ndarray:
        """Overwrite clamped columns of ``u`` in place and return it.

        ``which``: ``"all"`` clamps, only the ``"mrna"`` clamps, or only the ``"activity"``
        clamps (those that leave the mRNA free).
        """
        sel = {"all": np.ones(self.genes.size, bool), "mrna": self.mrna, "activity": ~self.mrna}
        keep = sel[which]
        u[:, self.genes[keep]] = self.values[:, keep]
        return u

    def rows(self, cells: np.ndarray) -> Clamp:
        """The clamp of a subset of its cells."""
        return Clamp(self.genes, self.values[cells], self.mrna)


@dataclass(frozen=True)
class Regulation:
    """A regulatory mechanism on log expression.

    Attributes
    ----------
    G
        Direct effects (genes x genes), ``G[i, j]`` = effect of ``i`` on ``j``.
    hill_n
        Hill coefficient of the saturating response; None for the affine mechanism.
    pairs
        Shape (m, 3) integer rows ``(a, b, target)``: AND/OR-like joint regulation of
        ``target`` by ``a`` and ``b``.
    pair_weight
        Shape (m,): weight of each pair term. With activators ``a, b``, a negative weight makes
        the pair OR-like (either suffices: losing both costs less than the sum), a positive one
        AND-like (losing both costs more).
    setpoint
        Reference log levels ``r`` at which ``G`` is the Jacobian; required when nonlinear.
    gain
        Gain of the sigmoid promoter response :func:`promoter` (None: linear response).
    offset
        Shape (genes,): position of each target's set point on its promoter sigmoid
        (required with ``gain``).
    """

    G: np.ndarray
    hill_n: float | None = None
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), int))
    pair_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    setpoint: np.ndarray | None = None
    gain: float | None = None
    offset: np.ndarray | None = None

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return self.G.shape[0]

    @property
    def affine(self) -> bool:
        """True when the mechanism is affine (no saturation, no pair terms)."""
        return self.hill_n is None and self.gain is None and self.pairs.shape[0] == 0

    @cached_property
    def T(self) -> np.ndarray:
        """Total effects ``(I - G)^-1`` of the affine mechanism (rows = source)."""
        return np.linalg.inv(np.eye(self.n_genes) - self.G)

    @cached_property
    def _G_sparse_T(self) -> sparse.csc_matrix:
        """``G`` transposed, sparse (see :func:`_times_sparse`)."""
        return sparse.csr_matrix(self.G).transpose()

    @cached_property
    def _sources(self) -> np.ndarray:
        """Genes whose activity acts on some gene (rows of ``G`` or pair members)."""
        rows = np.flatnonzero((self.G != 0).any(axis=1))
        return np.union1d(rows, self.pairs[:, :2].ravel()).astype(int)

    @cached_property
    def _nonlinear_parts(
        self,
    ) -> tuple[np.ndarray, sparse.csc_matrix, sparse.csc_matrix, np.ndarray]:
        """Constant ``r @ G``, transposed ``G`` restricted to source rows, transposed pair
        matrix, pair positions (transposes: see :func:`_times_sparse`)."""
        src = self._sources
        m = self.pairs.shape[0]
        pair_matrix = sparse.csr_matrix(
            (self.pair_weight, (np.arange(m), self.pairs[:, 2])), shape=(m, self.n_genes)
        )
        pos = np.searchsorted(src, self.pairs[:, :2])
        G_src = sparse.csr_matrix(self.G[src])
        return self.setpoint @ self.G, G_src.transpose(), pair_matrix.transpose(), pos

    def drive(self, u: np.ndarray) -> np.ndarray:
        """Regulatory input ``drive(u)`` for activities ``u`` of shape (cells, genes)."""
        if self.affine:
            return _times_sparse(u, self._G_sparse_T)
        const, G_src_T, pair_matrix_T, pos = self._nonlinear_parts
        src = self._sources
        v = u[:, src] - self.setpoint[src]
        f = v if self.hill_n is None else hill(v, self.hill_n)
        z = _times_sparse(f, G_src_T)
        if pos.shape[0]:
            z += _times_sparse(f[:, pos[:, 0]] * f[:, pos[:, 1]], pair_matrix_T)
        return const + (z if self.gain is None else promoter(z, self.gain, self.offset))


def _times_sparse(x: np.ndarray, m_transposed: sparse.spmatrix) -> np.ndarray:
    """``x @ M`` for dense ``x`` and sparse ``M`` given ``M.T``.

    scipy computes ``dense @ sparse`` as ``(M.T @ x.T).T`` and builds ``M.T`` on every call,
    which cost more than the product itself in the fixed-point iteration; callers cache the
    transpose (same arithmetic, same results).
    """
    return np.asarray((m_transposed @ x.T).T)


def _affine_steady_state(
    b: np.ndarray, reg: Regulation, clamp: Clamp, y: np.ndarray | None = None
) -> np.ndarray:
    """Exact affine steady state under hard clamps.

    A clamp on set ``A`` equals the shift ``d`` on ``A`` that brings the unclamped solution
    ``y = b T`` to the clamp values: ``d = (c - y_A) T[A, A]^-1``, ``u = y + d T[A, :]``. The
    mRNA then follows ``x = b + u G``, which differs from ``u`` only on ``A``.
    """
    y = b @ reg.T if y is None else y
    if not len(clamp):
        return y.copy()
    A = clamp.genes
    d = np.linalg.solve(reg.T[np.ix_(A, A)].T, (clamp.values - y[:, A]).T).T
    u = y + d @ reg.T[A]
    x = u
    x[:, A] = b[:, A] + u @ reg.G[:, A]
    return clamp.apply(x, which="mrna")


def _fixed_point(
    b: np.ndarray, reg: Regulation, clamp: Clamp, tol: float, max_iter: int
) -> np.ndarray:
    """Nonlinear steady state by Picard iteration ``u <- clamp(b + drive(u))``.

    The map is a contraction when the Perron root of ``|G|`` times the largest promoter slope
    is below 1 (``|f'| <= 1``); the network generators keep the root at most 0.8 and the
    promoter offsets bound the slope (see ``MechanismConfig.offset_max``); pair terms are kept
    small for the same reason.
    """
    u = clamp.apply(_affine_steady_state(b, reg, clamp))
    # iterate only the cells not converged yet, their rows kept compact (subset only when
    # some converge; rows go back to `u` when they leave): cells converge at different rates,
    # and iterating all until the slowest did cost `norman` (10 cells per perturbation)
    # 145 s instead of 42 s with the cached transposes of `drive`, same counts
    active = np.arange(b.shape[0])
    u_a, b_a, clamp_a = u, b, clamp
    for _ in range(max_iter):
        new = clamp_a.apply(b_a + reg.drive(u_a))
        change = np.abs(new - u_a).max(axis=1, initial=0.0)
        keep = change >= tol
        u_a = new
        if keep.all() and active.size:
            continue
        u[active] = new
        active, u_a, b_a, clamp_a = active[keep], new[keep], b_a[keep], clamp_a.rows(keep)
        if not active.size:
            break
    else:
        u[active] = u_a
        logger.warning(
            "steady state not converged after %d iterations (%d cells, error %.2g)",
            max_iter,
            active.size,
            change.max(),
        )
    return clamp.apply(b + reg.drive(u), which="mrna")


def steady_state(
    b: np.ndarray,
    reg: Regulation,
    clamp: Clamp | None = None,
    *,
    tol: float = 1e-7,
    max_iter: int = 500,
    unclamped: np.ndarray | None = None,
) -> np.ndarray:
    """Steady-state log expression of cells.

    Parameters
    ----------
    b
        Basal input, shape (cells, genes), shift interventions included.
    reg
        The mechanism.
    clamp
        Hard interventions shared by all cells (values may differ per cell).
    tol, max_iter
        Convergence control of the nonlinear fixed-point iteration.
    unclamped
        Optional precomputed ``b @ T`` (affine mechanism only), reused to save a product.

    Returns
    -------
    np.ndarray
        Log expression ``x``, shape (cells, genes). For the affine mechanism without clamps
        this is exactly ``b @ (I - G)^-1``.
    """
    b = np.atleast_2d(np.asarray(b, float))
    clamp = Clamp.empty(b.shape[0]) if clamp is None else clamp
    if reg.affine:
        return _affine_steady_state(b, reg, clamp, unclamped)
    return _fixed_point(b, reg, clamp, tol, max_iter)


def integrate(
    x0: np.ndarray,
    b: np.ndarray,
    reg: Regulation,
    tau: np.ndarray,
    times: np.ndarray,
    *,
    clamp: Clamp | None = None,
    noise_sd: float = 0.0,
    dt: float = 0.05,
    rng: RngLike = None,
) -> np.ndarray:
    """Integrate the stochastic dynamics from ``x0`` and return the states at ``times``.

    Euler-Maruyama for the SDE

        dx = (b + drive(u) - x) / tau dt + noise_sd * sqrt(2 / tau) dW

    where ``u = x`` except at activity clamps, and mRNA clamps set the production target of
    their gene (so an induced transcript rises with its own lifetime). Without regulation the
    intrinsic noise is an Ornstein-Uhlenbeck process with stationary sd ``noise_sd``.

    Parameters
    ----------
    x0
        Initial log expression, shape (cells, genes).
    b
        Basal input, shape (cells, genes).
    reg
        The mechanism.
    tau
        mRNA lifetimes in hours, shape (genes,).
    times
        Non-decreasing times (hours after the start) at which to record the state.
    clamp
        Interventions switched on at time 0.
    noise_sd
        Stationary sd of the intrinsic noise; 0 gives the deterministic ODE.
    dt
        Largest time step in hours.
    rng
        Seed or generator for the noise.

    Returns
    -------
    np.ndarray
        Shape (len(times), cells, genes).
    """
    rng = as_rng(rng)
    x = np.array(x0, float)
    clamp = Clamp.empty(x.shape[0]) if clamp is None else clamp
    rate = 1.0 / np.asarray(tau, float)
    out = np.empty((len(times), *x.shape))
    t = 0.0
    for k, t_next in enumerate(np.asarray(times, float)):
        n_steps = int(np.ceil((t_next - t) / dt - 1e-9))
        for h in np.full(n_steps, (t_next - t) / max(n_steps, 1)):
            u = clamp.apply(x.copy(), "activity")
            target = clamp.apply(b + reg.drive(u), "mrna")
            x += h * rate * (target - x)
            if noise_sd > 0:
                x += noise_sd * np.sqrt(2 * h * rate) * rng.standard_normal(x.shape)
        t = t_next
        out[k] = x
    return out
