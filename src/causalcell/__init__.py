"""causalcell: causal models of gene regulation from perturbation and expression data.

Submodules are imported lazily so that ``import causalcell`` stays fast (torch, scanpy
and matplotlib are only loaded by the functions that use them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from causalcell._errors import InputError

__version__ = "0.1.0"

_SUBMODULES = (
    "bulk",
    "concordance",
    "datasets",
    "design",
    "dml",
    "effects",
    "io",
    "mr",
    "network",
    "pipeline",
    "pl",
    "predict",
    "report",
    "sim",
)

__all__ = ["InputError", "__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover
    from causalcell import (  # noqa: F401
        bulk,
        concordance,
        datasets,
        design,
        dml,
        effects,
        io,
        mr,
        network,
        pipeline,
        pl,
        predict,
        report,
        sim,
    )


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"causalcell.{name}")
    raise AttributeError(f"module 'causalcell' has no attribute {name!r}")
