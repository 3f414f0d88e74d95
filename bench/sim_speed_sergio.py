"""Run SERGIO (``sergio-rs`` from PyPI) on an edge list and print its timing as JSON.

Runs inside its own virtual environment (bench/_work/sergio-venv, created by
``bench/sim_speed.py --setup-sergio``); it imports only numpy and sergio_rs, never causalcell.
Usage: ``sergio-venv/bin/python bench/sim_speed_sergio.py EDGES.csv --cells N --seed S``.
The edge list has columns ``source,target,weight`` and must be acyclic (SERGIO's requirement).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time

import sergio_rs


def build_grn(path: str, decay: float = 0.8) -> tuple[sergio_rs.GRN, int]:
    """SERGIO network: one Hill interaction (n = 2) per edge, strength ``k`` from the weight."""
    grn = sergio_rs.GRN()
    genes: dict[str, sergio_rs.Gene] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            src, tgt = (
                genes.setdefault(n, sergio_rs.Gene(name=n, decay=decay))
                for n in (row["source"], row["target"])
            )
            grn.add_interaction(src, tgt, k=float(row["k"]), h=None, n=2)
    grn.set_mrs()
    return grn, len(genes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("edges")
    parser.add_argument("--cells", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    grn, n_genes = build_grn(args.edges)
    # SERGIO's own example settings (README of sergio-rs): one cell type, dt 0.01
    sim = sergio_rs.Sim(
        grn=grn,
        num_cells=args.cells,
        safety_iter=150,
        scale_iter=10,
        dt=0.01,
        noise_s=1,
        seed=args.seed,
    )
    profile = sergio_rs.MrProfile.from_random(
        grn=grn, num_cell_types=1, low_range=(1, 2.5), high_range=(3.5, 5), seed=args.seed
    )
    expr = sim.simulate(profile).drop("Genes").to_numpy()
    sim_s = time.perf_counter() - start
    counts = sergio_rs.add_technical_noise(expr, sergio_rs.NoiseSetting.DS6, seed=args.seed)
    wall = time.perf_counter() - start
    print(
        json.dumps(
            {
                "genes": int(expr.shape[0]),
                "genes_in_grn": n_genes,
                "cells": int(expr.shape[1]),
                "simulate_s": sim_s,
                "wall_s": wall,
                "cpu_s": time.process_time() - cpu,
                "nonzero_per_cell": float((counts > 0).sum() / counts.shape[1]),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
