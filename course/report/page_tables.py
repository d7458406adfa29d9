"""Tables in the report page: formatted as R prints them, cut to what fits a page, and the
complete table linked as a CSV file beside the report.

Every table goes through :func:`course.lessonkit.tables.format_table` (no index
column, digits per column, p-values as R's ``format.pval``). A table longer than
``limit`` rows shows its first rows and links the whole of it, written to
``tables/<name>.csv`` in the report's folder (the notebook runs in that folder).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

#: Rows of a table shown in the page; the rest is in its CSV file.
PAGE_ROWS = 30
#: Where the complete tables go, relative to the report's folder.
TABLES_DIR = "tables"


def csv_name(name: str) -> str:
    """A file name for a table: lower case, words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def write_csv(frame: pd.DataFrame, name: str) -> str:
    """Write ``frame`` (with a meaningful index as columns) to ``tables/<name>.csv``;
    returns the relative path the page links to."""
    path = Path(TABLES_DIR) / f"{csv_name(name)}.csv"
    path.parent.mkdir(exist_ok=True)
    frame.to_csv(path, index=any(n is not None for n in frame.index.names))
    return path.as_posix()


def show_table(frame: pd.DataFrame, name: str, digits=None, limit: int = PAGE_ROWS,
               always_csv: bool = False) -> None:
    """Display ``frame`` formatted; longer than ``limit`` rows: its first rows and a link to
    the complete table as CSV (``always_csv``: write and link it anyway)."""
    from IPython.display import HTML, Markdown, display

    from course.lessonkit.tables import format_table

    if isinstance(digits, dict):
        digits = {k: v for k, v in digits.items() if k in frame.columns}
    long = len(frame) > limit
    shown = frame.head(limit) if long else frame
    shown.attrs = dict(frame.attrs)
    display(HTML(format_table(shown, digits=digits).to_html()))
    if long or always_csv:
        link = write_csv(frame, name)
        lead = (f"The first {limit} of {len(frame)} rows; the complete table"
                if long else "The table")
        display(Markdown(f"{lead}: [{link}]({link}) (CSV)."))
