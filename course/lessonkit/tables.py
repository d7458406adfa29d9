"""Tables as the lessons (and the report) show them: every column named, no index.

pandas prints a DataFrame with its index as an unnamed first column, whose
header cell is empty: a screen reader announces a column without a name
(axe-core's ``empty-table-header``), and the row numbers 0, 1, 2 of a default
index mean nothing to a reader. :func:`format_table` turns a meaningful index
(named, or labels that are not 0..n-1) into ordinary columns, drops a default
one, and formats the cells:

- ``digits``: decimal places, one number for every float column or a
  ``{column: places}`` mapping (other float columns get 4 significant digits);
- ``pvalues``: columns printed as R's ``format.pval`` does (by default the
  columns R and glmm_lib name as p-values, :data:`P_VALUE_COLUMNS`), one value
  at a time (R formats a column to a common width; here each cell stands alone);
- missing values are blank.

The result displays as HTML in a notebook (with the table's ``attrs["header"]``
and ``attrs["notes"]`` lines, as ``glmm_lib``'s inference tables carry) and as
text anywhere else.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from glmm_lib.rstyle.numbers import format_pval
from glmm_lib.tables import TableResult

#: Column names of p-values in R's and glmm_lib's tables (``Pr(boot)``: a bootstrap test's).
P_VALUE_COLUMNS = ("p.value", "p_value", "Pr(>Chisq)", "Pr(>|z|)", "Pr(>|t|)", "Pr(>F)",
                   "Pr(boot)")

#: Tables with more columns than this get a line saying that they scroll sideways.
WIDE_TABLE_COLUMNS = 6

#: Significant digits of float columns without a ``digits`` entry.
DEFAULT_SIGNIFICANT = 4


def format_pvalue(p: float, digits: int = 3) -> str:
    """One p-value as R's ``format.pval(p, digits)`` writes it (glmm_lib's emulation, checked
    against R), blank when missing."""
    if p is None or not np.isfinite(p):
        return ""
    return format_pval([float(p)], digits)[0].strip()


def _meaningful_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return not default or any(name is not None for name in index.names)


def _cell_formatter(column: str, series: pd.Series, digits, pvalues: set, p_digits: int):
    if column in pvalues:
        return lambda v: format_pvalue(v, p_digits)
    if not pd.api.types.is_float_dtype(series):
        return lambda v: "" if pd.isna(v) else str(v)
    places = digits.get(column) if isinstance(digits, dict) else digits
    if places is None:
        return lambda v: "" if pd.isna(v) else f"{v:.{DEFAULT_SIGNIFICANT}g}"
    return lambda v: "" if pd.isna(v) else f"{v:.{places}f}"


@dataclass
class FormattedTable:
    """Cells as text, with the lines printed above and below the table."""
    cells: pd.DataFrame
    header: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    numeric: set = field(default_factory=set)

    def to_html(self) -> str:
        def row(tag, values, columns):
            out = []
            for column, value in zip(columns, values):
                align = ' class="numeric"' if column in self.numeric else ""
                out.append(f"<{tag}{align}>{html.escape(str(value))}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        columns = list(self.cells.columns)
        head = row("th", columns, columns).replace("<th", '<th scope="col"')
        body = "".join(row("td", values, columns) for values in self.cells.itertuples(index=False))
        para = '<p class="table-note"><small>{}</small></p>'
        # a wide table scrolls sideways at desktop and phone width: say so (course.css)
        hint = ('<p class="course-wide-table-hint">Wide table: scroll sideways to see every '
                'column.</p>' if len(columns) > WIDE_TABLE_COLUMNS else "")
        return (hint + "".join(para.format(html.escape(h)) for h in self.header)
                + f'<table class="dataframe course-table"><thead>{head}</thead><tbody>{body}</tbody></table>'
                + "".join(para.format(html.escape(n)) for n in self.notes))

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        text = self.cells.to_string(index=False)
        return "\n".join([*self.header, text, *([""] + self.notes if self.notes else [])])


def format_table(frame: pd.DataFrame, digits: int | dict | None = None, pvalues=None,
                 p_digits: int = 3) -> FormattedTable:
    """``frame`` ready to show: no index column, formatted cells (see the module's doc).
    A glmm_lib result shown as a table (means, contrasts, letters) keeps its notes."""
    header, notes = [], []
    if isinstance(frame, TableResult):
        frame, notes = frame.table, list(frame.notes)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"format_table needs a DataFrame or a glmm_lib table result, got "
                        f"{type(frame).__name__}")
    if pvalues is None:
        pvalues = [c for c in P_VALUE_COLUMNS if c in frame.columns]
    pvalues = {pvalues} if isinstance(pvalues, str) else set(pvalues)
    unknown = pvalues - set(map(str, frame.columns)) | (
        set(digits) - set(map(str, frame.columns)) if isinstance(digits, dict) else set())
    if unknown:
        raise KeyError(f"no column(s) {sorted(unknown)} in the table; columns: {list(frame.columns)}")
    data = pd.DataFrame(frame).reset_index() if _meaningful_index(frame) else pd.DataFrame(frame)
    data.columns = [str(c) for c in data.columns]
    cells = pd.DataFrame({
        column: data[column].map(_cell_formatter(column, data[column], digits, pvalues, p_digits))
        for column in data.columns
    })
    numeric = {c for c in data.columns if pd.api.types.is_numeric_dtype(data[c])}
    header = header + list(frame.attrs.get("header", []))
    notes = notes + list(frame.attrs.get("notes", []))
    return FormattedTable(cells, header, notes, numeric)
