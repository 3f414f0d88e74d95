"""Human GO biological-process gene sets, bundled (prior knowledge for unseen targets)."""

from __future__ import annotations

from importlib import resources

_FILE = "go_bp_propagated_size5to500.gmt.gz"


def go_biological_process() -> dict[str, tuple[str, frozenset[str]]]:
    """Human GO biological-process gene sets: ``{GO id: (term name, HGNC symbols)}``.

    The 9,006 terms with 5-500 genes after propagating annotations to ancestor terms
    (org.Hs.eg.db / GO.db 3.16, GO 2022-07-01; CC BY 4.0). Pass them as ``gene_sets`` to
    :func:`causalcell.predict.predict` (a target that is not a measured gene borrows from the
    perturbed genes sharing its processes, as GEARS' GO graph does) or to
    :func:`causalcell.gene_set_concordance`.

    Returns
    -------
    dict
        Term id -> (name, genes).
    """
    from causalcell.concordance._api import read_gmt

    with resources.as_file(resources.files("causalcell.datasets") / "data" / _FILE) as path:
        return read_gmt(path)
