"""Double machine learning: the effect of each gene's expression on a phenotype, per cell type.

The partially linear model ``Y = theta D + g(X) + e``, ``D = m(X) + v`` is estimated with the
orthogonal partialling-out score and K-fold cross-fitting (Chernozhukov et al. 2018), the
conventions of DoubleML's ``DoubleMLPLR``: pooled score (``dml2``), sandwich standard errors,
median aggregation over repeated splits. For single cells, folds are made of whole donors, a
donor-level phenotype is analysed with donors as units (pseudobulk expression, donor-mean
confounders), and inference uses the donor-clustered score test with a t reference (calibrated
with few donors); the confounder ``X`` is the cells' latent state (PCA or an autoencoder), with
each gene left out of its own adjustment. Simulated data with known causal genes come from
``causalcell.sim.simulate("population")``.

Layers: array kernels (:func:`make_folds`, :func:`ridge_fit_predict`, :func:`plr_score`), the
learner registry (:func:`list_learners`), the :class:`PLR` estimator (scikit-learn contract,
many treatments at once) and the AnnData front end :func:`dml`.

Examples
--------
>>> from causalcell import dml, sim
>>> data = sim.simulate("population", rng=0)  # doctest: +SKIP
>>> table = dml.dml(data.adata, rng=0)  # doctest: +SKIP
"""

from __future__ import annotations

from causalcell.dml._api import RESULT_COLUMNS, dml
from causalcell.dml._confounders import (
    CONFOUNDERS,
    Confounders,
    autoencoder_confounders,
    pca_confounders,
    pca_scores,
    train_autoencoder,
)
from causalcell.dml._kernels import (
    aggregate_repetitions,
    loo_ridge_alpha,
    make_folds,
    plr_score,
    plr_score_test,
    ridge_fit_predict,
    wald_summary,
)
from causalcell.dml._learners import (
    LEARNERS,
    Learner,
    RidgeLearner,
    SklearnLearner,
    get_learner,
    list_learners,
    register_learner,
)
from causalcell.dml._plr import PLR, cross_fit_residuals
from causalcell.effects._kernels import bh_fdr

__all__ = [
    "CONFOUNDERS",
    "LEARNERS",
    "PLR",
    "RESULT_COLUMNS",
    "Confounders",
    "Learner",
    "RidgeLearner",
    "SklearnLearner",
    "aggregate_repetitions",
    "autoencoder_confounders",
    "bh_fdr",
    "cross_fit_residuals",
    "dml",
    "get_learner",
    "list_learners",
    "loo_ridge_alpha",
    "make_folds",
    "pca_confounders",
    "pca_scores",
    "plr_score",
    "plr_score_test",
    "register_learner",
    "ridge_fit_predict",
    "train_autoencoder",
    "wald_summary",
]
