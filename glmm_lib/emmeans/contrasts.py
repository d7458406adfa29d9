"""Pairwise comparisons of marginal means, as emmeans' ``pairs()``.

Differences are taken on the link scale.  When the means are on the response
scale of a log-link model they are reported back-transformed as ratios
(column ``ratio``), of a logit model as odds ratios (``odds.ratio``), with the
delta-method SE and ``null`` = 1, as emmeans does; for other links (and for
``type="link"`` means) the differences stay on the link scale (``estimate``).
The test statistic (``t.ratio``, or ``z.ratio`` when df is infinite) and the
unadjusted p-value are those of the link-scale difference; the adjustment for
the family of comparisons within each ``by`` group is in
:mod:`glmm_lib.multiplicity`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import GLMMInputError
from ..multiplicity import adjust_p_values, critical_value, tukey_p_values
from ..tables import TableResult
from .means import EMMeans, ci_names, stat_name

__all__ = ["ADJUSTMENTS", "Contrasts", "pairs", "pair_indices", "family_p_values"]

ADJUSTMENTS = ("tukey", "holm", "bonferroni", "sidak", "none")

# emmeans' default for emm_options("parens"): contrast labels parenthesize levels
# that contain an operator character
_PARENS = re.compile(r"-|\+|/|\*")


def check_adjust(adjust) -> str:
    adjust = str(adjust).lower()
    if adjust not in ADJUSTMENTS:
        raise GLMMInputError(f"unknown adjust {adjust!r}; use one of {', '.join(ADJUSTMENTS)}")
    return adjust


def check_means(means) -> EMMeans:
    if not isinstance(means, EMMeans):
        raise GLMMInputError("pass the result returned by glmm_lib.emmeans() (it carries the "
                             "linear functions and covariance that comparisons need), not "
                             f"{type(means).__name__}")
    return means


def family_p_values(t, df, adjust, n_means) -> np.ndarray:
    """Adjusted two-sided p-values of one family of pairwise comparisons of ``n_means`` means."""
    if adjust == "tukey":
        return tukey_p_values(t, n_means, df)
    return adjust_p_values(2 * stats.t.sf(np.abs(t), df), adjust)


def pair_indices(k, reverse):
    """The pairs of ``k`` means in emmeans' order: 1-2, 1-3, ..., 2-3, ...;
    ``reverse``: its revpairwise order 2-1, 3-1, 3-2, 4-1, ..."""
    if reverse:
        return [(i, j) for i in range(1, k) for j in range(i)]
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _label(values):
    text = " ".join(str(v) for v in values)
    return f"({text})" if _PARENS.search(text) else text


@dataclass(frozen=True, eq=False, repr=False)
class Contrasts(TableResult):
    """Pairwise comparisons of marginal means.

    table : one row per comparison: ``contrast``, the ``by`` columns, the
        estimate (column named ``estimate``), ``SE``, ``df``, the interval when
        asked for, ``null`` for ratios, the test statistic and ``p.value``.
    means : the :class:`~glmm_lib.emmeans.means.EMMeans` compared.
    coefficients : (comparisons, means) contrast coefficients: each comparison is
        ``coefficients @ means.eta`` on the link scale.
    adjust : the p-value adjustment; family_sizes: the numbers of means in the
        families (``by`` groups) compared.
    notes : printed under the table, as emmeans prints them.
    """
    table: pd.DataFrame
    means: EMMeans
    coefficients: np.ndarray
    estimate: str
    adjust: str
    family_sizes: tuple
    notes: tuple


def _notes(means, adjust, sizes, back, confint, level):
    link = means.link.name
    notes = []
    if means.averaged_over:
        notes.append(f"Results are averaged over the levels of: {', '.join(means.averaged_over)}")
    if not np.isfinite(means.df):
        notes.append("Degrees-of-freedom method: asymptotic")
    if confint:
        notes.append(f"Confidence level used: {level:g}")
    if back:
        if confint:
            notes.append(f"Intervals are back-transformed from the {link} scale")
        notes.append("Tests are performed on the "
                     + ("log odds ratio" if link == "logit" else link) + " scale")
    elif means.type == "response" and link != "identity":
        notes.append(f"Note: contrasts are still on the {link} scale")
    elif link != "identity":
        notes.append(f"Results are given on the {link} (not the response) scale.")
    if adjust != "none" and any(s > 2 for s in sizes):
        notes.append(f"P value adjustment: {adjust} method for "
                     + (f"comparing a family of {', '.join(str(s) for s in sizes)} estimates"
                        if adjust == "tukey"
                        else f"{', '.join(str(s * (s - 1) // 2) for s in sizes)} tests"))
    return tuple(notes)


def pairs(emm, adjust="tukey", reverse=False, confint=False, level=None) -> Contrasts:
    """All pairwise comparisons of the means in ``emm`` within each ``by`` group
    (see the module notes for the scale of the estimates).

    ``adjust``: ``"tukey"`` (studentized range with the number of means in the
    family and the df; emmeans' default for pairwise comparisons),
    ``"holm"``, ``"bonferroni"``, ``"sidak"`` or ``"none"``.  With ``by`` groups
    each group is its own family, as in emmeans.  ``reverse=True`` gives
    emmeans' ``revpairwise`` order and direction (later level minus earlier).
    ``confint=True`` adds simultaneous intervals (Tukey: studentized range;
    Holm: Bonferroni, as emmeans) at ``level`` (default: the level of ``emm``).
    """
    means = check_means(emm)
    adjust = check_adjust(adjust)
    level = means.level if level is None else level
    eta, V = means.eta, means.vcov_eta
    back = means.type == "response" and means.link.name in ("log", "logit")
    est_name = {"log": "ratio", "logit": "odds.ratio"}[means.link.name] if back else "estimate"
    sep = " / " if back else " - "
    lo_name, hi_name = ci_names(means.df)
    rows, blocks, sizes = [], [], []
    for key, idx in means.groups():
        k = len(idx)
        if k < 2:
            continue
        sizes.append(k)
        pairs_ = pair_indices(k, reverse)
        c = np.zeros((len(pairs_), len(eta)))
        for r, (i, j) in enumerate(pairs_):
            c[r, idx[i]], c[r, idx[j]] = 1.0, -1.0
        blocks.append(c)
        d = c @ eta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", c, V, c), 0.0))
        t = d / se
        p = family_p_values(t, means.df, adjust, k)
        crit = critical_value(adjust, level, k, len(pairs_), means.df) if confint else None
        for r, (i, j) in enumerate(pairs_):
            a = means.levels.iloc[idx[i]][list(means.specs)].tolist()
            b = means.levels.iloc[idx[j]][list(means.specs)].tolist()
            row = {"contrast": f"{_label(a)}{sep}{_label(b)}"}
            row.update(dict(zip(means.by, key)))
            scale = np.exp(d[r]) if back else 1.0     # delta method for exp(difference)
            row[est_name] = scale if back else d[r]
            row["SE"] = scale * se[r]
            row["df"] = means.df
            if confint:
                lo, hi = d[r] - crit * se[r], d[r] + crit * se[r]
                row[lo_name], row[hi_name] = (np.exp(lo), np.exp(hi)) if back else (lo, hi)
            if back:
                row["null"] = 1.0
            row[stat_name(means.df)] = t[r]
            row["p.value"] = p[r]
            rows.append(row)
    if not rows:
        raise GLMMInputError("nothing to compare: each group has a single mean")
    table = pd.DataFrame(rows)
    for v in means.by:
        if isinstance(means.levels[v].dtype, pd.CategoricalDtype):
            table[v] = pd.Categorical(table[v], categories=means.levels[v].cat.categories)
    family_sizes = tuple(sorted(set(sizes)))
    return Contrasts(table=table, means=means, coefficients=np.vstack(blocks),
                     estimate=est_name, adjust=adjust, family_sizes=family_sizes,
                     notes=_notes(means, adjust, family_sizes, back, confint, level))
