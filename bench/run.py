"""Assemble docs/benchmarks.md from the per-benchmark sections in docs/benchmarks/.

Each benchmark script in bench/ writes its own section (``docs/benchmarks/<name>.md``) with the
machine, the command and the figures side by side with its peer; this script only concatenates
them, so re-running one benchmark never touches the others' figures.

Usage: ``python bench/run.py`` (also ``make bench``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = (
    "effects_speed",
    "sceptre",
    "escape_mixscape",
    "papalexi_biology",
    "network_dream4",
    "network_sachs",
    "network_yeast",
    "network_simulated",
    "network_scale",
    "predict_papalexi",
    "predict_simulated",
    "predict_norman_gi",
    "predict_scale",
    "mr_reference",
    "dml",
    "dml_calibration",
    "concordance",
    "bulk_recoverability",
    "design_simulated",
    "sim_speed",
    "sim_realism",
    "sim_interactions",
)

HEADER = """# Benchmarks

Every figure here was produced by a script in `bench/` on the machine it names, side by side with a
peer or baseline run in the same script, as a ratio where one applies. Sections are written by
their scripts (`docs/benchmarks/*.md`) and assembled by `python bench/run.py`.
"""


def assemble(sections_dir: Path, out: Path) -> list[str]:
    """Concatenate the section files (known ones first, in ``ORDER``); return their names."""
    files = sorted(
        sections_dir.glob("*.md"),
        key=lambda p: (p.stem not in ORDER, ORDER.index(p.stem) if p.stem in ORDER else 0, p.stem),
    )
    parts = [HEADER] + [f.read_text().strip() + "\n" for f in files]
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(out)
    return [f.stem for f in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    names = assemble(args.sections, args.out)
    print(f"{args.out}: {len(names)} sections ({', '.join(names)})")


if __name__ == "__main__":
    main()
