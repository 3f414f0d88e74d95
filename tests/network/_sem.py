"""Linear cyclic structural equation cells with known direct effects (shared by network tests)."""

import numpy as np
import pandas as pd

from causalcell.io import Cells


def sem_cells(
    G: np.ndarray,
    perturbed: list[int],
    *,
    n_cells: int = 150,
    n_control: int = 400,
    shift: float = -1.5,
    noise: float = 0.3,
    guides: int = 2,
    seed: int = 0,
) -> Cells:
    """Cells of ``x = b (I - G)^-1`` with ``b`` Gaussian (sd ``noise``) plus a knock-down shift.

    Each perturbed gene has ``guides`` guides of efficacy 1, 0.5, ...; expression is on the
    analysis scale (``expression='log'``).
    """
    rng = np.random.default_rng(seed)
    p = len(G)
    T = np.linalg.inv(np.eye(p) - G)
    genes = [f"g{i}" for i in range(p)]
    rows, pert, guide = [], [], []
    b = rng.normal(0, noise, (n_control, p))
    rows.append(b @ T)
    pert += ["control"] * n_control
    guide += ["NT"] * n_control
    for i in perturbed:
        for k in range(guides):
            b = rng.normal(0, noise, (n_cells, p))
            b[:, i] += shift / (k + 1)
            rows.append(b @ T)
            pert += [genes[i]] * n_cells
            guide += [f"{genes[i]}_g{k}"] * n_cells
    obs = pd.DataFrame({"perturbation": pert, "guide": guide})
    obs.index = [f"c{i}" for i in range(len(obs))]
    return Cells(np.vstack(rows) + 5.0, obs, pd.Index(genes), "log")


def chain_network(p: int = 8) -> np.ndarray:
    """a -> b -> c chains with a feedback loop; every regulator is perturbed in the tests."""
    G = np.zeros((p, p))
    G[0, 1], G[1, 2], G[2, 3] = 0.8, 0.7, -0.7
    G[4, 5], G[5, 4] = 0.6, -0.4
    G[4, 6] = 0.5
    return G
