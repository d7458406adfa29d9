"""The report's data section: rows read, used and dropped, counts per level, and the
response by treatment."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import fixed_factors


@dataclass
class DataOverview:
    n_read: int
    n_used: int
    dropped: pd.DataFrame           # one row per dropped row: its row number and the reason
    columns: list
    grouping: pd.DataFrame | None = None

    @property
    def n_dropped(self):
        return self.n_read - self.n_used

    def sentence(self, source: str) -> str:
        text = (f"Read **{self.n_read}** rows and {len(self.columns)} columns from `{source}`; "
                f"the model uses **{self.n_used}** rows")
        if self.n_dropped == 0:
            return text + " (none dropped: no missing values in the model's columns)."
        reasons = self.dropped["reason"].value_counts()
        parts = [f"{n} with {reason}" for reason, n in reasons.items()]
        return (text + f" and drops **{self.n_dropped}**: " + "; ".join(parts) + ".")


def data_overview(df: pd.DataFrame, model) -> DataOverview:
    """Rows read/used/dropped (with the missing columns as reason) and counts per level."""
    frame = model.frame.data
    used = list(frame.columns)
    kept = set(frame.index)
    dropped_rows = [i for i in df.index if i not in kept]
    reasons = []
    for i in dropped_rows:
        missing = [c for c in used if c in df.columns and pd.isna(df.at[i, c])]
        reasons.append("a missing value in " + ", ".join(f"`{c}`" for c in missing)
                       if missing else "excluded")
    dropped = pd.DataFrame({"row": dropped_rows, "reason": reasons})
    rows = []
    seen = set()
    for term in model.random_effects.terms:        # the model's grouping factors (rep:block)
        if term.group_name in seen:
            continue
        seen.add(term.group_name)
        per_level = np.bincount(term.codes, minlength=term.n_levels)
        rows.append({"grouping factor": term.group_name.replace("`", ""),
                     "levels": term.n_levels,
                     "rows per level (min)": int(per_level.min()),
                     "rows per level (max)": int(per_level.max())})
    grouping = pd.DataFrame(rows) if rows else None
    return DataOverview(len(df), len(frame), dropped, list(df.columns), grouping)


def counts_tables(model, limit: int = 40) -> list[tuple[str, pd.DataFrame]]:
    """Rows per level of the fixed factors: one table per factor, and a cross table of the
    first two when neither has more than ``limit`` levels."""
    frame = model.frame.data
    names = fixed_factors(model)
    out = []
    for name in names:
        counts = frame[name].value_counts(sort=False).rename("rows").to_frame()
        counts.index = counts.index.astype(str)
        counts.index.name = name
        out.append((f"Rows per level of `{name}`", counts))
    if len(names) >= 2:
        a, b = names[:2]
        if frame[a].nunique() <= limit and frame[b].nunique() <= limit:
            cross = pd.crosstab(frame[a], frame[b])
            cross.index = cross.index.astype(str)
            cross.columns = cross.columns.astype(str)
            out.append((f"Rows per combination of `{a}` (rows) and `{b}` (columns)", cross))
    return out


def response_values(model) -> tuple[np.ndarray, str]:
    """The response as plotted: counts or values, proportions for binomial responses."""
    y, trials = np.asarray(model.y, float), np.asarray(model.trials, float)
    name = model.frame.response_name.replace("`", "")
    if model.family.has_trials and not np.all(trials == 1):
        parts = [p.replace("`", "") for p in model.formula.response_parts]
        label = f"proportion {parts[0]} / trials" if len(parts) == 2 else f"{name} (proportion)"
        return y / trials, label
    return y, name


def plot_response(model, by: str | None, ax=None, seed: int = 1):
    """Each observation of the response (jittered) by the levels of ``by``, with box plots."""
    import matplotlib.pyplot as plt

    y, label = response_values(model)
    frame = model.frame.data
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    rng = np.random.default_rng(seed)
    if by is None or by not in frame.columns:
        ax.hist(y, bins=min(40, max(10, int(np.sqrt(len(y))))), color="#4C72B0", alpha=0.8)
        ax.set_xlabel(label)
        ax.set_ylabel("rows")
        return ax
    codes = frame[by].cat.codes.to_numpy()
    levels = list(frame[by].cat.categories)
    groups = [y[codes == k] for k in range(len(levels))]
    ax.boxplot(groups, positions=range(len(levels)), widths=0.55, showfliers=False,
               medianprops={"color": "#C44E52"})
    integer = np.allclose(y, np.round(y))
    jitter_y = rng.uniform(-0.25, 0.25, len(y)) if integer and np.ptp(y) < 60 else 0.0
    ax.scatter(codes + rng.uniform(-0.18, 0.18, len(y)), y + jitter_y, s=8, alpha=0.35,
               color="#4C72B0", linewidths=0)
    means = [g.mean() if len(g) else np.nan for g in groups]
    ax.scatter(range(len(levels)), means, marker="D", color="black", zorder=3, label="mean")
    ax.set_xticks(range(len(levels)))
    ax.set_xticklabels([str(v) for v in levels], rotation=0 if len(levels) < 8 else 45)
    ax.set_xlabel(by)
    ax.set_ylabel(label)
    ax.legend(loc="best", frameon=False)
    return ax


def describe_response(model, by: str | None) -> str:
    """The alt text of the response figure: what is plotted and the extreme level means."""
    y, label = response_values(model)
    if by is None or by not in model.frame.data.columns:
        return (f"Histogram of {label} over the {len(y)} rows: from {np.min(y):.3g} to "
                f"{np.max(y):.3g}, median {np.median(y):.3g}.")
    groups = pd.Series(y).groupby(model.frame.data[by].to_numpy(), observed=True).mean()
    return (f"{label} of each of the {len(y)} rows by {by}, with box plots and the mean of "
            f"each of its {len(groups)} levels: highest mean {groups.idxmax()} "
            f"({groups.max():.3g}), lowest {groups.idxmin()} ({groups.min():.3g}).")
