"""Real data sets bundled with causalcell, in contract form (no downloads at run time)."""

from causalcell.datasets._dream4 import dream4
from causalcell.datasets._gene_ontology import go_biological_process
from causalcell.datasets._papalexi import papalexi2021
from causalcell.datasets._sachs import sachs2005, sachs_consensus
from causalcell.datasets._yeast import yeast_tf_perturbation, yeast_tf_targets

__all__ = [
    "dream4",
    "go_biological_process",
    "papalexi2021",
    "sachs2005",
    "sachs_consensus",
    "yeast_tf_perturbation",
    "yeast_tf_targets",
]
