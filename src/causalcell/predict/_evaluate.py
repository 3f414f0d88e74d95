"""Splits, evaluation against held-out perturbations, and the noise ceiling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io import Cells
from causalcell.predict._data import Responses, targets_of
from causalcell.predict._metrics import score_predictions


@dataclass
class Split:
    """Training and test perturbations; ``category`` says how much of each test one was seen."""

    train: list[str]
    test: list[str]
    category: dict[str, str]


def simulation_split(perturbations, *, test_fraction: float = 0.25, rng: RngLike = None) -> Split:
    """GEARS' ``simulation`` split: hold out a fraction of the single genes; combinations are
    test items labelled by how many of their genes are seen as singles (``combo_seen0/1/2``),
    and half of the fully seen combinations stay in training."""
    rng = as_rng(rng)
    labels = list(perturbations)
    genes = sorted({g for p in labels if len(targets_of(p)) == 1 for g in targets_of(p)})
    held = (
        set(rng.choice(genes, size=max(1, round(test_fraction * len(genes))), replace=False))
        if genes
        else set()
    )
    train, test, category = [], [], {}
    for p in labels:
        parts = targets_of(p)
        if len(parts) == 1:
            (test if parts[0] in held else train).append(p)
            if parts[0] in held:
                category[p] = "unseen_single"
            continue
        seen = sum(g not in held and g in genes for g in parts)
        if seen == len(parts) and rng.random() < 0.5:
            train.append(p)
            continue
        test.append(p)
        category[p] = f"combo_seen{seen}"
    return Split(train, test, category)


def leave_one_target_out(perturbations) -> list[Split]:
    """One split per single-gene perturbation: train on all others."""
    labels = list(perturbations)
    return [
        Split([q for q in labels if q != p], [p], {p: "unseen_single"})
        for p in labels
        if len(targets_of(p)) == 1
    ]


def evaluate_model(model, responses: Responses, split: Split) -> pd.DataFrame:
    """Fit on the split's training perturbations; score each test perturbation (all metrics)."""
    model.fit(responses.subset(split.train))
    pred = model.predict(split.test)
    true = pd.DataFrame(
        responses.subset(split.test).delta, index=split.test, columns=responses.genes
    )
    scores = score_predictions(pred, true, model.uncertainty_)
    scores["category"] = [split.category.get(p, "test") for p in split.test]
    return scores


def evaluate_splits(model, responses: Responses, splits: list[Split]) -> pd.DataFrame:
    """Fit once per split, collect every held-out prediction, then score them together (so the
    discrimination metrics compare each prediction with all held-out perturbations)."""
    preds, sds, categories = [], [], {}
    for split in splits:
        model.fit(responses.subset(split.train))
        preds.append(model.predict(split.test))
        sds.append(model.uncertainty_)
        categories.update({p: split.category.get(p, "test") for p in split.test})
    pred, sd = pd.concat(preds), pd.concat(sds)
    keep = ~pred.index.duplicated()
    pred, sd = pred[keep], sd[keep]
    true = pd.DataFrame(
        responses.subset(list(pred.index)).delta, index=pred.index, columns=responses.genes
    )
    scores = score_predictions(pred, true, sd)
    scores["category"] = [categories[p] for p in scores.index]
    return scores


def noise_ceiling(cells: Cells, *, rng: RngLike = None) -> pd.DataFrame | None:
    """How well one half of the cells predicts the other: the best any model can score.

    Cells of every perturbation and the controls are split at random in two halves; effects are
    estimated in each; the metrics of half A as a "prediction" of half B are returned per
    perturbation. None when no perturbation has cells in both halves (one profile each).
    """
    from causalcell.effects import compute_effects

    rng = as_rng(rng)
    half = rng.random(cells.n_cells) < 0.5
    results = []
    for mask in (half, ~half):
        sub = cells.subset(np.flatnonzero(mask))
        try:
            results.append(compute_effects(sub, escape=False, min_cells=2, progress=False))
        except InputError:  # too few cells per perturbation to split in halves
            return None
    a, b = results
    common = a.perturbations.intersection(b.perturbations)
    da = pd.DataFrame(a.delta, index=a.perturbations, columns=a.genes).loc[common]
    db = pd.DataFrame(b.delta, index=b.perturbations, columns=b.genes).loc[common]
    return score_predictions(da.fillna(0.0), db.fillna(0.0))
