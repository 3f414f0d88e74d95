"""Inverse design: which perturbations (singles or combinations) move cells to a target state.

Under a fitted predictor, every candidate perturbation has a predicted response and a per-gene
uncertainty. A target state is a desired change per gene (e.g. healthy minus disease
expression). Candidates are ranked by how much of the target they leave undone,
``||prediction - target||^2 / ||target||^2`` (0: reaches it; 1: no better than doing nothing),
plus, optionally, ``risk`` times the predicted error variance on the same scale (a pessimistic
score). Combinations are searched by beam: all singles are
scored, and the best ``beam`` are extended one gene at a time up to ``max_order``.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from causalcell._errors import InputError


def _target_vector(target: pd.Series, genes: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Target values on the model's genes and the positions of the genes it names."""
    if not isinstance(target, pd.Series) or target.empty:
        raise InputError("target must be a non-empty pandas Series: gene -> desired delta")
    target = target.astype(float)
    if not np.isfinite(target.to_numpy()).all():
        raise InputError("target holds NaN or infinite values")
    idx = genes.get_indexer(target.index.astype(str))
    if (idx < 0).any():
        missing = list(target.index[idx < 0][:5])
        raise InputError(f"target genes not measured by the model: {missing}")
    if not np.any(target.to_numpy()):
        raise InputError("target is all zero: nothing to reach")
    return target.to_numpy(), idx


def score_candidates(
    model, labels: list[str], target: pd.Series, risk: float = 1.0
) -> pd.DataFrame:
    """Predict ``labels`` with a fitted ``model`` and score them against ``target``.

    Returns
    -------
    DataFrame
        Indexed by perturbation: ``remaining`` (share of the target's squared norm left),
        ``uncertainty`` (predicted error variance on the same scale), ``cosine`` (direction
        agreement), ``score`` = remaining + risk * uncertainty (lower is better), ``order``.
    """
    goal, idx = _target_vector(target, pd.Index(model.genes_))
    pred = model.predict(labels).to_numpy()[:, idx]
    sd = model.uncertainty_.to_numpy()[:, idx]
    norm2 = float(goal @ goal)
    remaining = ((pred - goal) ** 2).sum(axis=1) / norm2
    uncertainty = (sd**2).sum(axis=1) / norm2
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = pred @ goal / (np.linalg.norm(pred, axis=1) * np.sqrt(norm2))
    return pd.DataFrame(
        {
            "order": [label.count("+") + 1 for label in labels],
            "remaining": remaining,
            "uncertainty": uncertainty,
            "cosine": np.nan_to_num(cosine),
            "score": remaining + risk * uncertainty,
        },
        index=pd.Index(labels, name="perturbation"),
    )


def reach_target(
    model,
    target: pd.Series,
    candidates: list[str],
    *,
    max_order: int = 2,
    beam: int = 20,
    risk: float = 0.0,
    top: int = 20,
) -> pd.DataFrame:
    """Rank perturbations of ``candidates`` (and their combinations) by how well they reach
    ``target`` under a fitted predictor.

    Parameters
    ----------
    model
        A fitted :mod:`causalcell.predict` model (``predict`` and ``uncertainty_``).
    target
        Desired delta per gene (log1p CP10k); genes it does not name are free to change.
    candidates
        Genes that may be perturbed.
    max_order
        Largest number of genes perturbed together.
    beam
        Best partial designs kept at each order.
    risk
        Weight of the predicted error variance in the score (default 0: the point prediction).
        Measured designs carry only their standard errors and predicted ones the model's
        error, so a positive risk favours experiments already done (bench/design_simulated).
    top
        Rows returned.

    Returns
    -------
    DataFrame
        The ``top`` designs, best first (see :func:`score_candidates`).
    """
    candidates = sorted(dict.fromkeys(str(c) for c in candidates))
    if not candidates:
        raise InputError("no candidate genes to perturb")
    if max_order < 1 or beam < 1:
        raise InputError("max_order and beam must be at least 1")
    scored = score_candidates(model, candidates, target, risk)
    frontier = list(scored.nsmallest(beam, "score").index)
    for order in range(2, max_order + 1):
        labels = sorted(
            {"+".join(sorted({*f.split("+"), g})) for f in frontier for g in candidates}
            - set(scored.index)
        )
        labels = [label for label in labels if label.count("+") + 1 == order]
        if not labels:
            break
        new = score_candidates(model, labels, target, risk)
        scored = pd.concat([scored, new])
        frontier = list(new.nsmallest(beam, "score").index)
    return scored.sort_values(["score", "order"]).head(top)


def all_pairs(genes: list[str]) -> list[str]:
    """Every two-gene combination label of ``genes`` (for exhaustive checks of the beam)."""
    return ["+".join(sorted(p)) for p in combinations(sorted(set(genes)), 2)]
