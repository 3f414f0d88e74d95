"""Measurement operator: library size, batch, negative-binomial counts, dropout.

Expected UMI count of gene ``j`` in cell ``c``:

    mu_cj = L_c * exp(x_cj + beta_{batch(c), j}) / Z

with ``x`` the cell's log expression, ``L_c`` its library size (log-normal around ``depth``,
times a batch factor), ``beta`` gene-wise batch effects and ``Z`` the summed expression of the
reference state (so a reference cell has ``L_c`` expected UMIs, and a perturbation that lowers
total mRNA lowers the count depth). Counts are negative binomial with common inverse
dispersion ``theta`` (gamma-Poisson), zero-inflated with probability
``pi_cj = dropout / (1 + exp(2 (log mu_cj - dropout_mid)))`` (dropout of weakly expressed genes).

:func:`expected_log1p_cp10k` gives the exact conditional expectation of
``log1p(1e4 * counts / total)`` given the state, with the total replaced by its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special, stats

from causalcell._utils import RngLike, as_rng


@dataclass(frozen=True)
class MeasurementConfig:
    """Parameters of the measurement operator.

    Attributes
    ----------
    depth
        Median expected UMIs per reference cell.
    depth_sd
        Sd of the log library size between cells.
    theta
        Negative-binomial inverse dispersion, common to all genes (gene-specific
        overdispersion comes from the intrinsic noise of the mechanism).
    dropout
        Largest extra zero-inflation probability (0 disables).
    dropout_mid
        Log expected count at which zero-inflation is half its largest value.
    n_batches
        Number of batches; cells are assigned uniformly.
    batch_sd
        Sd of gene-wise log batch factors.
    batch_depth_sd
        Sd of the log depth factor of each batch.
    """

    depth: float = 4000.0
    depth_sd: float = 0.3
    theta: float = 10.0
    dropout: float = 0.0
    dropout_mid: float = -1.0
    n_batches: int = 1
    batch_sd: float = 0.2
    batch_depth_sd: float = 0.2


@dataclass(frozen=True)
class Measurement:
    """A drawn measurement operator (batch effects fixed).

    Attributes
    ----------
    config
        The parameters.
    batch_shift
        Gene-wise log batch factors, shape (n_batches, genes); zero for a single batch.
    batch_depth
        Log depth factor per batch, shape (n_batches,).
    log_z
        Log of the summed reference expression ``Z``.
    """

    config: MeasurementConfig
    batch_shift: np.ndarray
    batch_depth: np.ndarray
    log_z: float

    @classmethod
    def draw(
        cls, config: MeasurementConfig, setpoint: np.ndarray, rng: RngLike = None
    ) -> Measurement:
        """Draw batch effects; the reference state ``setpoint`` fixes ``Z``."""
        rng = as_rng(rng)
        nb, g = config.n_batches, setpoint.size
        shift = rng.normal(0, config.batch_sd, (nb, g)) if nb > 1 else np.zeros((1, g))
        depth = rng.normal(0, config.batch_depth_sd, nb) if nb > 1 else np.zeros(1)
        return cls(config, shift, depth, float(special.logsumexp(setpoint)))

    def log_library(self, batch: np.ndarray, rng: RngLike = None) -> np.ndarray:
        """Log library size of cells in ``batch`` (integer codes)."""
        rng = as_rng(rng)
        noise = rng.normal(0, self.config.depth_sd, batch.size)
        return np.log(self.config.depth) + self.batch_depth[batch] + noise

    def log_mean(self, x: np.ndarray, batch: np.ndarray, log_lib: np.ndarray) -> np.ndarray:
        """Log expected counts ``log mu``, shape (cells, genes)."""
        return x + self.batch_shift[batch] + (log_lib - self.log_z)[:, None]

    def zero_inflation(self, log_mu: np.ndarray) -> np.ndarray | float:
        """Zero-inflation probability of every entry (0.0 when dropout is off)."""
        c = self.config
        if c.dropout <= 0:
            return 0.0
        return c.dropout * special.expit(-2.0 * (log_mu - c.dropout_mid))

    def sample(self, log_mu: np.ndarray, rng: RngLike = None) -> np.ndarray:
        """Draw UMI counts (int32) with expectation ``(1 - pi) * mu``."""
        return sample_counts(log_mu, self.config.theta, self.zero_inflation(log_mu), rng=rng)

    def expected_log1p(self, log_mu: np.ndarray) -> np.ndarray:
        """Expected log1p CP10k of every entry given its expected count (see module doc)."""
        return expected_log1p_cp10k(log_mu, self.config.theta, self.zero_inflation(log_mu))


def sample_counts(
    log_mu: np.ndarray,
    theta: float,
    zero_inflation: np.ndarray | float = 0.0,
    *,
    rng: RngLike = None,
) -> np.ndarray:
    """Zero-inflated negative-binomial counts by gamma-Poisson mixing.

    Parameters
    ----------
    log_mu
        Log NB means, any shape.
    theta
        Inverse dispersion (variance ``mu + mu^2 / theta``).
    zero_inflation
        Probability (scalar or array like ``log_mu``) of an extra zero.
    rng
        Seed or generator.

    Returns
    -------
    np.ndarray
        int32 counts, same shape as ``log_mu``.
    """
    rng = as_rng(rng)
    rate = rng.gamma(theta, np.exp(log_mu) / theta)
    counts = rng.poisson(rate).astype(np.int32)
    if np.any(np.asarray(zero_inflation) > 0):
        counts[rng.random(counts.shape) < zero_inflation] = 0
    return counts


# --- exact expectation of log1p(s * Y), Y ~ NB(mu, theta) --------------------------------------

_STEP = 0.05
_LOG_MU = np.arange(-14.0, 13.0 + _STEP / 2, _STEP)  # NB means of the table
_LOG_S = np.arange(-7.0, 9.0 + _STEP / 2, _STEP)  # scale factors 1e4 / total
_LOG_T = np.arange(-25.0, 8.0 + _STEP / 2, _STEP)  # log of gamma mixing variable (mean theta)


def _poisson_log1p(nu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``E[log1p(s Y)]``, ``Y ~ Poisson(nu)``, on the grid ``nu x s``.

    Exact summation up to ``y = 250`` for ``nu <= 60``; above, the moment expansion of
    ``log(1 + s y)`` around ``nu`` to sixth order (error below 1e-5).
    """
    out = np.empty((nu.size, s.size))
    small = nu <= 60
    y = np.arange(251.0)
    pmf = stats.poisson.pmf(y[None, :], nu[small, None])
    out[small] = pmf @ np.log1p(np.outer(y, s))
    big = nu[~small, None]
    z = s[None, :] / (1 + s[None, :] * big)
    central = {2: big, 3: big, 4: 3 * big**2 + big, 5: 10 * big**2 + big}
    central[6] = 15 * big**3 + 25 * big**2 + big
    out[~small] = np.log1p(s[None, :] * big) + sum(
        (-1) ** (k - 1) * z**k * m / k for k, m in central.items()
    )
    return out


@lru_cache(maxsize=8)
def _nb_log1p_table(theta: float) -> np.ndarray:
    """``E[log1p(s Y)]``, ``Y ~ NB(mu, theta)``, on the grid ``_LOG_MU x _LOG_S``.

    ``Y ~ Poisson(mu t / theta)`` with ``t ~ Gamma(theta, 1)``. On the log scale the mixture is
    a convolution along ``log mu``: with ``v = log t`` on the same step as ``log mu``, the
    table is ``sum_k w_k P[m + k]`` where ``P`` is the Poisson table at rates
    ``exp(log mu_m + v_k) / theta`` and ``w_k`` the gamma density of ``v`` (trapezoid rule,
    spectrally accurate for this smooth, fast-decaying integrand).
    """
    log_w = theta * _LOG_T - np.exp(_LOG_T)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    log_nu = np.arange(_LOG_MU[0] + _LOG_T[0], _LOG_MU[-1] + _LOG_T[-1] + _STEP, _STEP)
    inner = _poisson_log1p(np.exp(log_nu - np.log(theta)), np.exp(_LOG_S))
    table = np.zeros((_LOG_MU.size, _LOG_S.size))
    for k in np.flatnonzero(w > 1e-14):
        table += w[k] * inner[k : k + _LOG_MU.size]
    return table


def _interp_rows(table: np.ndarray, log_mu: np.ndarray, log_s: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``table`` (grids ``_LOG_MU x _LOG_S``) at ``log_mu`` (cells x
    genes) and one ``log_s`` per cell: first along ``s`` per cell, then along ``mu``."""
    pb = np.clip((log_s - _LOG_S[0]) / _STEP, 0, _LOG_S.size - 1.000001)
    ib = pb.astype(np.intp)
    fb = pb - ib
    cols = table[:, ib] * (1 - fb) + table[:, ib + 1] * fb  # (mu grid, cells)
    pa = np.clip((log_mu - _LOG_MU[0]) / _STEP, 0, _LOG_MU.size - 1.000001)
    ia = pa.astype(np.intp)
    fa = pa - ia
    rows = np.ascontiguousarray(cols.T)
    lo = np.take_along_axis(rows, ia, axis=1)
    hi = np.take_along_axis(rows, ia + 1, axis=1)
    return lo + (hi - lo) * fa


def expected_log1p_cp10k(
    log_mu: np.ndarray, theta: float, zero_inflation: np.ndarray | float = 0.0
) -> np.ndarray:
    """Expected ``log1p(1e4 * Y / N)`` of every entry of a cells x genes mean matrix.

    ``Y`` is zero-inflated NB with mean ``(1 - pi) mu``; the cell total ``N`` is replaced by its
    expectation ``sum_j (1 - pi_j) mu_j`` (its relative sd is a few percent and the resulting
    error is second order and common to perturbed and control cells). The NB expectation is
    exact up to table interpolation (about 1e-4 relative).

    Parameters
    ----------
    log_mu
        Log NB means, shape (cells, genes).
    theta
        Inverse dispersion.
    zero_inflation
        Zero-inflation probabilities, scalar or shaped like ``log_mu``.

    Returns
    -------
    np.ndarray
        Shape (cells, genes).
    """
    keep = 1.0 - np.asarray(zero_inflation)
    total = np.sum(keep * np.exp(log_mu), axis=1)
    log_s = np.log(1e4) - np.log(total)
    vals = _interp_rows(_nb_log1p_table(float(theta)), log_mu, log_s)
    tiny = log_mu < _LOG_MU[0]
    if np.any(tiny):  # E log1p(sY) is linear in mu below the grid
        vals = np.where(tiny, vals * np.exp(log_mu - _LOG_MU[0]), vals)
    return keep * vals
