"""Alt text of a plot of estimated marginal means (``gl.plot_means``), written from the
table of means alone: the levels, the lowest and highest mean and the interval width.
(:func:`course.lessonkit.figure_text.describe_means` also reads the letters and private
parts of ``glmm_lib.emmeans``; this one needs only ``emm.table``.)"""
from __future__ import annotations

__all__ = ["describe_means_table"]


def describe_means_table(emm, what: str = "mean") -> str:
    """One sentence on the means of ``emm``: how many, the lowest and the highest (with
    their levels) and the range of the interval half-widths."""
    table = emm.table
    estimate = emm.estimate
    lower = next(c for c in table.columns if c.endswith("LCL") or c == "lower.CL")
    upper = next(c for c in table.columns if c.endswith("UCL") or c == "upper.CL")
    factors = [c for c in table.columns if c in (*emm.specs, *emm.by)]
    label = table[factors].astype(str).agg(" ".join, axis=1)
    low, high = table[estimate].idxmin(), table[estimate].idxmax()
    half = (table[upper] - table[lower]) / 2
    return (f"{len(table)} estimated {what}s by {' and '.join(factors)}, with 95 % intervals: "
            f"lowest {label[low]} at {table.loc[low, estimate]:.3g}, highest {label[high]} "
            f"at {table.loc[high, estimate]:.3g}; interval half-widths from {half.min():.3g} "
            f"to {half.max():.3g}.")
