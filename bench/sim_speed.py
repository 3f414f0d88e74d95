"""Time the simulator: 100,000 cells x 1,000 genes at steady state (target: <= 60 s on 2 cores).

Usage: ``PYTHONPATH=src python bench/sim_speed.py [--cells N] [--genes G]``. Times the cell
simulation (design, steady states, counts); the truth is computed separately and timed too.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from causalcell.sim import simulate
from causalcell.sim._cells import design_cells, expected_deltas, sample_counts_for
from causalcell.sim._presets import get_preset
from causalcell.sim._world import draw_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=1000)
    parser.add_argument("--preset", action="store_true", help="also time the perturbseq preset")
    args = parser.parse_args()
    n_single = 500
    per = (args.cells - 5000) // n_single
    config = get_preset("perturbseq").override(
        n_genes=args.genes, n_single=n_single, n_combo=0, cells_per_perturbation=per, n_control=5000
    )
    rng = np.random.default_rng(0)
    start, cpu = time.perf_counter(), time.process_time()
    world = draw_world(config, rng=rng)
    design = design_cells(world, rng)
    counts = sample_counts_for(world, design, rng)
    cells_s, cells_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    expected_deltas(world, sorted(set(design.label) - {"control"}), rng)
    truth_s = time.perf_counter() - start
    print(
        f"cells: {counts.shape[0]:,} x {counts.shape[1]:,} in {cells_s:.1f} s wall, "
        f"{cells_cpu:.1f} s CPU ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}) "
        f"({counts.nnz / counts.shape[0]:.0f} nonzero/cell); truth for {n_single} "
        f"perturbations in {truth_s:.1f} s"
    )
    if args.preset:
        start = time.perf_counter()
        simulate("perturbseq", rng=0)
        print(f"preset perturbseq end to end: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
