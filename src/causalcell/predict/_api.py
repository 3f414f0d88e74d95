"""Front end: fit on cells or effects, predict a list of perturbations."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from causalcell._errors import InputError
from causalcell._utils import RngLike, as_rng
from causalcell.io import Cells, normalize_label
from causalcell.predict._auto import AutoPredictor
from causalcell.predict._data import Responses, parse_perturbations, targets_of
from causalcell.predict._models import MODELS


def make_model(name: str = "auto", random_state: int | None = 0, gene_sets=None):
    """A fresh predictor by name: ``auto`` or one of :data:`MODELS`; ``gene_sets`` (a GMT
    path or mapping) go to the models with a module-inductive part."""
    if name not in MODELS and name != "auto":
        raise InputError(f"unknown model {name!r}; choose 'auto' or one of {sorted(MODELS)}")
    sets = None
    if gene_sets is not None:
        from causalcell.predict._gene_sets import as_gene_sets

        sets = as_gene_sets(gene_sets)
    if name == "auto":
        return AutoPredictor(random_state=random_state, gene_sets=sets)
    if sets is not None and name in ("module", "causal"):
        from causalcell.predict._causal import CausalPropagation
        from causalcell.predict._modules import ModuleInductive

        module = ModuleInductive(gene_sets=sets)
        return module if name == "module" else CausalPropagation(inductive=module)
    return MODELS[name]()


def predict(
    data: ad.AnnData | Cells | Responses,
    perturbations: str | list[str],
    *,
    model: str = "auto",
    allow_unknown: bool = False,
    gene_sets=None,
    rng: RngLike = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit on the measured perturbations and predict the responses to ``perturbations``.

    Parameters
    ----------
    data
        Cells (effects are estimated first), an effects AnnData, or :class:`Responses`.
    perturbations
        Labels to predict (comma-separated string or list; combinations with ``+``).
    model
        ``"auto"`` (cross-validated choice), ``"causal"``, ``"module"``, ``"linear"``,
        ``"additive"``, ``"train_mean"``, ``"no_change"``.
    allow_unknown
        Predict the training mean for target genes that are neither measured nor perturbed in
        the data (default: refuse them with an error naming them).
    gene_sets
        Optional GMT path or mapping of set id -> genes (e.g. the bundled GO biological
        processes, :func:`causalcell.datasets.go_biological_process`): a target that is not a
        measured gene is predicted from the perturbed genes sharing its annotations, and genes
        in the sets count as known targets.
    rng
        Seed or Generator (cross-validation folds).

    Returns
    -------
    prediction, uncertainty
        Perturbations x genes: predicted delta vs control (log1p CP10k) and its per-gene
        standard deviation; rows named as requested (``"STAT1+JAK2"`` stays as written).
    """
    requested = parse_perturbations(perturbations)
    labels = list(requested.values())
    rng = as_rng(rng)
    responses = _responses(data, rng)
    sets = None
    if gene_sets is not None:
        from causalcell.predict._gene_sets import as_gene_sets

        sets = as_gene_sets(gene_sets)
    if not allow_unknown:
        _check_known(labels, responses, sets.genes if sets is not None else frozenset())
    seed = int(rng.integers(2**31 - 1))
    fitted = make_model(model, random_state=seed, gene_sets=sets).fit(responses)
    prediction, sd = fitted.predict(labels), fitted.uncertainty_
    names = pd.Index(list(requested), name="perturbation")
    prediction.index, sd.index = names, names
    return prediction, sd


def predictions_anndata(prediction: pd.DataFrame, uncertainty: pd.DataFrame) -> ad.AnnData:
    """Predictions as AnnData (scverse layout): ``X`` and layer ``delta`` the predicted deltas
    vs control (log1p CP10k), layer ``sd`` their per-gene standard deviations; obs
    ``n_targets`` (genes perturbed together); one row per requested perturbation."""
    values = prediction.to_numpy(float)
    obs = pd.DataFrame(
        {"n_targets": [len(targets_of(normalize_label(str(p)))) for p in prediction.index]},
        index=prediction.index.astype(str),
    )
    out = ad.AnnData(
        X=values.copy(),
        obs=obs,
        var=pd.DataFrame(index=prediction.columns.astype(str)),
        layers={
            "delta": values,
            "sd": uncertainty.loc[prediction.index, prediction.columns].to_numpy(float),
        },
    )
    out.uns["units"] = "delta vs control, log1p CP10k"
    return out


def fit_predictor(
    data: ad.AnnData | Cells | Responses,
    *,
    model: str = "auto",
    gene_sets=None,
    rng: RngLike = None,
):
    """A predictor fitted on the measured perturbations of ``data`` (cells, an effects
    AnnData or :class:`Responses`), for repeated predictions (e.g. :mod:`causalcell.design`);
    ``gene_sets`` as in :func:`predict`."""
    rng = as_rng(rng)
    responses = _responses(data, rng)
    seed = int(rng.integers(2**31 - 1))
    return make_model(model, random_state=seed, gene_sets=gene_sets).fit(responses)


def _check_known(labels: list[str], responses: Responses, annotated=frozenset()) -> None:
    known = set(responses.genes) | {g for p in responses.perturbations for g in targets_of(p)}
    known |= annotated
    unknown = sorted({g for p in labels for g in targets_of(p)} - known)
    if unknown:
        raise InputError(
            f"unknown perturbation targets {unknown[:5]}: neither measured genes nor perturbed in the "
            "data (nor in the gene sets), so nothing places them; fix the names, pass gene sets "
            "(--gene-sets) or --allow-unknown (training mean)"
        )


def _responses(data, rng) -> Responses:
    if isinstance(data, Responses):
        return data
    if isinstance(data, ad.AnnData) and "delta" in data.layers:
        return Responses.from_effects(data)
    from causalcell.effects import compute_effects, to_anndata
    from causalcell.io import validate_cells
    from causalcell.predict._modules import control_programs

    cells = data if isinstance(data, Cells) else validate_cells(data)
    result = compute_effects(cells, escape=False, rng=rng)
    responses = Responses.from_effects(to_anndata(result))
    if cells.expression == "counts":
        responses.programs, responses.variance = control_programs(cells, rng=rng)
    return responses
