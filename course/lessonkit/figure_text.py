"""Short descriptions of the course's figures, written from the numbers they plot.

A screen reader reads a figure's alt text instead of the picture, so each
figure of a lesson is shown with :func:`show`, which attaches a description
to the image output (``metadata["image/png"]["alt"]`` of the notebook output);
``course.sphinx_a11y`` makes it the ``alt`` attribute of the ``<img>`` on the
site, and the printed handouts inherit it from there.

The ``describe_*`` functions take the same data as the drawing functions
(``glmm_lib.plots``, ``glmm_lib.diagnostic_plots``, ``gl.plot_means``) and say
in one or two sentences what the figure shows and what stands out. They
return plain strings, so the report can use them too (an ``alt`` attribute
of its ``<img>`` tags).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def _num(value: float) -> str:
    """A number as a reader needs it: three significant digits."""
    return f"{value:.3g}"


def _levels(values) -> list:
    series = pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if (series == c).any()]
    return list(dict.fromkeys(series))


def _span(levels) -> str:
    """'T1-T4' for more than three levels, else 'T1, T2 and T3'."""
    names = [str(x) for x in levels]
    if len(names) > 3:
        return f"{names[0]}-{names[-1]}"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


_GREEK = {"alpha": "α", "beta": "β", "theta": "θ", "phi": "φ", "mu": "μ", "sigma": "σ",
          "lambda": "λ", "nu": "ν"}


def _plain(label: str) -> str:
    """A matplotlib label without its TeX markup: r"$\\sigma$ = 1" becomes "σ = 1"."""
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), m.group(1)), label)
    return re.sub(r"[${}]", "", text).replace("_", "")


def _extremes(values: pd.Series) -> str:
    """'highest T1 (4.1), lowest T4 (0.9)' of a Series indexed by level."""
    values = values.dropna()
    return (f"highest {values.idxmax()} ({_num(values.max())}), "
            f"lowest {values.idxmin()} ({_num(values.min())})")


def show(fig, description: str) -> None:
    """Display ``fig`` in the notebook with ``description`` as its alt text, then close it
    (so the inline backend does not show it a second time)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    text = " ".join(str(description).split())
    if not text:
        raise ValueError("a figure needs a description of what it shows")
    text = text[0].upper() + text[1:]
    display(fig, metadata={"image/png": {"alt": text}})
    plt.close(fig)


# --- curves and bars drawn directly with matplotlib --------------------------------------
def describe_curves(ax, kind: str = "Curves") -> str:
    """The lines and bars of ``ax`` by their legend labels: where each peaks."""
    parts = []
    for line in ax.get_lines():
        label = line.get_label()
        if label.startswith("_"):
            continue
        x, y = (np.asarray(a, float) for a in line.get_data())
        top = int(np.nanargmax(y))
        # x to a tenth of the axis' order of magnitude: a grid point at 0.0201 is "0"
        step = 10.0 ** (np.floor(np.log10(np.ptp(x) or 1.0)) - 1)
        where = _num(round(x[top] / step) * step + 0.0)
        shape = ("rises to" if top == len(y) - 1 else "falls from" if top == 0 else "peaks at")
        parts.append(f"{_plain(label)} {shape} {_num(y[top])} at {where}")
    for bars in ax.containers:
        label = bars.get_label()
        if label.startswith("_"):
            continue
        heights = np.array([b.get_height() for b in bars])
        centres = np.array([round(b.get_x() + b.get_width() / 2) for b in bars])
        top = int(np.argmax(heights))
        parts.append(f"{_plain(label)} is highest ({_num(heights[top])}) at {centres[top]}")
    title = _plain(ax.get_title()) or kind
    axes = f"{_plain(ax.get_ylabel())} against {_plain(ax.get_xlabel())}"
    return f"{title}: {axes}. " + "; ".join(parts) + "."


# --- glmm_lib.plots -------------------------------------------------------------------
def describe_rcbd(data: pd.DataFrame, response: str, treatment: str, block: str) -> str:
    """plots.plot_rcbd: the mean response of every block and treatment."""
    cells = data.groupby([block, treatment], observed=True)[response].mean().unstack(treatment)
    means = cells.mean(axis=0)
    treatments = _levels(data[treatment])
    return (f"Mean {response} of each {treatment} ({_span(treatments)}) in each of "
            f"{cells.shape[0]} {block}s, one line per {block}, with the mean over {block}s: "
            f"{_extremes(means)}.")


def describe_mean_variance(data: pd.DataFrame, response: str, groups) -> str:
    """plots.plot_mean_variance: variance against mean of every group."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    moments = data.groupby(groups, observed=True)[response].agg(["mean", "var"])
    above = int((moments["var"] > moments["mean"]).sum())
    return (f"Variance against mean of {response} in each of {len(moments)} groups "
            f"({' by '.join(groups)}), log scales, with the line variance = mean: "
            f"{above} of {len(moments)} groups lie above it.")


def describe_pooling(table: pd.DataFrame) -> str:
    """plots.plot_pooling: raw group means against the mixed model's."""
    raw, model = table["no_pooling"], table["partial_pooling"]
    overall = float(table["complete_pooling"].iloc[0])
    return (f"Mean response of each of {len(table)} {table.index.name or 'group'}s: its own mean "
            f"(from {_num(raw.min())} to {_num(raw.max())}) and the mixed model's "
            f"(from {_num(model.min())} to {_num(model.max())}), which moves toward the "
            f"overall mean {_num(overall)}.")


def describe_estimates(tables: dict, estimate: str = "estimate", truth=None) -> str:
    """plots.plot_estimates: estimates with intervals from several analyses."""
    names = list(tables)
    rows = list(next(iter(tables.values())).index)
    parts = [f"{name}: " + ", ".join(f"{r} {_num(v)}" for r, v in tables[name][estimate].items())
             for name in names]
    text = (f"Estimates with intervals for {_span(rows)} from {len(names)} analyses. "
            + "; ".join(parts) + ".")
    if truth is not None:
        text += " True values: " + ", ".join(f"{r} {_num(v)}" for r, v in pd.Series(truth).items()) + "."
    return text


def describe_group_effects(table: pd.DataFrame) -> str:
    """plots.plot_group_effects: a treatment's ratio of means in every group."""
    contrast = table.attrs.get("contrast", "ratio")
    return (f"Ratio {contrast} in each of {len(table)} {table.index.name or 'group'}s, log scale: "
            f"raw ratios from {_num(table['raw'].min())} to {_num(table['raw'].max())}, the "
            f"model's from {_num(table['model'].min())} to {_num(table['model'].max())}, "
            f"average effect {_num(float(table['average'].iloc[0]))}.")


def describe_proportions(data: pd.DataFrame, successes: str, trials: str, groups) -> str:
    """plots.plot_proportions: proportions of every unit and pooled per group."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    sums = data.groupby(groups, observed=True)[[successes, trials]].sum()
    pooled = sums[successes] / sums[trials]
    pooled.index = [" | ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in pooled.index]
    return (f"Proportion {successes}/{trials} of each of {len(data)} units, one column per "
            f"{' | '.join(groups)} combination, dot size by {trials}, with the pooled "
            f"proportion of each: {_extremes(pooled)}.")


def describe_swine_design(data: pd.DataFrame, room: str, pen: str, treatment: str, pig: str,
                          time: str) -> str:
    """plots.plot_swine_design: the nesting of rooms, pens, pigs and weighings."""
    n_rooms = data[room].nunique()
    pens = data.groupby([room, pen], observed=True).ngroups
    pigs = data.groupby([room, pen, pig], observed=True).ngroups
    return (f"Diagram of the design: {n_rooms} {room}s (blocks) holding {pens} {pen}s in all, "
            f"each {pen} given one {treatment} ({_span(_levels(data[treatment]))}), {pigs} {pig}s "
            f"in the {pen}s, each weighed {data[time].nunique()} times.")


def describe_profiles(data: pd.DataFrame, response: str, time: str, subject: str, panel: str) -> str:
    """plots.plot_profiles: one line per subject over time, a panel per group."""
    parts = []
    for level in _levels(data[panel]):
        mean = data[data[panel] == level].groupby(time)[response].mean()
        parts.append(f"{level}: mean from {_num(mean.iloc[0])} to {_num(mean.iloc[-1])}")
    return (f"{response} of each {subject} over {time}, one panel per {panel}, mean profile in "
            f"black. " + "; ".join(parts) + ".")


def describe_correlations(matrices: dict) -> str:
    """plots.plot_correlations: the correlation matrix each model implies."""
    parts = []
    for name, cov in matrices.items():
        cov = np.asarray(cov, float)
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        neighbours = np.diag(corr, 1)
        parts.append(f"{name}: neighbours {_num(neighbours.min())}"
                     + ("" if np.ptp(neighbours) < 5e-3 else f" to {_num(neighbours.max())}")
                     + f", first with last {_num(corr[0, -1])}")
    n = np.asarray(next(iter(matrices.values()))).shape[0]
    return (f"Correlation maps of one subject's {n} observations implied by {len(matrices)} models, "
            f"values written in the cells. " + "; ".join(parts) + ".")


# --- model checks and marginal means ---------------------------------------------------
def describe_residuals(res, title: str | None = None) -> str:
    """diagnostic_plots.plot_diagnostics: the QQ plot with its tests and residuals
    against predictions."""
    tests = res.tests()
    shown = {"uniformity": "uniformity (KS)", "dispersion": "dispersion", "outliers": "outliers"}
    verdicts = []
    for key, name in shown.items():
        if key in tests.index:
            p = float(tests.loc[key, "p_value"])
            verdicts.append(f"{name} p = {_num(p)}, {'significant' if p < 0.05 else 'not significant'}")
    lead = f"{title}: " if title else ""
    return (f"{lead}{res.n_obs} simulated residuals against uniform quantiles (left) and against "
            f"the model's predictions (right). Tests: " + "; ".join(verdicts) + ".")


def describe_means(emm, what: str | None = None) -> str:
    """gl.plot_means: marginal means with intervals and their letters."""
    from glmm_lib import cld
    from glmm_lib.emmeans.means import ci_names

    table = emm.table
    lo, hi = ci_names(emm.df)
    key = list(emm.specs) + list(emm.by)
    letters = cld(emm).table
    letter_of = {tuple(str(v) for v in row[key]): row[".group"].strip()
                 for _, row in letters.iterrows()}
    parts = []
    for _, row in table.iterrows():
        label = " | ".join(str(row[c]) for c in key)
        group = letter_of.get(tuple(str(row[c]) for c in key), "")
        parts.append(f"{label} {_num(row[emm.estimate])} ({_num(row[lo])} to {_num(row[hi])}) "
                     f"{group}")
    return (f"{what or emm.estimate} with {emm.level:.0%} intervals for each "
            f"{' and '.join(key)}, letters marking means not shown to differ: "
            + "; ".join(p.strip() for p in parts) + ".")
