"""Pairwise comparisons of many means, fast: for a factor with dozens or hundreds of levels.

``gl.pairs`` computes a Tukey-adjusted p-value for every pair (a studentized-range
integral each); with 300 levels that is 44 850 integrals and minutes. The page
cannot show such a table anyway. Here every pair is compared at once with one
critical value of the studentized range (the 5% Tukey decision is exactly the
comparison of |t| with it), the complete table (estimates, standard errors, t,
unadjusted p and the Tukey decision) goes to a CSV file, and the page gets a
summary: how many pairs differ, and the means at the top and the bottom.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from glmm_lib.multiplicity import critical_value

#: Above this many means in a group, the report compares them with :func:`pairwise_decisions`
#: (a summary and a CSV file) instead of ``gl.pairs`` and its full table.
MANY_MEANS = 30


def many(emm) -> bool:
    """More means in one ``by`` group than the page shows pair by pair."""
    return max(len(rows) for _, rows in emm.groups()) > MANY_MEANS


def pairwise_decisions(emm, alpha: float = 0.05) -> pd.DataFrame:
    """Every pair of means within each ``by`` group: the difference on the link scale, its
    standard error, t, the unadjusted p-value and whether Tukey's test at ``alpha`` (the
    studentized range with the group's number of means and the means' df, the smallest
    when they differ) finds a difference."""
    eta, cov = emm.eta, emm.vcov_eta
    names = [" ".join(str(emm.levels.at[i, s]) for s in emm.specs) for i in range(len(eta))]
    # one df for all pairs: the means' df, or the smallest where each mean has its own
    # (Kenward-Roger), which makes the decisions slightly conservative
    df = float(np.min(np.asarray(emm.df, dtype=float)))
    frames = []
    for by_values, rows in emm.groups():
        rows = np.asarray(rows)
        i, j = np.triu_indices(len(rows), k=1)
        a, b = rows[i], rows[j]
        diff = eta[a] - eta[b]
        var = cov[a, a] + cov[b, b] - 2 * cov[a, b]
        se = np.sqrt(np.maximum(var, 0.0))
        t = diff / se
        p = 2 * (stats.t.sf(np.abs(t), df) if np.isfinite(df) else stats.norm.sf(np.abs(t)))
        crit = critical_value("tukey", 1 - alpha, len(rows), len(a),
                              df if np.isfinite(df) else 1e6)
        frame = pd.DataFrame({
            "contrast": [f"{names[x]} - {names[y]}" for x, y in zip(a, b)],
            "estimate": diff, "SE": se, "t.ratio": t, "p.unadjusted": p,
            f"differ (Tukey {alpha:.0%})": np.abs(t) > crit,
        })
        for name, value in zip(emm.by, by_values):
            frame.insert(0, name, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summary_sentence(pairs: pd.DataFrame, emm, scale: str) -> str:
    """Markdown: how many pairs Tukey's test separates, and the highest and lowest means."""
    decision = pairs.columns[-1]
    n_diff = int(pairs[decision].sum())
    table = emm.table
    estimate = emm.estimate
    ordered = table.sort_values(estimate)
    label = lambda row: " ".join(str(row[s]) for s in emm.specs)   # noqa: E731
    top = ", ".join(f"{label(r)} ({r[estimate]:.3g})" for _, r in ordered.tail(3)[::-1].iterrows())
    bottom = ", ".join(f"{label(r)} ({r[estimate]:.3g})" for _, r in ordered.head(3).iterrows())
    return (f"{len(table)} means make **{len(pairs)}** pairs; Tukey's test at 5% finds "
            f"**{n_diff}** of them different. Highest means ({scale}): {top}; lowest: "
            f"{bottom}. The differences are on the link scale.")
