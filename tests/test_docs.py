"""The tutorial's Python blocks run as written, in order, in one namespace."""

import re
from pathlib import Path

import matplotlib

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_tutorial_runs(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    text = (DOCS / "tutorial.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "tutorial.md", "exec"), namespace)
    assert namespace["cal"].fraction_below_05 < 0.08
