"""The observations of a design with subsampling, unit by unit: the picture that shows
which rows are replicates of a treatment (the experimental units) and which are
repeated looks at one unit (the observational units)."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_units", "describe_units"]


def plot_units(data: pd.DataFrame, response: str, unit: str, treatment: str, ax=None,
               ylabel: str | None = None):
    """One column of dots per experimental unit (its observations), units grouped and
    coloured by treatment, with each unit's mean as a short bar. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.4))
    treatments = list(pd.Series(data[treatment]).astype("category").cat.categories)
    x, ticks, labels = 0, [], []
    for k, level in enumerate(treatments):
        part = data[data[treatment] == level]
        units = [u for u in pd.Series(part[unit]).astype("category").cat.categories
                 if (part[unit] == u).any()]
        for j, u in enumerate(units):
            values = part.loc[part[unit] == u, response].to_numpy(float)
            ax.plot(np.full(len(values), x), values, "o", ms=4, mfc="white", mec=f"C{k}",
                    label=str(level) if j == 0 else None)
            ax.hlines(values.mean(), x - 0.3, x + 0.3, color=f"C{k}", lw=2)
            ticks.append(x)
            labels.append(str(u))
            x += 1
        x += 1
    ax.set_xticks(ticks, labels, rotation=90, fontsize="small")
    ax.set_xlabel(unit)
    ax.set_ylabel(ylabel or response)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(title=treatment, frameon=False, fontsize="small", ncol=len(treatments))
    return ax


def describe_units(data: pd.DataFrame, response: str, unit: str, treatment: str) -> str:
    """Alt text of :func:`plot_units`, from the data it draws."""
    means = data.groupby(unit, observed=True)[response].mean()
    per_unit = data.groupby(unit, observed=True).size()
    by_trt = data.groupby(treatment, observed=True)[response].mean()
    return (f"{response} of {len(data)} observations on {len(means)} {unit}s "
            f"({int(per_unit.min())} to {int(per_unit.max())} per {unit}), grouped by "
            f"{treatment}; {unit} means range from {means.min():.3g} to {means.max():.3g}; "
            f"{treatment} means: " + ", ".join(f"{k} {v:.3g}" for k, v in by_trt.items()) + ".")
