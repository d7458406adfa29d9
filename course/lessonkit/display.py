"""How the lessons show things: one figure and table style, and small display helpers.

Every lesson starts with :func:`use_course_style`, so that all pages draw
figures of the same size and look and print tables with the same precision.
"""
from __future__ import annotations

__all__ = ["use_course_style", "show_tests"]


def use_course_style(figsize=(7.0, 3.4), significant_digits: int | None = None) -> None:
    """Figures without top and right spines at 100 dpi, ``figsize`` inches by default
    (None: matplotlib's); with ``significant_digits``, tables print floats to that
    many significant digits."""
    import matplotlib.pyplot as plt

    style = {"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False}
    if figsize is not None:
        style["figure.figsize"] = figsize
    plt.rcParams.update(style)
    if significant_digits is not None:
        import pandas as pd

        pd.set_option("display.float_format", f"{{:.{int(significant_digits)}g}}".format)


def show_tests(residuals):
    """The residual tests of simulated residuals as a small table: statistic and p-value."""
    return residuals.tests()[["statistic_name", "statistic", "p_value"]].round(4)
