"""Network metrics against a known truth (simulator, gold standards)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from causalcell._errors import InputError


def truth_frame(
    truth: pd.DataFrame | np.ndarray, genes: list[str] | pd.Index | None = None
) -> pd.DataFrame:
    """True edges as ``source, target, sign``, from an edge table or a matrix ``G[i, j]`` (i -> j)."""
    if isinstance(truth, pd.DataFrame):
        missing = {"source", "target"} - set(truth.columns)
        if missing:
            raise InputError(
                f"truth table needs columns source, target (missing {sorted(missing)})"
            )
        out = truth[["source", "target"]].astype(str).copy()
        out["sign"] = np.sign(truth["sign"]) if "sign" in truth else np.sign(truth.get("weight", 0))
        return out.reset_index(drop=True)
    G = np.asarray(truth)
    if genes is None or len(genes) != G.shape[0]:
        raise InputError("a truth matrix needs the gene names of its rows and columns")
    i, j = np.nonzero((G != 0) & ~np.eye(len(G), dtype=bool))
    names = np.asarray(genes, dtype=str)
    return pd.DataFrame({"source": names[i], "target": names[j], "sign": np.sign(G[i, j])})


def _labels(
    edges: pd.DataFrame, truth: pd.DataFrame, universe: pd.MultiIndex
) -> tuple[np.ndarray, np.ndarray]:
    """True labels and scores over every candidate pair of ``universe`` (unscored pairs get 0)."""
    true = pd.MultiIndex.from_frame(truth[["source", "target"]])
    scored = pd.Series(
        edges["score"].to_numpy(), index=pd.MultiIndex.from_frame(edges[["source", "target"]])
    )
    scored = scored[~scored.index.duplicated()]
    scores = scored.reindex(universe).fillna(0.0).to_numpy()
    labels = universe.isin(true)
    return labels, scores


def candidate_pairs(sources, targets) -> pd.MultiIndex:
    """All ordered pairs ``source -> target`` with ``source != target``."""
    pairs = pd.MultiIndex.from_product(
        [pd.Index(sources, name="source"), pd.Index(targets, name="target")]
    )
    return pairs[pairs.get_level_values(0) != pairs.get_level_values(1)]


def evaluate(
    edges: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    sources=None,
    targets=None,
    k: tuple[int, ...] = (10, 100),
) -> dict[str, float]:
    """AUPR, AUROC, precision@k, SHD, sign accuracy and false omission rate of an edge list.

    Parameters
    ----------
    edges
        ``source, target, weight, score`` (higher score = surer).
    truth
        True edges ``source, target[, sign]`` (see :func:`truth_frame`).
    sources, targets
        The candidate regulators and targets (default: every gene named in ``edges`` or
        ``truth``); pairs outside are ignored, unscored pairs count as score 0.
    k
        Cut-offs for precision@k.

    Returns
    -------
    dict
        ``aupr``, ``auroc``, ``random_aupr`` (the positive rate), ``precision@k``; at the cut-off
        ``n_true`` (as many predicted edges as true ones): ``shd`` (missing + extra edges),
        ``sign_accuracy`` (true positives with the right sign), ``false_omission_rate``
        (true edges among the pairs not predicted).
    """
    genes = pd.Index(
        sorted(
            set(edges["source"])
            | set(edges["target"])
            | set(truth["source"])
            | set(truth["target"])
        )
    )
    sources = genes if sources is None else pd.Index(sources)
    targets = genes if targets is None else pd.Index(targets)
    universe = candidate_pairs(sources, targets)
    truth = truth[truth["source"].isin(sources) & truth["target"].isin(targets)]
    labels, scores = _labels(edges, truth, universe)
    if labels.sum() == 0 or labels.all():
        raise InputError(
            "truth has no edges (or only edges) among the candidate pairs; nothing to score"
        )
    order = np.argsort(-scores, kind="stable")
    out = {
        "aupr": float(average_precision_score(labels, scores)),
        "auroc": float(roc_auc_score(labels, scores)),
        "random_aupr": float(labels.mean()),
    }
    for kk in k:
        out[f"precision@{kk}"] = float(labels[order[:kk]].mean())
    n_true = int(labels.sum())
    predicted = np.zeros(len(labels), bool)
    predicted[order[:n_true]] = scores[order[:n_true]] > 0
    out["shd"] = int((labels & ~predicted).sum() + (~labels & predicted).sum())
    out["false_omission_rate"] = float(labels[~predicted].mean())
    out.update(_sign_accuracy(edges, truth))
    return out


def _sign_accuracy(edges: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    if "sign" not in truth or (truth["sign"] == 0).all():
        return {"sign_accuracy": float("nan")}
    top = edges.nlargest(len(truth), "score").merge(truth, on=["source", "target"])
    top = top[top["sign"] != 0]
    if top.empty:
        return {"sign_accuracy": float("nan")}
    return {"sign_accuracy": float((np.sign(top["weight"]) == top["sign"]).mean())}


def causalbench_statistical(
    edges: pd.DataFrame,
    cells,
    *,
    n_edges: int = 1000,
    n_negative: int = 1000,
    alpha: float = 0.05,
    rng=None,
) -> dict[str, float]:
    """CausalBench's statistical evaluation (Chevalley et al. 2023) on interventional cells.

    For each of the top ``n_edges`` predicted edges ``A -> B`` whose source was perturbed, B's
    expression (log1p CP10k) in cells where A is perturbed is compared with control cells by a
    Mann-Whitney U test and by the Wasserstein distance. A real edge moves its target. The false
    omission rate is the share of significant shifts among ``n_negative`` random pairs that the
    method did not predict (the regulation it missed).

    Returns
    -------
    dict
        ``mean_wasserstein``, ``fraction_significant`` (predicted edges), ``false_omission_rate``,
        ``n_tested``.
    """
    import functools

    import scipy.sparse as sp
    from scipy.stats import mannwhitneyu, wasserstein_distance

    from causalcell._utils import as_rng
    from causalcell.effects import log_normalize
    from causalcell.io import CONTROL

    rng = as_rng(rng)
    pert = cells.obs["perturbation"].astype(str).to_numpy()
    genes = {g: i for i, g in enumerate(cells.var_names)}
    perturbed = sorted(set(pert) - {CONTROL})

    @functools.cache
    def group(label: str):
        """log1p CP10k of one group's cells, normalised once (CSC for column access)."""
        rows = np.flatnonzero(pert == label)
        block = log_normalize(cells.X[rows], cells.expression)
        return (sp.csc_matrix(block) if sp.issparse(block) else np.asarray(block)), len(rows)

    def column(label: str, gene: str) -> np.ndarray:
        col = group(label)[0][:, genes[gene]]
        return np.asarray(col.toarray() if sp.issparse(col) else col).ravel()

    def test(pairs) -> tuple[list[float], list[float]]:
        dists, pvals = [], []
        for a, b in pairs:
            if group(a)[1] < 3 or b not in genes:
                continue
            x, y = column(a, b), column(CONTROL, b)
            dists.append(wasserstein_distance(x, y))
            pvals.append(mannwhitneyu(x, y).pvalue if np.ptp(np.r_[x, y]) > 0 else 1.0)
        return dists, pvals

    top = edges[edges["source"].isin(perturbed)].head(n_edges)
    dists, pvals = test(zip(top["source"], top["target"], strict=True))
    predicted = set(zip(edges["source"], edges["target"], strict=True))
    candidates = [(a, b) for a in perturbed for b in genes if a != b and (a, b) not in predicted]
    picks = (
        rng.choice(len(candidates), size=min(n_negative, len(candidates)), replace=False)
        if candidates
        else []
    )
    _, neg_p = test([candidates[i] for i in picks])
    return {
        "mean_wasserstein": float(np.mean(dists)) if dists else float("nan"),
        "fraction_significant": float(np.mean(np.array(pvals) < alpha)) if pvals else float("nan"),
        "false_omission_rate": float(np.mean(np.array(neg_p) < alpha)) if neg_p else float("nan"),
        "n_tested": len(pvals),
    }
