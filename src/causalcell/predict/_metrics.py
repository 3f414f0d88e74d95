"""Prediction metrics of the field (GEARS, cell-eval, Systema), on deltas vs control."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from causalcell._utils import RngLike, as_rng


def _top_de(true: np.ndarray, top: int) -> np.ndarray:
    return np.argsort(-np.abs(true))[:top]


def pearson_delta(pred: np.ndarray, true: np.ndarray, top: int | None = 20) -> float:
    """Pearson correlation of predicted and true delta on the top-``top`` DE genes (all if None)."""
    idx = _top_de(true, top) if top else slice(None)
    p, t = pred[idx], true[idx]
    if np.std(p) == 0 or np.std(t) == 0:
        return 0.0
    return float(np.corrcoef(p, t)[0, 1])


def mse(pred: np.ndarray, true: np.ndarray, top: int | None = 20) -> float:
    """Mean squared error on the top-``top`` DE genes."""
    idx = _top_de(true, top) if top else slice(None)
    return float(np.mean((pred[idx] - true[idx]) ** 2))


def direction_accuracy(pred: np.ndarray, true: np.ndarray, top: int | None = 20) -> float:
    """Fraction of the top-``top`` DE genes whose predicted change has the right sign."""
    idx = _top_de(true, top) if top else slice(None)
    return float(np.mean(np.sign(pred[idx]) == np.sign(true[idx])))


PER_PERTURBATION: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "pearson_delta_top20": pearson_delta,
    "mse_top20": mse,
    "direction_top20": direction_accuracy,
    "pearson_delta_all": lambda p, t: pearson_delta(p, t, None),
}


def discrimination_score(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """cell-eval's perturbation discrimination: per perturbation, 1 - normalised rank of its own
    true profile among all true profiles by L1 distance to the prediction (1 = best, 0.5 = chance)."""
    n = len(true)
    if n < 2:
        return np.full(n, np.nan)
    dist = np.abs(pred[:, None, :] - true[None, :, :]).sum(axis=2)
    own = np.diag(dist)
    rank = (dist < own[:, None]).sum(axis=1)
    return 1.0 - rank / (n - 1)


def centroid_accuracy(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Systema's centroid accuracy: after removing the average response of the evaluated
    perturbations, is each prediction closest to its own true perturbation-specific effect?"""
    if len(true) < 2:
        return np.full(len(true), np.nan)
    centre = true.mean(axis=0)
    p, t = pred - centre, true - centre
    dist = ((p[:, None, :] - t[None, :, :]) ** 2).sum(axis=2)
    return (dist.argmin(axis=1) == np.arange(len(true))).astype(float)


def rank_score(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """PerturBench's rank metric: per perturbation, the normalised rank of its own prediction
    among all predictions by cosine similarity to its true profile (0 = best, 0.5 = chance).

    A model that predicts the same profile for every perturbation ties everywhere and scores
    0.5; ties count half.
    """
    n = len(true)
    if n < 2:
        return np.full(n, np.nan)
    sim = _unit(true) @ _unit(pred).T  # sim[i, j]: true i vs prediction j
    own = np.diag(sim)[:, None]
    better = (sim > own + 1e-12).sum(axis=1) + 0.5 * (np.abs(sim - own) <= 1e-12).sum(axis=1)
    return (better - 0.5) / (n - 1)


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x, dtype=float), where=norm > 0)


def interval_coverage(
    pred: np.ndarray,
    sd: np.ndarray,
    true: np.ndarray,
    top: int | None = 20,
    z: float = 1.96,
    select: str = "true",
) -> float:
    """Fraction of the top-``top`` genes (all if None) whose true change lies within
    ``pred +- z sd``: about 0.95 for calibrated per-gene uncertainties (``z = 1.96``).

    ``select="true"`` takes the genes that changed most (selected on the outcome: where the
    model missed a large change, which no interval that is calibrated over all genes covers);
    ``"pred"`` those the model predicts to change most (what a user looks at).
    """
    if select not in ("true", "pred"):
        raise ValueError(f"select must be 'true' or 'pred', got {select!r}")
    idx = _top_de(true if select == "true" else pred, top) if top else slice(None)
    return float(np.mean(np.abs(true[idx] - pred[idx]) <= z * sd[idx]))


# name, number of genes (None: all), chosen by the measured ("true") or predicted change
COVERAGES = (
    ("coverage95_top20", 20, "true"),
    ("coverage95_pred_top20", 20, "pred"),
    ("coverage95_all", None, "true"),
)


def score_predictions(
    pred: pd.DataFrame, true: pd.DataFrame, sd: pd.DataFrame | None = None
) -> pd.DataFrame:
    """All metrics per perturbation (rows of ``true``; columns aligned by gene name); with the
    predictions' per-gene ``sd`` also the coverage of their 95% intervals (top-20 genes by
    measured change, top-20 by predicted change, all genes)."""
    pred = pred.loc[true.index, true.columns]
    P, T = pred.to_numpy(float), true.to_numpy(float)
    out = pd.DataFrame(index=true.index)
    for name, fn in PER_PERTURBATION.items():
        out[name] = [fn(p, t) for p, t in zip(P, T, strict=True)]
    out["discrimination"] = discrimination_score(P, T)
    out["centroid_accuracy"] = centroid_accuracy(P, T)
    out["rank"] = rank_score(P, T)
    if sd is not None:
        S = sd.loc[true.index, true.columns].to_numpy(float)
        for name, top, select in COVERAGES:
            out[name] = [
                interval_coverage(p, s, t, top, select=select)
                for p, s, t in zip(P, S, T, strict=True)
            ]
    return out


def bootstrap_ci(
    values: np.ndarray, *, rng: RngLike = None, n_boot: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over perturbations."""
    rng = as_rng(rng)
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return (np.nan, np.nan)
    means = rng.choice(values, size=(n_boot, len(values)), replace=True).mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))
