"""HTML reports: a list of sections, each with text, tables and figures, in one file."""

from causalcell.report._html import Report, figure_to_html, table_to_html

__all__ = ["Report", "figure_to_html", "table_to_html"]
