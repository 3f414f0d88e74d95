"""Genetic-interaction calls for combinations: synergy, suppression or additive.

A combination's *interaction score* is the slope of its response on the sum of its single-gene
responses (least squares through the origin, over genes): 1 for an additive pair, above 1 when
the pair does more than the sum (synergy), below 1 when less (suppression, buffering). It is the
one-number version of the Norman et al. (2019) regression of the double on the two singles.
The perturbed genes themselves are left out of the score: their change is the intervention,
and in a screen it dominates the profile (a CRISPRa target rises 10-fold) while saying nothing
about how the pair's downstream responses combine.

A model's call is made the way the field makes it: its predicted double against *its own*
predictions of the two singles (GEARS' ``get_GI_params`` uses the predicted singles and double;
Norman et al. regress the measured double on the measured singles), and the true call is the
true double against the true singles. A model's GI call is therefore what the model claims about
the interaction, free of any scale difference between its singles and the true ones (a model
that shrinks every single by 10% would otherwise "call" suppression everywhere). An additive
model calls every pair additive; a model that predicts no change for the singles makes no call
(score NaN, call ``"none"``, counted as wrong).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalcell.predict._data import targets_of

CALLS = ("suppression", "additive", "synergy")
NO_CALL = "none"


def interaction_score(combo: np.ndarray, singles: np.ndarray) -> float:
    """Slope of ``combo`` on the sum of the rows of ``singles`` (NaN when the sum is 0)."""
    additive = np.asarray(singles, float).sum(axis=0)
    denom = float(additive @ additive)
    return float(combo @ additive / denom) if denom > 0 else np.nan


def call_interaction(score: float, tolerance: float = 0.2) -> str:
    """``synergy`` above ``1 + tolerance``, ``suppression`` below ``1 - tolerance``; ``"none"``
    when the score is undefined (the singles sum to zero)."""
    if not np.isfinite(score):
        return NO_CALL
    if score > 1 + tolerance:
        return "synergy"
    if score < 1 - tolerance:
        return "suppression"
    return "additive"


def interaction_table(
    combos: pd.DataFrame, singles: pd.DataFrame, *, tolerance: float = 0.2
) -> pd.DataFrame:
    """Interaction score and call of each combination (rows of ``combos``) relative to the
    single-gene responses in ``singles`` (rows named by gene); combinations with a gene missing
    from ``singles`` are skipped. Columns are aligned by gene name."""
    singles = singles.reindex(columns=combos.columns, fill_value=0.0)
    rows = {}
    for label, values in combos.iterrows():
        parts = targets_of(str(label))
        if len(parts) < 2 or not all(g in singles.index for g in parts):
            continue
        keep = ~combos.columns.isin(parts)
        score = interaction_score(
            values.to_numpy(float)[keep], singles.loc[parts].to_numpy(float)[:, keep]
        )
        rows[label] = (score, call_interaction(score, tolerance))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["score", "call"])


def score_interactions(
    pred: pd.DataFrame,
    true: pd.DataFrame,
    singles: pd.DataFrame,
    pred_singles: pd.DataFrame | None = None,
    *,
    tolerance: float = 0.2,
) -> pd.DataFrame:
    """Per combination: true and predicted interaction scores and calls, whether the call is
    right and the absolute score error.

    The true score is ``true`` relative to the true ``singles``; the predicted one is ``pred``
    relative to ``pred_singles``, the model's own predictions of the single-gene responses (the
    field's definition, see the module docstring; default ``singles``). Combinations whose
    singles are missing from either are skipped.
    """
    pred_singles = singles if pred_singles is None else pred_singles
    t = interaction_table(true, singles, tolerance=tolerance)
    p = interaction_table(pred.loc[t.index], pred_singles, tolerance=tolerance)
    t = t.loc[t.index.intersection(p.index, sort=False)]
    p = p.loc[t.index]
    return pd.DataFrame(
        {
            "true_score": t["score"],
            "pred_score": p["score"],
            "true_call": t["call"],
            "pred_call": p["call"],
            "gi_correct": (t["call"] == p["call"]).astype(float),
            "gi_score_error": (t["score"] - p["score"]).abs(),
        }
    )
