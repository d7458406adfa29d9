"""Plots of simulated residuals, after DHARMa's ``plot()``, ``plotQQunif()`` and
``plotResiduals()``.

Each function takes the result of :func:`glmm_lib.diagnostics.simulate_residuals`.
The one-panel functions draw into ``ax`` when given one (else into a new
figure) and return the Axes; :func:`plot_diagnostics` returns the two-panel
Figure.  Nothing here needs a display: the figures work under the Agg backend
and save with ``fig.savefig(path)``.

As in DHARMa, a test result drawn in the signal colour is significant at 0.05,
black is not; the words ("significant", "n.s.") and, for boxes, a hatching say
it too, so that no reader depends on telling the colours apart.

Every text (titles, axis and tick labels, test results) is sized from the
figure's width (:mod:`glmm_lib.legible_text`) and wrapped to its panel, so that
it stays at least as large as the page's body text when a page shows the
figure at a phone's width.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from . import diagnostics as dg
from .diagnostics.residuals import check_residuals
from .errors import GLMMInputError
from .legible_text import legible_fontsize

__all__ = ["plot_qq", "plot_residuals", "plot_residuals_by", "plot_diagnostics"]

# DHARMa's signal colour is pure red; this is Okabe-Ito's vermillion, darkened to
# 4.5:1 contrast on white (course/lessonkit/palette.py, TEXT["signal"], checks it).
SIGNAL = "#A04000"
_QUANTILES = (0.25, 0.5, 0.75)


def _new_axes(ax, figsize=(5.5, 5.0)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _panel_width(ax) -> float:
    """Width in inches of the figure's column that holds ``ax``."""
    spec = ax.get_subplotspec()
    columns = spec.get_gridspec().ncols if spec is not None else 1
    return ax.figure.get_figwidth() / columns


def _text_size(ax) -> float:
    """Font size of every text of ``ax``: body-text size at phone width, counted per
    column, so that a panel of a wide multi-column figure keeps a sensible size."""
    return legible_fontsize(_panel_width(ax))


def _wrap(text: str, ax, size: float) -> str:
    """``text`` with each line wrapped to the width of ``ax`` (about 80 % of its column)
    at ``size`` points (an average character is about 0.6 em wide)."""
    chars = max(16, int(0.8 * _panel_width(ax) * 72 / (0.6 * size)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def _label(ax, title, xlabel, ylabel, title_color="black"):
    """Title, axis labels and tick labels of ``ax`` at the legible size."""
    size = _text_size(ax)
    ax.set_title(_wrap(title, ax, size), fontsize=size, color=title_color)
    ax.set_xlabel(_wrap(xlabel, ax, size), fontsize=size)
    ax.set_ylabel(ylabel, fontsize=size)
    ax.tick_params(labelsize=size)


def _p_text(p):
    if not np.isfinite(p):
        return "NA"
    return "0" if p == 0 else f"{p:.5g}" if p >= 1e-5 else f"{p:.2e}"


def _legend_block(ax, label, result, x, y, ha, va):
    p = result.p_value
    significant = bool(np.isfinite(p) and p < 0.05)
    text = f"{label}: p = {_p_text(p)}\nDeviation {'significant' if significant else 'n.s.'}"
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=_text_size(ax),
            color=SIGNAL if significant else "black", zorder=5,
            bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="none", alpha=0.8))


def plot_qq(res, ax=None, tests=True):
    """Uniform QQ plot of the scaled residuals (observed against expected
    quantiles), annotated with the KS uniformity, dispersion and outlier
    tests as DHARMa's ``plotQQunif``."""
    res = check_residuals(res)
    ax = _new_axes(ax)
    r = np.sort(res.scaled_residuals)
    n = r.size
    expected = (np.arange(1, n + 1) - 0.5) / n
    ax.plot([0, 1], [0, 1], color=SIGNAL, lw=1.2, zorder=1)
    ax.scatter(expected, r, marker="^", facecolors="none", edgecolors="black",
               s=18, linewidths=0.7, alpha=max(0.25, min(1.0, 300 / n)), zorder=2)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _label(ax, "QQ plot residuals", "Expected", "Observed")
    if tests:
        _legend_block(ax, "KS test", dg.test_uniformity(res), 0.03, 0.97, "left", "top")
        _legend_block(ax, "Dispersion test", dg.test_dispersion(res), 0.5, 0.5, "center",
                      "center")
        _legend_block(ax, "Outlier test", dg.test_outliers(res), 0.97, 0.03, "right", "bottom")
    return ax


def _is_factor(values) -> bool:
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    return isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == bool or \
        not pd.api.types.is_numeric_dtype(s)


def _auto_factor(x) -> bool:
    """DHARMa's rule: a numeric predictor with one value, or with fewer than
    10 values each repeated more than 10 times on average, is drawn as a factor."""
    nuniq = np.unique(x).size
    return nuniq == 1 or (nuniq < 10 and x.size / nuniq > 10)


def plot_residuals(res, ax=None, predictor=None, rank=True, quantreg=True,
                   quantiles=_QUANTILES, as_factor=None, xlabel=None):
    """Scaled residuals against the (rank-transformed) prediction with fitted
    quantile regression curves at 0.25, 0.5 and 0.75, drawn red where
    :func:`~glmm_lib.diagnostics.test_quantiles` finds a deviation, as DHARMa's
    ``plotResiduals``.

    ``predictor`` replaces the model's prediction (values, one per
    residual).  A factor, or a numeric predictor with few distinct values
    (DHARMa's rule, or ``as_factor=True``), gives box plots per level instead
    (see :func:`plot_residuals_by`).  Outliers (outside all simulations) are
    stars, red when the outlier test is significant.
    """
    res = check_residuals(res)
    raw = res.fitted if predictor is None else predictor
    if xlabel is None:
        xlabel = "Model predictions" if predictor is None else \
            (getattr(predictor, "name", None) or "Predictor")
    if len(raw) != res.n_obs:
        raise GLMMInputError(f"predictor has {len(raw)} values for {res.n_obs} residuals")
    if _is_factor(raw):
        return plot_residuals_by(res, raw, ax=ax, xlabel=xlabel)
    x = np.asarray(raw, dtype=float)
    if rank:
        x = dg.rank_transform(x)
    if as_factor is None:
        as_factor = _auto_factor(x)
    if as_factor:
        labels = pd.Series(np.asarray(raw, dtype=float)).map(lambda v: f"{v:.3g}")
        order = [f"{v:.3g}" for v in np.unique(np.asarray(raw, dtype=float))]
        cats = pd.Categorical(labels, categories=list(dict.fromkeys(order)))
        return plot_residuals_by(res, cats, ax=ax, xlabel=xlabel)

    ax = _new_axes(ax)
    r = res.scaled_residuals
    n = r.size
    outlier_test = dg.test_outliers(res)
    is_out = outlier_test.details["outliers"]
    alpha = max(0.15, min(1.0, 1 - 3 * n / 10000))
    ax.scatter(x[~is_out], r[~is_out], marker="o", facecolors="none", edgecolors="black",
               s=14, linewidths=0.6, alpha=alpha, zorder=2)
    if is_out.any():
        ax.scatter(x[is_out], r[is_out], marker="*", s=40, zorder=3,
                   color=SIGNAL if outlier_test.significant else "black")
    for q in quantiles:
        ax.axhline(q, color="black", ls="--", lw=0.8, zorder=1)
    title = "Residual vs. predicted"
    title_color = "black"
    if quantreg:
        qt = dg.test_quantiles(res, predictor=np.asarray(raw, dtype=float), quantiles=quantiles,
                               rank=rank)
        curves = qt.details["curves"]
        for q, p in zip(quantiles, qt.details["p_values"]):
            col = SIGNAL if np.isfinite(p) and p <= 0.05 else "black"
            fitted, se = curves[f"q{q:g}"].to_numpy(), curves[f"se{q:g}"].to_numpy()
            if np.isfinite(fitted).any():
                ax.fill_between(curves["x"], fitted - 1.96 * se, fitted + 1.96 * se,
                                color=col, alpha=0.12, lw=0, zorder=1)
                ax.plot(curves["x"], fitted, color=col, lw=2, zorder=4)
        if qt.significant:
            title += ("\nQuantile deviations detected (red curves)\n"
                      f"Combined adjusted quantile test significant (p = {_p_text(qt.p_value)})")
            title_color = SIGNAL
        elif np.isfinite(qt.p_value):
            title += "\nNo significant problems detected"
        else:
            title += "\nQuantile regression failed"
    ax.set_ylim(-0.02, 1.02)
    ax.set_yticks([0, *quantiles, 1])
    if rank:
        ax.set_xlim(-0.02, 1.02)
    _label(ax, title, f"{xlabel} (rank transformed)" if rank else xlabel, "Scaled residual",
           title_color)
    return ax


def plot_residuals_by(res, column_or_values, ax=None, xlabel=None, rank=True):
    """Scaled residuals against a column of the model frame or any values
    (one per residual): box plots per level for a factor, as DHARMa's
    ``plotResiduals(form = factor)`` with its ``testCategorical`` (KS test of
    uniformity within each level, Benjamini-Hochberg adjusted: red boxes
    deviate; Levene test of equal spread between levels in the title); a
    numeric column goes to :func:`plot_residuals`.
    """
    res = check_residuals(res)
    if isinstance(column_or_values, str):
        name = column_or_values
        if res.data is None or name not in res.data.columns:
            available = "none (residuals built from bare arrays)" if res.data is None else \
                ", ".join(map(str, res.data.columns))
            raise GLMMInputError(f"column {name!r} is not in the model frame; its columns are: "
                                 f"{available}. Pass the values themselves (one per residual, "
                                 "rows as the fit used them) instead")
        values = res.data[name].reset_index(drop=True)
        xlabel = xlabel or name
    else:
        values = column_or_values
        xlabel = xlabel or getattr(values, "name", None) or "Predictor"
    if len(values) != res.n_obs:
        raise GLMMInputError(f"{len(values)} values for {res.n_obs} residuals (the values must "
                             "follow the rows the fit used, after dropping missing values)")
    if not _is_factor(values):
        x = np.asarray(values, dtype=float)
        if not _auto_factor(dg.rank_transform(x) if rank else x):
            return plot_residuals(res, ax=ax, predictor=pd.Series(x, name=xlabel), rank=rank,
                                  xlabel=xlabel)
        uniq = np.unique(x)
        values = pd.Categorical([f"{v:.3g}" for v in x],
                                categories=list(dict.fromkeys(f"{v:.3g}" for v in uniq)))

    ax = _new_axes(ax, figsize=(5.5, 6.0))
    cat = dg.test_categorical(res, values)
    levels = cat.details["levels"]
    groups = cat.details["residuals_by_level"]
    adjusted = cat.details["ks_adjusted"]
    keep = [i for i, g in enumerate(groups) if g.size]
    bp = ax.boxplot([groups[i] for i in keep], positions=np.arange(1, len(keep) + 1),
                    widths=0.6, patch_artist=True, showfliers=True,
                    flierprops=dict(marker="o", markersize=3, markerfacecolor="none"),
                    medianprops=dict(color="black", lw=1.5))
    any_bad = False
    for patch, i in zip(bp["boxes"], keep):
        bad = bool(np.isfinite(adjusted[i]) and adjusted[i] <= 0.05)
        any_bad |= bad
        patch.set_facecolor(SIGNAL if bad else "lightgrey")
        patch.set_alpha(0.6 if bad else 1.0)
        patch.set_edgecolor(SIGNAL if bad else "black")
        patch.set_hatch("///" if bad else None)
    for q in _QUANTILES:
        ax.axhline(q, color="black", ls="--", lw=0.8, zorder=0)
    ax.set_xticks(np.arange(1, len(keep) + 1))
    many = len(keep) > 8
    ax.set_xticklabels([str(levels[i]) for i in keep], rotation=90 if many else 0)
    lev_sig = cat.significant
    title = ("Within-group deviations from uniformity "
             + ("significant (red)" if any_bad else "n.s.")
             + "\nLevene test for homogeneity of variance "
             + (f"significant (p = {_p_text(cat.p_value)})" if lev_sig else "n.s."))
    ax.set_ylim(-0.02, 1.02)
    ax.set_yticks([0, *_QUANTILES, 1])
    _label(ax, title, xlabel, "Scaled residual", SIGNAL if (any_bad or lev_sig) else "black")
    return ax


def plot_diagnostics(res, title=None, figsize=(5.5, 11.0)):
    """The two-panel figure of DHARMa's ``plot()``: the uniform QQ plot with its tests
    and residuals against the rank-transformed prediction with quantile curves, one
    above the other (side by side when ``figsize`` is wider than tall: then the text
    is sized for each half). Returns the Figure."""
    import matplotlib.pyplot as plt

    res = check_residuals(res)
    side_by_side = figsize[0] > figsize[1]
    fig, (first, second) = plt.subplots(1 if side_by_side else 2, 2 if side_by_side else 1,
                                        figsize=figsize, layout="constrained")
    plot_qq(res, ax=first)
    plot_residuals(res, ax=second)
    if title is None:
        what = f"{res.family} fit, " if res.family else ""
        title = (f"Simulated (DHARMa) residuals: {what}{res.n_sim} simulations, "
                 f"random effects {'drawn anew' if res.re == 'new' else res.re}")
    size = _text_size(first)
    fig.suptitle(_wrap(title, first, size) if not side_by_side else title, fontsize=size)
    return fig
