"""Real data sets bundled with causalcell, in contract form (no downloads at run time)."""

from causalcell.datasets._dream4 import dream4
from causalcell.datasets._papalexi import papalexi2021

__all__ = ["dream4", "papalexi2021"]
