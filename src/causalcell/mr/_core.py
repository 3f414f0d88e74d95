"""Shared pieces of the MR estimators: the result type, the method registry, input checks.

Every estimator is a pure function ``f(bx, sx, by, sy, **options) -> MRResult`` on the
per-variant associations with the exposure (``bx`` with standard errors ``sx``) and with the
outcome (``by``, ``sy``). It is registered once with :func:`register`; the runner
(:func:`causalcell.mr.mr`) looks methods up by name instead of dispatching with ``if``/``elif``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from causalcell._errors import InputError

__all__ = ["MRMethod", "MRResult", "get_method", "list_methods", "register"]


@dataclass(frozen=True)
class MRResult:
    """Result of one MR estimator.

    Parameters
    ----------
    method
        Name of the method that produced it (the registry name when run by ``mr``).
    estimate
        Causal effect estimate (outcome units per unit of exposure).
    se
        Its standard error.
    n_snps
        Number of variants used.
    dof
        Degrees of freedom of the t distribution used for the p-value and confidence interval;
        ``None`` (the default of the R package MendelianRandomization) uses the normal distribution.
    alpha
        Significance level of the two-sided ``1 - alpha`` confidence interval.
    extras
        Method-specific statistics (heterogeneity ``q``, ``i2``, Egger ``intercept``, ...).
    """

    method: str
    estimate: float
    se: float
    n_snps: int
    dof: float | None = None
    alpha: float = 0.05
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def z(self) -> float:
        """Wald statistic ``estimate / se``."""
        return self.estimate / self.se if self.se > 0 else np.nan

    @property
    def pval(self) -> float:
        """Two-sided p-value of ``estimate = 0``."""
        return float(2 * _dist(self.dof).sf(abs(self.z)))

    @property
    def ci_low(self) -> float:
        """Lower end of the ``1 - alpha`` confidence interval."""
        return self.estimate - _dist(self.dof).isf(self.alpha / 2) * self.se

    @property
    def ci_high(self) -> float:
        """Upper end of the ``1 - alpha`` confidence interval."""
        return self.estimate + _dist(self.dof).isf(self.alpha / 2) * self.se

    def to_dict(self) -> dict[str, float | str | int]:
        """Flat row: ``method, estimate, se, pval, ci_low, ci_high, n_snps`` then the extras."""
        row = {
            "method": self.method,
            "estimate": float(self.estimate),
            "se": float(self.se),
            "pval": self.pval,
            "ci_low": float(self.ci_low),
            "ci_high": float(self.ci_high),
            "n_snps": int(self.n_snps),
        }
        return row | {k: float(v) for k, v in self.extras.items()}


def _dist(dof: float | None):
    return stats.norm if dof is None else stats.t(dof)


def secondary(name: str, estimate: float, se: float, dof: float | None = None) -> dict[str, float]:
    """Extras for a secondary parameter (e.g. the Egger intercept): value, se, p, 95% CI."""
    res = MRResult(name, estimate, se, 0, dof=dof)
    return {
        name: float(estimate),
        f"{name}_se": float(se),
        f"{name}_pval": res.pval,
        f"{name}_ci_low": float(res.ci_low),
        f"{name}_ci_high": float(res.ci_high),
    }


@dataclass(frozen=True)
class MRMethod:
    """A registered MR estimator and its metadata.

    Parameters
    ----------
    name
        Registry key and the ``method`` value of output rows.
    func
        The estimator ``func(bx, sx, by, sy, **options) -> MRResult``.
    label
        Human-readable name.
    reference
        Publication (and, where it matters, the implementation whose conventions are followed).
    min_snps, max_snps
        Number of variants the method needs (``max_snps=None``: no upper limit).
    uses_rng
        Whether ``func`` takes an ``rng`` (bootstrap or simulation).
    accepts_ld
        Whether ``func`` takes an ``ld`` correlation matrix of the variants.
    """

    name: str
    func: Callable[..., MRResult]
    label: str
    reference: str
    min_snps: int = 1
    max_snps: int | None = None
    uses_rng: bool = False
    accepts_ld: bool = False


_REGISTRY: dict[str, MRMethod] = {}


def register(name: str, func: Callable[..., MRResult], **meta) -> Callable[..., MRResult]:
    """Add ``func`` to the registry under ``name`` (``meta``: the other :class:`MRMethod` fields)."""
    _REGISTRY[name] = MRMethod(name=name, func=func, **meta)
    return func


def get_method(name: str) -> MRMethod:
    """Look up a registered method; an unknown name is an :class:`InputError` listing them."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(
            f"unknown MR method {name!r}; choose from {', '.join(sorted(_REGISTRY))}"
        ) from None


def list_methods() -> pd.DataFrame:
    """Table of the registered methods and their metadata, one row per method."""
    rows = [
        {k: v for k, v in dataclasses.asdict(m).items() if k != "func"} for m in _REGISTRY.values()
    ]
    return pd.DataFrame(rows).set_index("name")


def as_arrays(
    bx, sx, by, sy, *, min_snps: int = 1, method: str = "MR"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check and convert the four association vectors to 1-D float arrays of equal length."""
    arrays = [np.asarray(a, dtype=float).reshape(-1) for a in (bx, sx, by, sy)]
    names = ("bx", "sx", "by", "sy")
    n = arrays[0].size
    for name, a in zip(names, arrays, strict=True):
        if a.size != n:
            raise InputError(
                f"{method}: {name} has {a.size} values but bx has {n}; give one per SNP"
            )
        if not np.all(np.isfinite(a)):
            raise InputError(f"{method}: {name} contains NaN or infinite values; remove those SNPs")
    for name, a in zip(("sx", "sy"), arrays[1::2], strict=True):
        if np.any(a <= 0):
            raise InputError(f"{method}: standard errors {name} must be > 0")
    if n < min_snps:
        raise InputError(f"{method} needs at least {min_snps} SNPs, got {n}")
    return tuple(arrays)  # type: ignore[return-value]


def ratio_estimates(bx, sx, by, sy, *, order: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per-variant Wald ratios ``by / bx`` and their first- or second-order standard errors.

    Parameters
    ----------
    bx, sx, by, sy
        Associations with exposure and outcome and their standard errors.
    order
        1: ``sy / |bx|`` (ignores the uncertainty in ``bx``); 2: delta method,
        ``sqrt(sy^2 / bx^2 + by^2 sx^2 / bx^4)`` (no sample overlap).

    Returns
    -------
    ratio, se
        Arrays of the ratio estimates and their standard errors.
    """
    bx, sx, by, sy = (np.asarray(a, dtype=float) for a in (bx, sx, by, sy))
    se_of_order = {
        1: lambda: sy / np.abs(bx),
        2: lambda: np.sqrt(sy**2 / bx**2 + by**2 * sx**2 / bx**4),
    }
    if order not in se_of_order:
        raise InputError(f"order must be 1 (first-order) or 2 (second-order), got {order!r}")
    return by / bx, se_of_order[order]()
