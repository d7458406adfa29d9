"""Contrasts of marginal means, as emmeans' ``contrast()`` and ``pairs()``.

The families of contrasts (pairwise, comparisons with a control, consecutive
differences, orthogonal polynomials, custom weights) are in
:mod:`glmm_lib.emmeans.contrast_methods`; this module estimates and tests them.

Contrasts are taken on the link scale.  When the means are on the response
scale of a log-link model, contrasts whose weights sum to zero are reported
back-transformed as ratios (column ``ratio``), of a logit model as odds ratios
(``odds.ratio``), with the delta-method SE and ``null`` = 1, as emmeans does;
other contrasts (and all contrasts for other links and for ``type="link"``
means) stay on the link scale (``estimate``).  The test statistic
(``t.ratio``, or ``z.ratio`` when df is infinite) and the unadjusted p-value
are those of the link-scale contrast.

Degrees of freedom: each contrast's own Satterthwaite or Kenward-Roger df when
the means have them (the Kenward-Roger covariance gives the SEs), as emmeans
does for lme4 fits; else the means' df.  The adjustment for the family of
contrasts within each ``by`` group is in :mod:`glmm_lib.multiplicity`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import GLMMInputError
from ..multiplicity import (adjust_p_values, critical_value, dunnettx_p_values, mvt_p_values,
                            tukey_p_values)
from ..tables import TableResult
from .contrast_methods import contrast_family, pair_indices
from .means import EMMeans, ci_names, stat_name

__all__ = ["ADJUSTMENTS", "Contrasts", "pairs", "contrast", "pair_indices", "family_p_values"]

ADJUSTMENTS = ("tukey", "mvt", "dunnettx", "holm", "bonferroni", "sidak", "none")

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


def family_p_values(t, df, adjust, n_means, correlation=None) -> np.ndarray:
    """Adjusted two-sided p-values of one family of contrasts of ``n_means`` means (Tukey:
    all their pairs); ``df`` one number or one per contrast; ``correlation`` of the
    contrasts, which the "mvt" adjustment needs."""
    if adjust == "tukey":
        return tukey_p_values(t, n_means, df)
    if adjust == "dunnettx":
        return dunnettx_p_values(t, len(t), df)
    if adjust == "mvt":
        return mvt_p_values(t, correlation, df)
    return adjust_p_values(2 * stats.t.sf(np.abs(t), df), adjust)


def _numeric_levels(column) -> bool:
    """Levels that all read as numbers: emmeans prefixes them with the variable's name in
    contrast labels ("Diet1 - Diet2")."""
    try:
        [float(v) for v in column.astype(str)]
    except ValueError:
        return False
    return True


def _label(values):
    text = " ".join(str(v) for v in values)
    return f"({text})" if _PARENS.search(text) else text


@dataclass(frozen=True, eq=False, repr=False)
class Contrasts(TableResult):
    """Contrasts of marginal means.

    table : one row per contrast: ``contrast``, the ``by`` columns, the
        estimate (column named ``estimate``), ``SE``, ``df``, the interval when
        asked for, ``null`` for ratios, the test statistic and ``p.value``.
    means : the :class:`~glmm_lib.emmeans.means.EMMeans` contrasted.
    coefficients : (contrasts, means) coefficients: each contrast is
        ``coefficients @ means.eta`` on the link scale.
    adjust : the p-value adjustment; family_sizes: the numbers of means in the
        families (``by`` groups).
    notes : printed under the table, as emmeans prints them.
    method : the contrast method (``"pairwise"``, ``"trt.vs.ctrl"``, ...,
        ``"custom"``).
    """
    table: pd.DataFrame
    means: EMMeans
    coefficients: np.ndarray
    estimate: str
    adjust: str
    family_sizes: tuple
    notes: tuple
    method: str = "pairwise"


def _df_note(means):
    return [n for n in means.notes if n.startswith("Degrees-of-freedom method")]


def _notes(means, adjust, families, back, on_link, confint, level, changed):
    """emmeans' notes in its order; ``families``: (means, contrasts) of each family."""
    link = means.link.name
    notes = []
    if means.averaged_over:
        notes.append(f"Results are averaged over the levels of: {', '.join(means.averaged_over)}")
    notes += _df_note(means)
    if on_link and means.type == "response" and link != "identity":
        notes.append(f"Note: contrasts are still on the {link} scale")
    elif means.type == "link" and link != "identity":
        notes.append(f"Results are given on the {link} (not the response) scale.")
    if changed:
        notes.append(changed)
    show = adjust != "none" and max(n for _, n in families) > 1
    sizes = ", ".join(str(k) for k in sorted({k for k, _ in families}))
    counts = ", ".join(str(n) for n in sorted({n for _, n in families}))
    if confint:
        notes.append(f"Confidence level used: {level:g}")
        if show:
            ci_method = "bonferroni" if adjust == "holm" else adjust
            notes.append(f"Conf-level adjustment: {ci_method} method for "
                         + (f"comparing a family of {sizes} estimates" if adjust == "tukey"
                            else f"{counts} estimates"))
        if back:
            notes.append(f"Intervals are back-transformed from the {link} scale")
    if show:
        notes.append(f"P value adjustment: {adjust} method for "
                     + (f"comparing a family of {sizes} estimates" if adjust == "tukey"
                        else f"{counts} tests"))
    if back:
        notes.append("Tests are performed on the "
                     + ("log odds ratio" if link == "logit" else link) + " scale")
    return tuple(notes)


def pairs(emm, adjust="tukey", reverse=False, confint=False, level=None) -> Contrasts:
    """All pairwise comparisons of the means in ``emm`` within each ``by`` group
    (see the module notes for the scale of the estimates).

    ``adjust``: ``"tukey"`` (studentized range with the number of means in the
    family and the df; emmeans' default for pairwise comparisons),
    ``"holm"``, ``"bonferroni"``, ``"sidak"``, ``"mvt"``, ``"dunnettx"`` or ``"none"``.
    With ``by`` groups each group is its own family, as in emmeans.  ``reverse=True``
    gives emmeans' ``revpairwise`` order and direction (later level minus earlier).
    ``confint=True`` adds simultaneous intervals (Tukey: studentized range;
    Holm: Bonferroni, as emmeans) at ``level`` (default: the level of ``emm``).
    """
    return contrast(emm, "revpairwise" if reverse else "pairwise", adjust=adjust,
                    confint=confint, level=level)


def contrast(emm, method="pairwise", ref=None, adjust=None, confint=False,
             level=None) -> Contrasts:
    """Contrasts of the means in ``emm`` within each ``by`` group, as emmeans'
    ``contrast()``.

    method : ``"pairwise"``, ``"revpairwise"``, ``"trt.vs.ctrl"`` (each level minus the
        control ``ref``: a level name or a position counted from 0; default the first),
        ``"consec"`` (each level minus the one before), ``"poly"`` (orthogonal
        polynomials, for equally spaced levels) or a dict of custom contrasts,
        name -> one weight per mean of a group, in the order of the means table.
    adjust : the p-value adjustment within each family (``by`` group); default as
        emmeans: ``"tukey"`` for pairwise, ``"none"`` for poly and custom contrasts,
        ``"mvt"`` (the exact multivariate t) for consec and trt.vs.ctrl, where emmeans'
        own default for trt.vs.ctrl is its approximation ``"dunnettx"``.  Also
        ``"holm"``, ``"bonferroni"``, ``"sidak"``, ``"none"``.  Tukey's adjustment is for
        pairwise families only: asked for others it becomes Sidak's, as in emmeans.
    confint, level : add simultaneous intervals (with the same adjustment) at ``level``
        (default: the level of ``emm``).
    """
    means = check_means(emm)
    level = means.level if level is None else level
    if not 0 < level < 1:
        raise GLMMInputError("level must be between 0 and 1")
    specs = list(means.specs)
    named = [v for v in specs if _numeric_levels(means.levels[v])]
    families = []
    for key, idx in means.groups():
        if len(idx) < 2 and not isinstance(method, dict):
            continue
        labels = [_label([f"{v}{x}" if v in named else x
                          for v, x in zip(specs, means.levels.iloc[i][specs].tolist())])
                  for i in idx]
        families.append((key, idx, contrast_family(method, labels, ref)))
    if not families:
        raise GLMMInputError("nothing to compare: each group has a single mean")
    adjust = check_adjust(families[0][2].adjust if adjust is None else adjust)
    changed = None
    if adjust == "tukey" and not families[0][2].pairwise:
        adjust = "sidak"
        changed = ('Note: adjust = "tukey" was changed to "sidak" because "tukey" is only '
                   "appropriate for one set of pairwise comparisons")

    blocks = []
    for _, idx, fam in families:
        block = np.zeros((len(fam.names), len(means.levels)))
        block[:, idx] = fam.coefficients
        blocks.append(block)
    C = np.vstack(blocks)
    d = C @ means.eta
    cov = C @ means.vcov_eta @ C.T
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    df = means.contrast_df(C)
    t = d / se
    p = np.empty(len(d))
    crit = np.empty(len(d))
    start = 0
    for _, idx, fam in families:
        rows = slice(start, start + len(fam.names))
        start = rows.stop
        correlation = cov[rows, rows] / np.outer(se[rows], se[rows])
        p[rows] = family_p_values(t[rows], df[rows], adjust, len(idx), correlation)
        if confint:
            crit[rows] = critical_value(adjust, level, len(idx), len(fam.names), df[rows],
                                        correlation)

    sums = np.abs(C.sum(axis=1)) / (1e-6 + np.abs(C).max(axis=1))
    back = (means.type == "response" and means.link.name in ("log", "logit")
            and bool(np.all(sums < 1e-6)))
    est_name = {"log": "ratio", "logit": "odds.ratio"}[means.link.name] if back else "estimate"
    lo_name, hi_name = ci_names(df)
    table_rows = []
    r = 0
    for key, _, fam in families:
        for name in fam.names:
            row = {"contrast": name.replace(" - ", " / ") if back else name}
            row.update(dict(zip(means.by, key)))
            scale = np.exp(d[r]) if back else 1.0     # delta method for exp(contrast)
            row[est_name] = scale if back else d[r]
            row["SE"] = scale * se[r]
            row["df"] = df[r]
            if confint:
                lo, hi = d[r] - crit[r] * se[r], d[r] + crit[r] * se[r]
                row[lo_name], row[hi_name] = (np.exp(lo), np.exp(hi)) if back else (lo, hi)
            if back:
                row["null"] = 1.0
            row[stat_name(df)] = t[r]
            row["p.value"] = p[r]
            table_rows.append(row)
            r += 1
    table = pd.DataFrame(table_rows)
    for v in means.by:
        if isinstance(means.levels[v].dtype, pd.CategoricalDtype):
            table[v] = pd.Categorical(table[v], categories=means.levels[v].cat.categories)
    family_sizes = tuple(sorted({len(idx) for _, idx, _ in families}))
    sizes = [(len(idx), len(fam.names)) for _, idx, fam in families]
    on_link = means.type == "response" and not back
    return Contrasts(table=table, means=means, coefficients=C, estimate=est_name,
                     adjust=adjust, family_sizes=family_sizes,
                     notes=_notes(means, adjust, sizes, back, on_link, confint, level, changed),
                     method=method if isinstance(method, str) else "custom")
