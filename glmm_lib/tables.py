"""Inference tables printed as R prints them: a header above the table (``anova``'s
"Models:" lines) and notes below it (emmeans' "Confidence level used: 0.95").

Two shapes share the layout:

* :class:`TableResult`, the base of the marginal-means results
  (:mod:`glmm_lib.emmeans`): an object holding its state, whose ``table``
  property is a plain DataFrame and whose ``notes`` are printed under it;
* :class:`InferenceTable`, the DataFrame :func:`glmm_lib.compare` returns, with
  its header and notes in ``attrs``.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["TableResult", "InferenceTable", "render_text", "render_html"]

_PARAGRAPH = "<p style='margin:0'><small>{}</small></p>"


def render_text(frame: pd.DataFrame, header=(), notes=()) -> str:
    text = pd.DataFrame.__repr__(frame)
    header, notes = list(header), list(notes)
    return ("\n".join(header) + "\n" if header else "") + text + \
        ("\n\n" + "\n".join(notes) if notes else "")


def render_html(frame: pd.DataFrame, header=(), notes=()) -> str | None:
    if not pd.get_option("display.notebook_repr_html"):
        return None
    if isinstance(frame.index, pd.RangeIndex):
        # row numbers say nothing, and their header cell would be empty (a screen reader
        # announces a column without a name)
        html = frame.to_html(index=False, notebook=True, border=0,
                             max_rows=pd.get_option("display.max_rows"))
    else:
        html = pd.DataFrame._repr_html_(frame)
    return "".join(_PARAGRAPH.format(h) for h in header) + html + \
        "".join(_PARAGRAPH.format(n) for n in notes)


class TableResult:
    """Prints, and displays in a notebook, as its ``table`` with its ``notes`` under it.
    Subclasses provide ``table`` (a DataFrame) and ``notes`` (lines of text)."""

    def __len__(self):
        return len(self.table)

    def __repr__(self):
        return render_text(self.table, (), self.notes)

    def _repr_html_(self):
        return render_html(self.table, (), self.notes)


class InferenceTable(pd.DataFrame):
    """A DataFrame that prints the header and notes R prints with its tables
    (``attrs["header"]``, ``attrs["notes"]``).  Any operation on it returns a
    plain DataFrame."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def __repr__(self):
        return render_text(self, self.attrs.get("header", []), self.attrs.get("notes", []))

    def _repr_html_(self):
        return render_html(self, self.attrs.get("header", []), self.attrs.get("notes", []))
