"""Edge confidence by bootstrap over guides and cells.

Each replicate resamples, for every perturbed gene, its guides with replacement, then each
drawn guide's cells with replacement (and the control cells), recomputes the guide profiles
(difference of mean log1p CP10k to the control cells, with standard errors) and the
within-condition covariance, and reruns the network method. An edge's confidence is the fraction
of replicates in which it is selected (score at least ``threshold``) with the sign of the
full-data estimate. Batches (obs ``batch``) are removed first by centring each batch on its
control cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io import CONTROL, Cells, split_label
from causalcell.network._direct import Covariance
from causalcell.network._methods import METHODS
from causalcell.network._profiles import Profiles


def _design(cells: Cells) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Control rows and, per single perturbed gene, the rows of each of its guides."""
    obs = cells.obs
    pert = obs["perturbation"].astype(str).to_numpy()
    guide = obs["guide"].astype(str).to_numpy() if "guide" in obs else pert
    control = np.flatnonzero(pert == CONTROL)
    if control.size < 2:
        raise InputError("bootstrap needs at least two control cells (obs perturbation 'control')")
    design: dict[str, dict[str, np.ndarray]] = {}
    single = np.array([p != CONTROL and len(split_label(p)) == 1 for p in pert])
    frame = pd.DataFrame({"p": pert[single], "g": guide[single], "row": np.flatnonzero(single)})
    for (p, g), rows in frame.groupby(["p", "g"], sort=True)["row"]:
        design.setdefault(p, {})[g] = rows.to_numpy()
    if not design:
        raise InputError("bootstrap needs cells of single-gene perturbations")
    return control, design


def _draw(control, design, rng, resample: bool):
    """Conditions (name, target, cell rows) and control rows of one replicate."""
    pick = (lambda rows: rng.choice(rows, rows.size, replace=True)) if resample else (lambda r: r)
    conditions = []
    for target, guides in design.items():
        names = sorted(guides)
        chosen = rng.choice(names, len(names), replace=True) if resample else names
        for k, g in enumerate(chosen):
            conditions.append((f"{g}#{k}", target, pick(guides[g])))
    return conditions, pick(control)


def _batch_centred(X: np.ndarray, cells: Cells, control: np.ndarray) -> np.ndarray:
    """Remove batch shifts: each cell minus its batch's control mean (plus the overall one), so
    that mean differences are batch-matched and within-condition covariances batch-free."""
    if "batch" not in cells.obs.columns:
        return X
    batch = cells.obs["batch"].astype(str).to_numpy()
    overall = X[control].mean(axis=0)
    for b in np.unique(batch):
        ctrl = control[batch[control] == b]
        if ctrl.size:
            X[batch == b] -= X[ctrl].mean(axis=0) - overall
    return X


def profiles_from_cells(
    X: np.ndarray, genes: pd.Index, conditions, control_rows: np.ndarray
) -> Profiles:
    """Guide profiles (mean difference to control, with se) and the within-condition covariance.

    Standard errors use the pooled within-condition variance of each gene (homoscedastic
    one-way ANOVA, as in Dunnett's comparisons with a control).

    ``X``: cells x genes on the analysis scale; ``conditions``: ``(name, target, rows)`` with
    repeated rows allowed (bootstrap draws).
    """
    groups = [rows for _, _, rows in conditions] + [control_rows]
    sizes = np.array([len(r) for r in groups], float)
    W = sp.csr_matrix(
        (
            np.ones(int(sizes.sum())),
            (np.repeat(np.arange(len(groups)), sizes.astype(int)), np.concatenate(groups)),
        ),
        shape=(len(groups), X.shape[0]),
    )
    means = (W @ X) / sizes[:, None]
    delta = means[:-1] - means[-1]
    w = np.asarray(W.sum(axis=0)).ravel()
    C = X.T @ (X * w[:, None]) - (means * sizes[:, None]).T @ means
    df = int(sizes.sum() - len(groups))
    # pooled within-condition variance of each gene (one-way ANOVA): a guide whose few cells
    # all have zero counts of a gene has no variance of its own, and a per-group variance would
    # give it a tiny standard error and a huge, spurious z
    pooled = np.maximum(np.diag(C), 0.0) / max(df, 1)
    se = np.sqrt(pooled[None, :] * (1.0 / sizes[:-1, None] + 1.0 / sizes[-1]))
    prof = Profiles(
        delta,
        se,
        pd.Index([c[0] for c in conditions]),
        [(c[1],) for c in conditions],
        genes,
    )
    prof._covariance = Covariance(0.5 * (C + C.T) / max(df, 1), df, genes)
    return prof


#: Methods whose edge score is a posterior probability of the edge.
POSTERIOR_METHODS = ("causalcell", "zscore_eb")


def bootstrap_network(
    cells: Cells,
    *,
    method: str = "causalcell",
    n_boot: int = 20,
    threshold: float = 0.5,
    options: dict | None = None,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Direct edges with bootstrap confidence.

    An edge's stability is the share of replicates (guides resampled within each target, cells
    within each guide) whose score reaches ``threshold`` with the full-data sign. For methods
    whose score is a posterior probability (``causalcell`` on cells, ``zscore_eb``) the
    confidence is ``min(full-data posterior, stability)``: as likely as the model says, and no
    more than the resamples allow. On a calibration simulation (preset ``perturbseq``, seed 3,
    not a reported seed) edges with confidence >= 0.9 were 96% true (recall 0.089); selection
    frequency alone was not calibrated across seeds (posterior >= 0.8 in >= 90% of replicates:
    0.91 true on seed 3, 0.74 on seed 1), because a replicate's posteriors are lower and noisier
    than the full data's.

    Parameters
    ----------
    cells
        Validated single cells (counts or log expression) with obs ``perturbation`` and
        ``guide``; combinations are left out.
    method
        Registered network method (its score is thresholded in each replicate).
    n_boot
        Bootstrap replicates.
    threshold
        An edge is selected in a replicate when its score is at least this (for a posterior,
        0.5: more likely direct than not).
    options
        Method options.
    rng
        Seed or Generator.

    Returns
    -------
    DataFrame
        ``source, target, weight, score`` for every edge selected in at least one replicate or on
        the full data: ``weight`` the full-data signed effect, ``score`` the confidence (see
        above; the stability for methods without a posterior); sorted by score, then by the
        full-data score.
    """
    from causalcell.effects import log_normalize

    if method not in METHODS:
        raise InputError(f"unknown network method {method!r}; choose one of {sorted(METHODS)}")
    rng = as_rng(rng)
    control, design = _design(cells)
    block = log_normalize(cells.X, cells.expression)
    X = _batch_centred(
        np.asarray(block.toarray() if sp.issparse(block) else block, float), cells, control
    )
    genes = pd.Index(cells.var_names)
    fn = METHODS[method].fn

    def run(resample: bool):
        conditions, ctrl = _draw(control, design, rng, resample)
        return fn(profiles_from_cells(X, genes, conditions, ctrl), rng, **(options or {}))

    full = run(False)
    sign = np.sign(full.weight)
    hits = np.zeros_like(full.score)
    for _ in range(n_boot):
        rep = run(True)
        same = rep.sources.equals(full.sources) and rep.genes.equals(full.genes)
        if not same:
            raise InputError("bootstrap replicate lost a perturbed gene; too few cells per guide")
        hits += (rep.score >= threshold) & (np.sign(rep.weight) == sign)
    freq = hits / n_boot
    confidence = np.minimum(full.score, freq) if method in POSTERIOR_METHODS else freq
    keep = (freq > 0) | (full.score >= threshold)
    i, j = np.nonzero(keep)
    frame = pd.DataFrame(
        {
            "source": full.sources[i],
            "target": full.genes[j],
            "weight": full.weight[i, j],
            "score": confidence[i, j],
            "_full": full.score[i, j],
        }
    )
    frame = frame[frame["source"] != frame["target"]]
    frame = frame.sort_values(["score", "_full"], ascending=False, ignore_index=True)
    return frame.drop(columns="_full")
