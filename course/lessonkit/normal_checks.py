"""Residual checks of a linear (mixed) model with a normal response, as the Day 1 and
Day 2 lessons draw them: residuals against fitted values (equal variance, no trend)
and a normal quantile plot (the normal shape), with the description of the figure.

The residuals are the conditional ones, ``y`` minus the fitted value with the
predicted random effects included, divided by the estimated residual SD: what is left
of each observation once the model has explained what it can.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["residual_frame", "plot_normal_residuals", "describe_normal_residuals",
           "plot_effect_quantiles", "describe_effect_quantiles"]


def residual_frame(fit) -> pd.DataFrame:
    """Fitted values, residuals and standardized residuals of a gaussian fit, one row per
    observation, with the normal quantile each standardized residual is plotted against."""
    fitted = np.asarray(fit.fittedvalues, dtype=float)
    residual = np.asarray(fit.model.y, dtype=float) - fitted
    standardized = residual / float(fit.sigma)
    order = np.argsort(np.argsort(standardized))
    quantile = stats.norm.ppf((order + 0.5) / len(standardized))
    return pd.DataFrame({"fitted": fitted, "residual": residual,
                         "standardized": standardized, "normal_quantile": quantile})


def plot_normal_residuals(fit, response_label: str = "fitted value"):
    """Two panels: standardized residuals against fitted values, and their normal
    quantile plot with the identity line. Returns the Figure."""
    import matplotlib.pyplot as plt

    frame = residual_frame(fit)
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.0, 3.2))
    left.axhline(0.0, color="grey", lw=1)
    for bound in (-2, 2):
        left.axhline(bound, color="grey", lw=0.8, ls=":")
    left.plot(frame["fitted"], frame["standardized"], "o", ms=4, mfc="white", mec="C0")
    left.set_xlabel(response_label)
    left.set_ylabel("standardized residual")
    left.set_title("residuals against fitted", fontsize="medium")
    span = [float(frame["normal_quantile"].min()), float(frame["normal_quantile"].max())]
    right.plot(span, span, color="grey", lw=1)
    right.plot(frame["normal_quantile"], frame["standardized"], "o", ms=4, mfc="white", mec="C0")
    right.set_xlabel("normal quantile")
    right.set_ylabel("standardized residual")
    right.set_title("normal quantile plot", fontsize="medium")
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def describe_normal_residuals(fit) -> str:
    """Alt text of :func:`plot_normal_residuals`, from the residuals it draws."""
    frame = residual_frame(fit)
    z = frame["standardized"]
    beyond = int((z.abs() > 2).sum())
    return (f"Two panels for {len(frame)} observations. Left: standardized residuals "
            f"(from {z.min():.2f} to {z.max():.2f}) against fitted values "
            f"(from {frame['fitted'].min():.3g} to {frame['fitted'].max():.3g}); "
            f"{beyond} lie beyond plus or minus 2. Right: the same residuals against "
            "normal quantiles, with the line on which normal residuals would lie.")


def plot_effect_quantiles(effects: pd.Series, label: str = "predicted effect", ax=None):
    """Normal quantile plot of predicted random effects (BLUPs), with the line through
    their quartiles. Returns the Axes."""
    import matplotlib.pyplot as plt

    values = np.sort(np.asarray(effects, dtype=float))
    quantile = stats.norm.ppf((np.arange(len(values)) + 0.5) / len(values))
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.4))
    q1, q3 = np.quantile(values, [0.25, 0.75])
    slope = (q3 - q1) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    span = np.array([quantile[0], quantile[-1]])
    ax.plot(span, np.median(values) + slope * span, color="grey", lw=1)
    ax.plot(quantile, values, "o", ms=4, mfc="white", mec="C0")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel(label)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def describe_effect_quantiles(effects: pd.Series, label: str = "predicted effect") -> str:
    """Alt text of :func:`plot_effect_quantiles`."""
    values = np.asarray(effects, dtype=float)
    return (f"Normal quantile plot of {len(values)} {label}s, from {values.min():.3g} to "
            f"{values.max():.3g}, with the line through their quartiles.")
