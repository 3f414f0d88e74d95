"""Which experiments to run next: batch selection of unseen perturbations under a fitted model.

The predictor's per-gene uncertainty for a gene never perturbed says how much measuring it
would teach; perturbations whose predicted responses look alike teach the same thing. The
greedy batch picks the candidate with the largest remaining value and then discounts every
other candidate by ``1 - r^2``, ``r`` the correlation of their predicted responses (the share
of its response the chosen one would reveal if responses were jointly Gaussian along that
direction).

Strategies: ``uncertainty`` (value = total predicted error variance), ``effect`` (value =
squared norm of the predicted response: large, novel responses), ``coverage`` (a representative
batch: greedy facility location on the correlation of predicted responses, so that every
candidate left unmeasured resembles a measured one, which is what helps a predictor of genes
never perturbed), ``random``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng

STRATEGIES = ("uncertainty", "effect", "coverage", "random")


def _value(pred: np.ndarray, sd: np.ndarray, strategy: str) -> np.ndarray:
    if strategy == "uncertainty":
        return (sd**2).sum(axis=1)
    return (pred**2).sum(axis=1)


def _correlation(profiles: np.ndarray) -> np.ndarray:
    """Correlation of the rows (0 where a row is constant; 1x1 for one row)."""
    return np.nan_to_num(np.corrcoef(profiles)) if len(profiles) > 1 else np.ones((1, 1))


def greedy_batch(value: np.ndarray, profiles: np.ndarray, k: int) -> list[int]:
    """Indices of ``k`` picks: largest value first, others discounted by ``1 - r^2``."""
    corr = _correlation(profiles)
    remaining = value.astype(float).copy()
    picks: list[int] = []
    for _ in range(min(k, len(value))):
        open_value = remaining.copy()
        open_value[picks] = -np.inf
        best = int(np.argmax(open_value))
        picks.append(best)
        remaining *= 1 - corr[best] ** 2
    return picks


def coverage_batch(profiles: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    """Greedy facility location: picks maximising ``sum_j max_(i in picks) max(r_ij, 0)``.

    Returns the picks and each pick's marginal gain (the objective is submodular, so the
    greedy batch is within ``1 - 1/e`` of the best batch of its size).
    """
    sim = np.clip(_correlation(profiles), 0.0, None)
    covered = np.zeros(len(sim))
    picks, gains = [], []
    for _ in range(min(k, len(sim))):
        gain = np.maximum(sim - covered[None, :], 0.0).sum(axis=1)
        gain[picks] = -np.inf
        best = int(np.argmax(gain))
        picks.append(best)
        gains.append(gain[best])
        covered = np.maximum(covered, sim[best])
    return picks, np.asarray(gains)


def next_experiments(
    model,
    candidates: list[str],
    k: int,
    *,
    strategy: str = "uncertainty",
    rng: RngLike = None,
) -> pd.DataFrame:
    """Choose ``k`` perturbations among ``candidates`` to run next.

    Parameters
    ----------
    model
        A fitted :mod:`causalcell.predict` model.
    candidates
        Perturbation labels not yet measured (singles or combinations).
    k
        Batch size.
    strategy
        ``uncertainty``, ``effect``, ``coverage`` or ``random`` (see the module docstring).
    rng
        Seed or generator (``random`` only).

    Returns
    -------
    DataFrame
        The chosen perturbations in order of choice, with ``value`` (before discounting; for
        ``coverage`` the marginal gain) and
        ``uncertainty`` (total predicted error variance).
    """
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    labels = list(dict.fromkeys(str(c) for c in candidates))
    if k < 1 or not labels:
        raise InputError("need k >= 1 and at least one candidate")
    pred = model.predict(labels).to_numpy()
    sd = model.uncertainty_.to_numpy()
    if strategy == "random":
        picks = list(as_rng(rng).permutation(len(labels))[:k])
        value = np.zeros(len(labels))
    elif strategy == "coverage":
        picks, gains = coverage_batch(pred, k)
        value = np.zeros(len(labels))
        value[picks] = gains
    else:
        value = _value(pred, sd, strategy)
        picks = greedy_batch(value, pred, k)
    return pd.DataFrame(
        {"value": value[picks], "uncertainty": (sd[picks] ** 2).sum(axis=1)},
        index=pd.Index([labels[i] for i in picks], name="perturbation"),
    )
