"""The effects engine on a Dask array: every chunk a task, the same estimates."""

import numpy as np
import pytest

from causalcell.effects import effects

da = pytest.importorskip("dask.array")


def test_dask_chunks_give_the_in_memory_result(screen):
    import anndata as ad

    adata, _ = screen
    mem = effects(adata, rng=0, progress=False)
    lazy = ad.AnnData(
        X=da.from_array(adata.X, chunks=(211, 13), asarray=False),  # ragged rows, split genes
        obs=adata.obs,
        var=adata.var,
    )
    out = effects(lazy, rng=0, progress=False)
    for layer in mem.layers:
        np.testing.assert_allclose(out.layers[layer], mem.layers[layer], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.uns["cells"]["escape_prob"], mem.uns["cells"]["escape_prob"])
    np.testing.assert_allclose(out.obs["knockdown"], mem.obs["knockdown"])


def test_bad_counts_in_a_dask_chunk_are_reported(screen):
    import anndata as ad

    from causalcell import InputError

    adata, _ = screen
    X = adata.X.copy().astype(np.float64)
    X[500, 3] = 0.5
    lazy = ad.AnnData(X=da.from_array(X, chunks=(200, -1), asarray=False), obs=adata.obs)
    with pytest.raises(InputError, match="non-integer"):
        effects(lazy, rng=0, progress=False)
