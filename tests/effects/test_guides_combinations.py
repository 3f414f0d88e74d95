"""Guide-level profiles in screens with designed combinations."""

from __future__ import annotations

import numpy as np

from causalcell.effects import effects
from causalcell.sim import simulate


def test_guide_profiles_exclude_combination_cells():
    # half of the cells carrying a guide of GENE024 are GENE024+GENE138 double knockouts: the
    # guide's profile must not show the partner's knockout (it would if those cells counted)
    data = simulate("small", rng=0)
    eff = effects(data.adata, escape=False, rng=0, progress=False)
    guides, guide_delta = eff.uns["guides"], eff.uns["guide_delta"]
    for pair in [p for p in eff.obs_names if "+" in p]:
        a, b = pair.split("+")
        partner = eff.var_names.get_loc(b)
        pair_delta = eff[pair].layers["delta"][0, partner]
        rows = np.flatnonzero(guides["perturbation"].to_numpy() == a)
        assert len(rows) and pair_delta < -0.5
        # every guide of A is far closer to A's own (near-zero) effect on B than to the pair's
        assert np.all(np.abs(guide_delta[rows, partner]) < 0.3 * abs(pair_delta))
        assert np.all(
            guides["n_cells"].to_numpy()[rows] <= (data.adata.obs["perturbation"] == a).sum()
        )
