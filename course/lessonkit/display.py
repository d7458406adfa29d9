"""How the lessons show things: one figure and table style, and small display helpers.

Every lesson starts with :func:`use_course_style`, so that all pages draw
figures of the same size and look, print tables with the same precision, and
show no notices meant for the person running the code (the path of a library
on the build machine is no part of a lesson).
"""
from __future__ import annotations

__all__ = ["use_course_style", "show_tests"]


def use_course_style(figsize=(7.0, 3.4), significant_digits: int | None = None) -> None:
    """The course's figure style (the colour-blind-safe palette of :mod:`.palette`, no top
    and right spines, 100 dpi), ``figsize`` inches by default (None: matplotlib's); with
    ``significant_digits``, tables print floats to that many significant digits."""
    import warnings

    import matplotlib.pyplot as plt

    from .palette import course_rcparams

    style = course_rcparams()
    if figsize is not None:
        style["figure.figsize"] = figsize
    plt.rcParams.update(style)
    # progress bars are off in the lessons; tqdm still warns, on import, that a notebook
    # without ipywidgets cannot draw them
    warnings.filterwarnings("ignore", message="IProgress not found")
    if significant_digits is not None:
        import pandas as pd

        pd.set_option("display.float_format", f"{{:.{int(significant_digits)}g}}".format)


def show_tests(residuals):
    """The residual tests of simulated residuals as a small table: statistic and p-value."""
    from .tables import format_table

    return format_table(residuals.tests()[["statistic_name", "statistic", "p_value"]],
                        digits={"statistic": 4})
