"""Package conventions: fast import, documented public API, keyword-only randomness."""

import importlib
import inspect
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "causalcell.io",
    "causalcell.effects",
    "causalcell.datasets",
    "causalcell.mr",
    "causalcell.dml",
    "causalcell.network",
    "causalcell.predict",
    "causalcell.sim",
    "causalcell.pl",
]


def test_import_is_light():
    code = "import sys, causalcell; print(','.join(m for m in ('torch', 'matplotlib', 'scanpy', 'anndata', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _public_functions():
    for name in PUBLIC_MODULES:
        mod = importlib.import_module(name)
        for attr in mod.__all__:
            obj = getattr(mod, attr)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


@pytest.mark.parametrize(("name", "fn"), list(_public_functions()))
def test_public_functions_are_documented(name, fn):
    doc = inspect.getdoc(fn)
    assert doc and len(doc.splitlines()[0]) > 10, name


@pytest.mark.parametrize(("name", "fn"), list(_public_functions()))
def test_randomness_is_one_keyword_argument(name, fn):
    params = inspect.signature(fn).parameters
    assert "seed" not in params and "random_seed" not in params, name
    if "rng" in params:
        assert params["rng"].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params["rng"].default is None, name


def test_every_module_has_all():
    for name in PUBLIC_MODULES:
        mod = importlib.import_module(name)
        assert sorted(mod.__all__) == sorted(set(mod.__all__)), name
        for attr in mod.__all__:
            assert hasattr(mod, attr), f"{name}.{attr}"
