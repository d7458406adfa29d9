"""Figures for the lessons that are not model diagnostics or marginal means.

Each function draws on a matplotlib Axes (a new figure when ``ax`` is None)
and returns the Axes (or the Figure, for multi-panel drawings). Where a figure
shows numbers from a fit, they come from a glmm_lib function that returns a
DataFrame (:mod:`glmm_lib.pooling`, :mod:`glmm_lib.implied_covariance`), so a
lesson can print what it draws.

- :func:`plot_rcbd`: a blocked experiment, treatment by block;
- :func:`plot_proportions`: successes out of trials, one dot per unit;
- :func:`cell_moments` and :func:`plot_mean_variance`: means against variances
  of groups of counts, with the Poisson line ``Var = mean``;
- :func:`plot_pooling`: no pooling, partial pooling and complete pooling of
  group means (``glmm_lib.pooling.pooling_table``);
- :func:`plot_group_effects`: a treatment's effect (ratio of means) in every
  group, raw and as the model predicts it (``glmm_lib.pooling.group_effects``);
- :func:`plot_estimates`: estimates with intervals from several analyses side
  by side, with the true values when known;
- :func:`plot_swine_design`: the rooms / pens / pigs / weighings diagram;
- :func:`plot_profiles`: one line per subject over time;
- :func:`plot_correlations`: covariance matrices (e.g.
  ``glmm_lib.implied_covariance.implied_covariance``) as correlation maps.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from glmm_lib.errors import GLMMInputError
from glmm_lib.legible_text import legible_fontsize

__all__ = ["plot_rcbd", "plot_proportions", "cell_moments", "plot_mean_variance", "plot_pooling",
           "plot_group_effects", "plot_estimates", "plot_swine_design", "plot_profiles",
           "plot_correlations", "plot_design_hierarchy",
           "describe_design_hierarchy"]


def _axes(ax, figsize=(7.0, 3.4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _tidy(ax):
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax


def _require(data: pd.DataFrame, *columns):
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise GLMMInputError(f"the data have no column(s) {missing}; columns: {list(data.columns)}")


def _levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if (series == c).any()]
    return list(dict.fromkeys(series))


# --- blocked experiments ------------------------------------------------------------------
def plot_rcbd(data: pd.DataFrame, response: str, treatment: str, block: str, ax=None,
              ylabel: str | None = None, log: bool = False):
    """Treatment by block: the mean response of every block and treatment as a dot,
    joined by a thin line per block, and the treatment means (over blocks) as black
    bars. Parallel lines mean blocks shift the response up or down by a constant.
    """
    _require(data, response, treatment, block)
    ax = _tidy(_axes(ax))
    treatments = _levels(data[treatment])
    blocks = _levels(data[block])
    cells = (data.groupby([block, treatment], observed=True)[response].mean()
             .unstack(treatment).reindex(index=blocks, columns=treatments))
    x = np.arange(len(treatments))
    import matplotlib as mpl

    colours = mpl.colormaps["viridis"](np.linspace(0.05, 0.9, len(blocks)))
    for (name, row), colour in zip(cells.iterrows(), colours):
        ax.plot(x, row.to_numpy(float), "-o", color=colour, lw=0.8, ms=3.5, alpha=0.8,
                label=str(name) if len(blocks) <= 6 else None)
    means = cells.mean(axis=0).to_numpy(float)
    ax.hlines(means, x - 0.25, x + 0.25, color="black", lw=2.5, label="treatment mean", zorder=3)
    ax.set_xticks(x, [str(t) for t in treatments])
    ax.set_xlim(-0.5, len(treatments) - 0.5)
    ax.set_xlabel(treatment)
    one_per_cell = bool((data.groupby([block, treatment], observed=True).size() == 1).all())
    ax.set_ylabel(ylabel or (response if one_per_cell else f"mean {response} per block"))
    if log:
        ax.set_yscale("log")
    if len(blocks) <= 6:
        ax.legend(frameon=False, fontsize="small", ncol=2, title=block, title_fontsize="small")
    else:
        ax.legend(frameon=False, fontsize="small", handles=ax.get_legend_handles_labels()[0][-1:])
        ax.set_title(f"one line per {block} ({len(blocks)} {block}s)", fontsize="medium")
    return ax


def plot_proportions(data: pd.DataFrame, successes: str, trials: str, groups, ax=None,
                     ylabel: str | None = None):
    """Proportion of successes of every unit (row), one column of dots per
    combination of ``groups``, dot area proportional to the number of trials;
    the pooled proportion of each combination (total successes over total
    trials) as a black bar."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    _require(data, successes, trials, *groups)
    ax = _tidy(_axes(ax))
    keys = data[groups].astype(str).agg(" | ".join, axis=1) if len(groups) > 1 \
        else data[groups[0]].astype(str)
    combos = data[groups].drop_duplicates()
    for g in reversed(groups):
        if isinstance(data[g].dtype, pd.CategoricalDtype):
            combos = combos.sort_values(g, key=lambda c: c.cat.codes, kind="stable")
    labels = combos.astype(str).agg(" | ".join, axis=1).tolist() if len(groups) > 1 \
        else combos[groups[0]].astype(str).tolist()
    y = data[successes].to_numpy(float) / data[trials].to_numpy(float)
    size = data[trials].to_numpy(float)
    area = 12 + 60 * size / size.max()
    rng = np.random.default_rng(0)                       # fixed jitter: same figure every run
    for i, label in enumerate(labels):
        mask = (keys == label).to_numpy()
        jitter = rng.uniform(-0.12, 0.12, mask.sum())
        ax.scatter(i + jitter, y[mask], s=area[mask], alpha=0.6, color=f"C{i}", edgecolor="0.3",
                   linewidth=0.5)
        pooled = data.loc[mask, successes].sum() / data.loc[mask, trials].sum()
        ax.hlines(pooled, i - 0.28, i + 0.28, color="black", lw=2.5)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_xlabel(" | ".join(groups))
    ax.set_ylabel(ylabel or f"{successes} / {trials}")
    ax.set_ylim(-0.03, 1.03)
    return ax


def cell_moments(data: pd.DataFrame, response: str, groups) -> pd.DataFrame:
    """Mean, variance and size of the response in every group (e.g. block x treatment)."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    _require(data, response, *groups)
    out = data.groupby(groups, observed=True)[response].agg(["mean", "var", "size"])
    return out.rename(columns={"size": "n"})


def plot_mean_variance(data: pd.DataFrame, response: str, groups, colour_by: str | None = None,
                       ax=None):
    """Variance against mean of the response in each group, on log axes, with the
    line ``Var = mean`` that Poisson counts would scatter around."""
    moments = cell_moments(data, response, groups).reset_index()
    ax = _tidy(_axes(ax, figsize=(5.0, 3.6)))
    positive = (moments["mean"] > 0) & (moments["var"] > 0)
    shown = moments[positive]
    if colour_by is not None:
        for level in _levels(shown[colour_by]):
            part = shown[shown[colour_by] == level]
            ax.plot(part["mean"], part["var"], "o", ms=4, alpha=0.8, label=str(level))
        ax.legend(frameon=False, fontsize="small", title=colour_by, title_fontsize="small")
    else:
        ax.plot(shown["mean"], shown["var"], "o", ms=4, alpha=0.8)
    lo = min(shown["mean"].min(), shown["var"].min()) * 0.8
    hi = max(shown["mean"].max(), shown["var"].max()) * 1.25
    line = np.array([lo, hi])
    ax.plot(line, line, color="black", lw=1, ls="--")
    ax.annotate("Var = mean (Poisson)", xy=(hi / 1.3, hi / 1.3), xytext=(-4, 6),
                textcoords="offset points", ha="right", fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"mean of {response} in a group")
    ax.set_ylabel(f"variance of {response}")
    return ax


# --- pooling ------------------------------------------------------------------------------
def plot_pooling(table: pd.DataFrame, reference: pd.Series | None = None, ax=None,
                 ylabel: str = "mean response", reference_label: str = "all the data"):
    """Draw ``glmm_lib.pooling.pooling_table``: an arrow per group from its raw mean (no pooling)
    to the model's estimate (partial pooling), and the overall mean (complete
    pooling) as a dashed line. ``reference`` (e.g. group means from a larger data
    set) is drawn as crosses."""
    ax = _tidy(_axes(ax))
    order = table.sort_values("no_pooling", kind="stable").index
    t = table.loc[order]
    x = np.arange(len(t))
    ax.axhline(t["complete_pooling"].iloc[0], color="grey", ls="--", lw=1,
               label="complete pooling (overall mean)")
    for xi, a, b in zip(x, t["no_pooling"], t["partial_pooling"]):
        if abs(b - a) > 1e-12:
            ax.annotate("", xy=(xi, b), xytext=(xi, a),
                        arrowprops=dict(arrowstyle="->", color="grey", lw=0.8))
    ax.plot(x, t["no_pooling"], "o", mfc="white", mec="C0", ms=6, label="no pooling (group's own mean)")
    ax.plot(x, t["partial_pooling"], "o", color="C1", ms=5, label="partial pooling (mixed model)")
    if reference is not None:
        ref = pd.Series(reference).reindex(order)
        ax.plot(x, ref.to_numpy(float), "x", color="black", ms=6, label=reference_label)
    ax.set_xticks(x, [str(i) for i in order], rotation=0 if len(order) <= 14 else 90,
                  fontsize="small")
    ax.set_xlabel(f"{t.index.name} (sorted by its own mean)")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    return ax


# --- treatment effects by group --------------------------------------------------------
def plot_group_effects(table: pd.DataFrame, band: tuple | None = None, ax=None,
                       ylabel: str | None = None):
    """Draw ``glmm_lib.pooling.group_effects``: per group the raw ratio (open circle) and the
    model's (dot), sorted by the model's, on a log axis, with the average effect
    as a line and, optionally, ``band = (low, high)`` shaded (e.g. the range in
    which the model expects 95 % of groups)."""
    ax = _tidy(_axes(ax))
    t = table.sort_values("model", kind="stable")
    x = np.arange(len(t))
    if band is not None:
        ax.axhspan(band[0], band[1], color="C1", alpha=0.12, lw=0,
                   label="where the model expects 95 % of groups")
    ax.axhline(float(t["average"].iloc[0]), color="black", lw=1.2, label="average effect")
    ax.plot(x, t["raw"], "o", mfc="white", mec="C0", ms=6, label="raw ratio of the group's means")
    ax.plot(x, t["model"], "o", color="C1", ms=5, label="model (partial pooling)")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.tick_params(axis="y", which="minor", labelsize="x-small")
    ax.set_xticks(x, [str(i) for i in t.index], fontsize="small",
                  rotation=0 if len(t) <= 14 else 90)
    ax.set_xlabel(t.index.name)
    ax.set_ylabel(ylabel or f"ratio {table.attrs.get('contrast', '')}")
    ax.legend(frameon=False, fontsize="small")
    return ax


# --- estimates from several analyses ------------------------------------------------------
def plot_estimates(tables: dict, estimate: str = "estimate", lower: str = "lower",
                   upper: str = "upper", truth: pd.Series | None = None, ax=None,
                   ylabel: str = "estimate", truth_label: str = "true value"):
    """Estimates and intervals of several analyses side by side, one group of
    points per row label (e.g. treatment). ``tables`` maps an analysis name to a
    DataFrame indexed by the row labels with the three named columns."""
    ax = _tidy(_axes(ax))
    names = list(tables)
    index = list(next(iter(tables.values())).index)
    x = np.arange(len(index))
    width = 0.7 / len(names)
    for k, name in enumerate(names):
        t = tables[name].reindex(index)
        xs = x + (k - (len(names) - 1) / 2) * width
        est = t[estimate].to_numpy(float)
        err = np.vstack([est - t[lower].to_numpy(float), t[upper].to_numpy(float) - est])
        ax.errorbar(xs, est, yerr=err, fmt="o", ms=5, capsize=3, label=name)
    if truth is not None:
        tr = pd.Series(truth).reindex(index).to_numpy(float)
        ax.hlines(tr, x - 0.45, x + 0.45, color="black", lw=1.5, label=truth_label)
    ax.set_xticks(x, [str(i) for i in index])
    ax.set_xlim(-0.6, len(index) - 0.4)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return ax


# --- hierarchy and repeated measures ------------------------------------------------------
def plot_swine_design(data: pd.DataFrame, room: str = "room", pen: str = "pen",
                      treatment: str = "trt", pig: str = "pig", time: str = "time"):
    """The swine trial as a picture: rooms (blocks) side by side, pens inside each
    room coloured by treatment, pigs as dots inside their pen; on the right, one
    pig's weighings over time. Each level is labelled with its variance component.
    Returns the Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    _require(data, room, pen, treatment, pig, time)
    rooms = _levels(data[room])
    treatments = _levels(data[treatment])
    times = _levels(data[time])
    colours = {t: plt.get_cmap("tab10")(i) for i, t in enumerate(treatments)}
    layout = (data.groupby([room, pen], observed=True)
              .agg(trt=(treatment, "first"), pigs=(pig, lambda s: list(dict.fromkeys(s)))))

    fig = plt.figure(figsize=(7.6, 3.9))
    ax = fig.add_axes([0.0, 0.0, 0.70, 0.92])
    side = fig.add_axes([0.75, 0.42, 0.23, 0.36])
    ax.set_axis_off()
    n_pens = max(len(layout.loc[r]) for r in rooms)
    room_w, room_h, gap = 1.0, 0.35 + 0.42 * n_pens, 0.18
    for i, r in enumerate(rooms):
        x0 = i * (room_w + gap)
        ax.add_patch(FancyBboxPatch((x0, 0), room_w, room_h, boxstyle="round,pad=0.02",
                                    fc="#f3f3f3", ec="0.35", lw=1.2))
        ax.text(x0 + room_w / 2, room_h + 0.08, str(r), ha="center", va="bottom",
                fontsize="small", weight="bold")
        pens = layout.loc[r]
        for k, (p, row) in enumerate(pens.iterrows()):
            y0 = room_h - 0.30 - (k + 1) * 0.42 + 0.04
            ax.add_patch(FancyBboxPatch((x0 + 0.08, y0), room_w - 0.16, 0.34,
                                        boxstyle="round,pad=0.01", fc=colours[row["trt"]],
                                        alpha=0.25, ec=colours[row["trt"]], lw=1))
            ax.text(x0 + 0.13, y0 + 0.17, str(p), va="center", fontsize=6.5, color="0.2")
            n_pigs = len(row["pigs"])
            for j in range(n_pigs):
                ax.plot(x0 + 0.45 + j * 0.42 / max(n_pigs - 1, 1) * (n_pigs > 1),
                        y0 + 0.17, "o", ms=5.5, color=colours[row["trt"]], mec="0.2", mew=0.5)
    total_w = len(rooms) * (room_w + gap) - gap
    ax.set_xlim(-0.1, total_w + 0.1)
    ax.set_ylim(-0.75, room_h + 0.45)
    handles = [plt.Line2D([], [], marker="s", ls="", ms=8, color=colours[t], alpha=0.5, label=str(t))
               for t in treatments]
    ax.legend(handles=handles, loc="lower center", ncol=len(treatments), frameon=False,
              fontsize="small", bbox_to_anchor=(0.5, 0.0), title="treatment of the pen (the experimental unit)",
              title_fontsize="small")
    ax.set_title(r"rooms = blocks ($\sigma^2_{rooms}$), pens ($\sigma^2_{pens}$), "
                 r"pigs ($\sigma^2_{pigs}$)", fontsize="medium")

    # one pig over time
    xs = np.arange(len(times))
    side.plot(xs, np.zeros(len(times)), "-", color="0.6", lw=1)
    side.plot(xs, np.zeros(len(times)), "o", color="C0", ms=7)
    for xi in xs[:-1]:
        side.annotate("", xy=(xi + 0.85, 0.35), xytext=(xi + 0.15, 0.35),
                      arrowprops=dict(arrowstyle="<->", color="C3", lw=0.8,
                                      connectionstyle="arc3,rad=-0.4"))
    side.set_xticks(xs, [str(t) for t in times], fontsize="small")
    side.set_yticks([])
    side.set_ylim(-0.4, 0.8)
    for s in ("left", "right", "top"):
        side.spines[s].set_visible(False)
    side.set_title(f"each pig, weighed {len(times)} times", fontsize="small")
    side.text(0.5, -0.28, r"residual $\sigma^2_e$; successive weighings" "\n" "of a pig are correlated",
              transform=side.transAxes, ha="center", va="top", fontsize="small", color="C3")
    return fig


def plot_profiles(data: pd.DataFrame, response: str, time: str, subject: str, panel: str,
                  ylabel: str | None = None):
    """One line per subject over ``time`` (a number), one panel per level of
    ``panel`` (e.g. treatment), with the panel's mean profile in black. Returns the
    Figure."""
    import matplotlib.pyplot as plt

    _require(data, response, time, subject, panel)
    panels = _levels(data[panel])
    fig, axes = plt.subplots(1, len(panels), figsize=(7.2, 2.8), sharey=True, squeeze=False)
    for ax, level in zip(axes[0], panels):
        part = data[data[panel] == level]
        for _, one in part.groupby(subject, observed=True):
            ax.plot(one[time], one[response], color=f"C{panels.index(level)}", lw=0.7, alpha=0.5)
        mean = part.groupby(time)[response].mean()
        ax.plot(mean.index, mean.to_numpy(), color="black", lw=2)
        ax.set_title(f"{panel} {level}", fontsize="medium")
        ax.set_xlabel(time)
        _tidy(ax)
    axes[0][0].set_ylabel(ylabel or response)
    fig.tight_layout()
    return fig


def _correlation_label(value: float) -> str:
    """A correlation in three characters (".85", "-.3", "1"), short enough to print at a
    phone-legible size inside a cell of the map."""
    if value >= 0.995:
        return "1"
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1)


def plot_correlations(matrices: dict, labels=None, vmin: float = 0.0):
    """Correlation maps of several covariance matrices (``{name: matrix}``), one to a row
    (side by side they would be too small to read on a phone), each cell labelled with its
    value, all text at least body-text size at phone width. Returns the Figure."""
    import matplotlib.pyplot as plt

    names = list(matrices)
    width = 4.6
    size = legible_fontsize(width)
    fig, axes = plt.subplots(len(names), 1, figsize=(width, 3.4 * len(names)), squeeze=False,
                             layout="constrained")
    image = None
    for ax, name in zip(axes.ravel(), names):
        cov = np.asarray(matrices[name], float)
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        image = ax.imshow(corr, vmin=vmin, vmax=1, cmap="Blues")
        m = corr.shape[0]
        for i in range(m):
            for j in range(m):
                ax.text(j, i, _correlation_label(corr[i, j]), ha="center", va="center",
                        fontsize=size, color="white" if corr[i, j] > 0.6 * (1 + vmin) else "black")
        ticks = labels if labels is not None else range(1, m + 1)
        ax.set_xticks(range(m), [str(t) for t in ticks], fontsize=size, rotation=90)
        ax.set_yticks(range(m), [str(t) for t in ticks], fontsize=size)
        ax.set_title(name, fontsize=size)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6)
    bar.set_label("correlation", fontsize=size)
    bar.ax.tick_params(labelsize=size)
    return fig


def plot_design_hierarchy(fields: int = 2, blocks: int = 2, treatments=("A", "B"),
                          plants: int = 3):
    """The levels of a field experiment as a tree: ``fields`` fields, each with ``blocks``
    blocks, each block one plot of every treatment (in a randomized order), each plot
    ``plants`` measured plants. A plot shows its treatment as a letter and a marker shape,
    so that no level or treatment is told by colour alone. Returns the Figure."""
    import matplotlib.pyplot as plt

    treatments = [str(t) for t in treatments]
    if min(fields, blocks, plants) < 1 or not treatments:
        raise GLMMInputError("a design needs at least one field, block, treatment and plant")
    width = 5.0
    size = legible_fontsize(width)
    fig, ax = plt.subplots(figsize=(width, 3.6))
    n_plots = fields * blocks * len(treatments)
    plot_x = np.linspace(0.0, 1.0, n_plots)
    spacing = plot_x[1] - plot_x[0] if n_plots > 1 else 1.0
    rows = {"field": 3.0, "block": 2.0, "plot": 1.0, "plant": 0.0}
    shapes = "osD^vP*X"
    rng = np.random.default_rng(2024)  # a fixed randomization: the drawing is the same each time
    edge = dict(color="0.45", lw=1.0, zorder=1)
    for f in range(fields):
        block_xs = []
        for b in range(blocks):
            first = (f * blocks + b) * len(treatments)
            xs = plot_x[first:first + len(treatments)]
            bx = xs.mean()
            block_xs.append(bx)
            for k, t in enumerate(rng.permutation(len(treatments))):
                ax.plot([bx, xs[k]], [rows["block"], rows["plot"]], **edge)
                ax.plot(xs[k], rows["plot"], shapes[t % len(shapes)], ms=size * 1.6, mfc="white",
                        mec=f"C{t}", mew=2, zorder=2)
                ax.text(xs[k], rows["plot"], treatments[t], ha="center", va="center",
                        fontsize=size, weight="bold", zorder=3)
                px = xs[k] + spacing * 0.3 * np.linspace(-1, 1, plants) if plants > 1 else [xs[k]]
                for x in px:
                    ax.plot([xs[k], x], [rows["plot"], rows["plant"]], **edge)
                ax.plot(px, np.full(len(px), rows["plant"]), "o", ms=size * 0.35, color="0.2",
                        zorder=2)
            ax.plot(bx, rows["block"], "s", ms=size * 1.6, mfc="0.92", mec="0.2", zorder=2)
            ax.text(bx, rows["block"], str(f * blocks + b + 1), ha="center", va="center",
                    fontsize=size, zorder=3)
        fx = float(np.mean(block_xs))
        for bx in block_xs:
            ax.plot([fx, bx], [rows["field"], rows["block"]], **edge)
        ax.text(fx, rows["field"], f"field {f + 1}", ha="center", va="center", fontsize=size,
                bbox=dict(boxstyle="round", fc="0.92", ec="0.2"), zorder=3)
    for name, y in rows.items():
        ax.text(-0.1, y, name, ha="right", va="center", fontsize=size, style="italic")
    ax.set_xlim(-0.1 - 0.03, 1.0 + spacing)
    ax.set_ylim(-0.4, 3.4)
    ax.axis("off")
    fig.subplots_adjust(left=0.2, right=0.98, top=0.98, bottom=0.02)
    return fig


def describe_design_hierarchy(fields: int = 2, blocks: int = 2, treatments=("A", "B"),
                              plants: int = 3) -> str:
    """The alt text of :func:`plot_design_hierarchy` with the same arguments."""
    treatments = [str(t) for t in treatments]
    return (f"A tree of the levels of a field experiment: {fields} fields at the top, each "
            f"split into {blocks} blocks; every block holds one plot of each treatment "
            f"({', '.join(treatments)}) in a random order, and every plot holds {plants} "
            f"measured plants at the bottom. Treatments are applied to plots; plants are "
            f"measured within them.")
