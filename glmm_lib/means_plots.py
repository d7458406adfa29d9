"""Plot of estimated marginal means with their intervals and compact letters
(the results of :func:`glmm_lib.emmeans`).  matplotlib is imported inside the
function only, as in :mod:`glmm_lib.diagnostic_plots`.
"""
from __future__ import annotations

import numpy as np

from .emmeans.contrasts import check_means
from .emmeans.letters import cld
from .emmeans.means import ci_names

__all__ = ["plot_means"]


def plot_means(emm, letters=True, ax=None, alpha=0.05, adjust=None, symbols=None,
               horizontal=False, **errorbar_kw):
    """Plot the means with their confidence intervals, and (``letters=True``) the
    compact letter display of :func:`~glmm_lib.emmeans.cld` beside each interval.

    Means of different ``by`` groups are placed in blocks separated by a gap and
    labelled ``level | group``.  Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    means = check_means(emm)
    table = means.table
    if letters:   # the letters of the sorted display (a = lowest), put back in table order
        shown = cld(means, alpha=alpha, adjust=adjust, symbols=symbols).table
        cols = list(means.specs + means.by)
        key = lambda frame: list(zip(*[frame[c].astype(str) for c in cols]))
        group = dict(zip(key(shown), shown[".group"]))
        table[".group"] = [group[k] for k in key(table)]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.7 * len(table) + 2), 3.5) if not horizontal
                             else (5, max(2.5, 0.45 * len(table) + 1)))
    lo_name, hi_name = ci_names(means.df)
    est = table[means.estimate].to_numpy()
    lo, hi = table[lo_name].to_numpy(), table[hi_name].to_numpy()
    positions, labels, pos = [], [], 0.0
    previous = None
    for i in range(len(table)):
        key = tuple(table.iloc[i][v] for v in means.by)
        if previous is not None and key != previous:
            pos += 0.6
        previous = key
        positions.append(pos)
        lab = " ".join(str(table.iloc[i][v]) for v in means.specs)
        if means.by:
            lab += " | " + " ".join(str(k) for k in key)
        labels.append(lab)
        pos += 1.0
    positions = np.array(positions)
    kw = dict(fmt="o", color="C0", ecolor="C0", capsize=4, markersize=6)
    kw.update(errorbar_kw)
    if horizontal:
        ax.errorbar(est, positions, xerr=[est - lo, hi - est], **kw)
        ax.set_yticks(positions, labels)
        ax.set_xlabel(means.estimate)
        ax.invert_yaxis()
    else:
        ax.errorbar(positions, est, yerr=[est - lo, hi - est], **kw)
        ax.set_xticks(positions, labels, rotation=0 if len(labels) < 7 else 45,
                      ha="center" if len(labels) < 7 else "right")
        ax.set_ylabel(means.estimate)
    if letters:
        span = np.nanmax(hi) - np.nanmin(lo)
        for x, top, text in zip(positions, hi, table[".group"]):
            if horizontal:
                ax.annotate(text, (top + 0.02 * span, x), va="center", ha="left")
            else:
                ax.annotate(text, (x, top + 0.02 * span), va="bottom", ha="center")
        if horizontal:
            ax.set_xlim(right=np.nanmax(hi) + 0.15 * span)
        else:
            ax.set_ylim(top=np.nanmax(hi) + 0.15 * span)
    pct = f"{100 * means.level:g}%"
    ax.set_title(f"Estimated marginal means ({pct} CI"
                 + (f"; letters: {adjust or 'tukey'}, alpha = {alpha:g}" if letters else "")
                 + ")",
                 fontsize="medium")
    return ax
