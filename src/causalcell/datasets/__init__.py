"""Real data sets bundled with causalcell, in contract form (no downloads at run time)."""

from causalcell.datasets._papalexi import papalexi2021

__all__ = ["papalexi2021"]
