"""Cross-scale concordance: do single-cell DML and population MR agree on a disease's genes?

Single-cell double machine learning (:func:`causalcell.dml.dml`, per cell type) and Mendelian
randomization with eQTL instruments (:func:`causalcell.mr.mr_genes`) estimate the effect of a
gene's expression on a disease from different data and different assumptions. Where they agree,
in the right cell type, the evidence bridges the two scales. :func:`concordance` summarises the
agreement per cell type (correlation of z-scores with a permutation p-value, sign agreement on the
MR-significant genes, enrichment of MR hits among the top DML genes); :func:`gene_set_concordance`
gives the pathway view (gene sets from a GMT file, e.g. GO biological process). The figure is
:func:`causalcell.pl.concordance_scatter`.

Examples
--------
>>> from causalcell import concordance, dml, mr, sim
>>> data = sim.simulate("population", rng=0)  # doctest: +SKIP
>>> cells = dml.dml(data.adata, rng=0)  # doctest: +SKIP
>>> genes = mr.mr_genes(data.tables["sumstats.csv"], p_threshold=1e-6)  # doctest: +SKIP
>>> concordance.concordance(cells, genes, rng=0)  # doctest: +SKIP
"""

from causalcell.concordance._api import (
    SET_COLUMNS,
    SUMMARY_COLUMNS,
    concordance,
    gene_set_concordance,
    merge_effects,
    read_gmt,
)
from causalcell.concordance._kernels import (
    permutation_correlation,
    set_scores,
    sign_agreement,
    top_enrichment,
)

__all__ = [
    "SET_COLUMNS",
    "SUMMARY_COLUMNS",
    "concordance",
    "gene_set_concordance",
    "merge_effects",
    "permutation_correlation",
    "read_gmt",
    "set_scores",
    "sign_agreement",
    "top_enrichment",
]
