"""Single-threaded BLAS for the predictor tests: their matrices are tiny, and threads only
oversubscribe a shared machine (a 60 x 60 SVD went from 0.6 s to 0.02 s)."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield
