"""A self-contained HTML report (figures embedded as PNG), written atomically."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from causalcell._utils import write_text_atomic

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { padding: 2px 8px; text-align: right; }
th { background: #eee; } tr:nth-child(even) { background: #fafafa; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; max-width: 800px; }
.meta { color: #666; font-size: 0.85em; } .note { background: #fff8e0; padding: 0.5em 1em; }
nav a { margin-right: 1em; }
"""


def figure_to_html(fig: Figure, caption: str = "", dpi: int = 110) -> str:
    """Embed a matplotlib figure as a base64 PNG ``<figure>``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{cap}</figure>'


def table_to_html(frame: pd.DataFrame, max_rows: int = 50, float_format: str = "{:.3g}") -> str:
    """Render the first ``max_rows`` rows of a table."""
    shown = frame.head(max_rows)
    out = shown.to_html(float_format=lambda v: float_format.format(v), border=0, escape=True)
    if len(frame) > max_rows:
        out += f"<p class='meta'>first {max_rows} of {len(frame)} rows</p>"
    return out


@dataclass
class Section:
    """One titled part of a report; ``body`` is HTML."""

    title: str
    body: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower())


class Report:
    """Collect sections, then :meth:`write` one self-contained HTML file.

    Examples
    --------
    >>> rep = Report("My screen")
    >>> sec = rep.section("Effects")
    >>> rep.text(sec, "25 perturbations")
    """

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        """Start a new section."""
        self.sections.append(Section(title))
        return self.sections[-1]

    def text(self, section: Section, text: str, *, css_class: str = "") -> None:
        """Add a paragraph of plain text."""
        cls = f" class='{css_class}'" if css_class else ""
        section.body.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, section: Section, frame: pd.DataFrame, **kwargs) -> None:
        """Add a table."""
        section.body.append(table_to_html(frame, **kwargs))

    def figure(self, section: Section, fig: Figure, caption: str = "") -> None:
        """Add a figure (closed afterwards)."""
        section.body.append(figure_to_html(fig, caption))

    def to_html(self) -> str:
        """The whole report as an HTML string."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        from causalcell import __version__

        nav = "".join(f"<a href='#{s.anchor}'>{html.escape(s.title)}</a>" for s in self.sections)
        parts = [
            "<!DOCTYPE html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            f"<p class='meta'>{html.escape(self.subtitle)} causalcell {__version__}, {stamp}</p>",
            f"<nav>{nav}</nav>",
        ]
        for s in self.sections:
            parts.append(f"<h2 id='{s.anchor}'>{html.escape(s.title)}</h2>")
            parts.extend(s.body)
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, path: str | os.PathLike) -> None:
        """Write the report atomically."""
        write_text_atomic(path, self.to_html())
