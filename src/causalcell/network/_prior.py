"""Prior networks (ChIP, DoRothEA, YEASTRACT) as a soft prior on edge scores, never as truth.

A prior edge's evidence is multiplied by ``exp(strength * w)``, with ``w`` in [0, 1] the prior's
confidence in the edge: on the log scale the prior adds ``strength * w`` to the log evidence, as
a log prior odds adds to a log likelihood ratio. An edge without evidence in the data (score 0)
stays at 0 whatever the prior says, and edges absent from the prior are left as they are, so a
wrong prior can only reorder edges that the data already support.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from causalcell._errors import InputError
from causalcell.network._methods import EdgeScores

# DoRothEA confidence levels (A: curated and ChIP and motif, ..., E: one weak line of evidence)
CONFIDENCE = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2}


def read_prior(prior: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A prior network as ``source, target, prior`` (confidence in [0, 1]).

    Parameters
    ----------
    prior
        A CSV/TSV path or a DataFrame with columns ``source, target`` (or DoRothEA's ``tf,
        target``) and optionally ``prior`` or ``weight`` (|value| clipped to [0, 1]) or
        ``confidence`` (DoRothEA's A-E: 1, 0.8, 0.6, 0.4, 0.2). Without any, every edge gets 1.

    Returns
    -------
    DataFrame
        One row per distinct ``(source, target)``, the highest confidence kept.
    """
    name = "prior"
    if not isinstance(prior, pd.DataFrame):
        path = Path(prior)
        name = str(path)
        if not path.is_file():
            raise InputError(f"{path}: prior network file not found")
        sep = "\t" if ".tsv" in path.suffixes or ".txt" in path.suffixes else ","
        prior = pd.read_csv(path, sep=sep)
    frame = prior.rename(columns={"tf": "source"})
    if not {"source", "target"} <= set(frame.columns):
        raise InputError(
            f"{name}: a prior network needs columns source,target (or tf,target); "
            f"got {list(frame.columns)}"
        )
    if "prior" in frame:
        w = pd.to_numeric(frame["prior"], errors="coerce").abs()
    elif "confidence" in frame:
        w = frame["confidence"].astype(str).str.upper().map(CONFIDENCE)
    elif "weight" in frame:
        w = pd.to_numeric(frame["weight"], errors="coerce").abs()
    else:
        w = pd.Series(1.0, index=frame.index)
    if w.isna().any():
        raise InputError(f"{name}: {int(w.isna().sum())} prior confidences are not numbers or A-E")
    out = pd.DataFrame(
        {
            "source": frame["source"].astype(str),
            "target": frame["target"].astype(str),
            "prior": w.clip(0.0, 1.0).to_numpy(float),
        }
    )
    return out.groupby(["source", "target"], as_index=False, sort=True)["prior"].max()


def prior_matrix(prior: pd.DataFrame, sources: pd.Index, genes: pd.Index) -> np.ndarray:
    """The prior confidences on the ``sources x genes`` grid (0 where the prior is silent)."""
    out = np.zeros((len(sources), len(genes)))
    i = sources.get_indexer(prior["source"])
    j = genes.get_indexer(prior["target"])
    keep = (i >= 0) & (j >= 0)
    out[i[keep], j[keep]] = prior["prior"].to_numpy()[keep]
    return out


def apply_prior(scores: EdgeScores, prior: pd.DataFrame, strength: float = 1.0) -> EdgeScores:
    """Reweight ``scores`` by the prior: ``score * exp(strength * prior)``.

    ``strength`` is the log factor given to an edge of prior confidence 1 (1.0: its evidence
    counts e = 2.7 times; 0: the prior is ignored).
    """
    if not np.isfinite(strength) or strength < 0:
        raise InputError(f"prior strength must be a finite number >= 0, got {strength}")
    w = prior_matrix(prior, scores.sources, scores.genes)
    return EdgeScores(
        scores.score * np.exp(strength * w), scores.weight, scores.sources, scores.genes
    )
