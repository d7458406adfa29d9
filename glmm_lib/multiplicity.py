"""Multiple-comparison adjustments of p-values, and the critical values of the
matching simultaneous intervals: one place for the marginal-means comparisons
(:mod:`glmm_lib.emmeans`) and the residual diagnostics (:mod:`glmm_lib.diagnostics`).

An adjustment treats one *family* of tests as R's ``p.adjust`` does: missing
(NaN) p-values are left out of the family and stay NaN, and a family of a
single test is returned unadjusted.

``"bonferroni"``  each p-value times the number of tests ``m`` (at most 1).
``"sidak"``       ``1 - (1 - p)^m``, exact for independent tests (emmeans' Sidak).
``"holm"``        step-down Bonferroni: the i-th smallest times ``m - i + 1``,
                  made non-decreasing along the sorted p-values.
``"BH"``          Benjamini-Hochberg false-discovery rate: the i-th smallest
                  times ``m / i``, made non-increasing from the largest down.
``"none"``        the p-values as they are.

Tukey's adjustment is not a function of the p-values alone: it needs the test
statistics, the number of means compared and the degrees of freedom
(:func:`tukey_p_values`).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .errors import GLMMInputError

__all__ = ["P_ADJUSTMENTS", "adjust_p_values", "smallest_adjusted", "tukey_p_values",
           "critical_value"]

P_ADJUSTMENTS = ("none", "bonferroni", "sidak", "holm", "BH")
_BY_LOWER = {name.lower(): name for name in P_ADJUSTMENTS}


def _method(method) -> str:
    name = _BY_LOWER.get(str(method).lower())
    if name is None:
        raise GLMMInputError(f"unknown p-value adjustment {method!r}; use one of "
                             f"{', '.join(P_ADJUSTMENTS)}")
    return name


def adjust_p_values(p, method) -> np.ndarray:
    """The p-values of one family of tests adjusted by ``method`` (case-insensitive:
    ``"none"``, ``"bonferroni"``, ``"sidak"``, ``"holm"`` or ``"BH"``)."""
    method = _method(method)
    p = np.asarray(p, dtype=float)
    out = p.copy()
    present = np.isfinite(p)
    m = int(present.sum())
    if method == "none" or m <= 1:
        return out
    q = p[present]
    if method == "bonferroni":
        adjusted = np.minimum(1.0, m * q)
    elif method == "sidak":
        adjusted = 1.0 - (1.0 - q) ** m
    else:
        order = np.argsort(q, kind="stable")
        ranked = q[order]
        if method == "holm":
            steps = np.maximum.accumulate((m - np.arange(m)) * ranked)
        else:   # BH
            steps = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(1.0, steps)
    out[present] = adjusted
    return out


def smallest_adjusted(p, method) -> float:
    """The smallest adjusted p-value of a family: one p-value for "does any of these
    tests reject?" (NaN when no p-value is present)."""
    adjusted = adjust_p_values(p, method)
    adjusted = adjusted[np.isfinite(adjusted)]
    return float(adjusted.min()) if adjusted.size else float("nan")


def tukey_p_values(t, n_means, df) -> np.ndarray:
    """Tukey-adjusted p-values of pairwise differences among ``n_means`` means: the
    chance that the studentized range of ``n_means`` means with ``df`` degrees of
    freedom (``np.inf`` for z tests) exceeds ``sqrt(2) |t|``."""
    q = np.sqrt(2.0) * np.abs(np.asarray(t, dtype=float))
    return np.clip(stats.studentized_range.sf(q, n_means, df), 0.0, 1.0)


def critical_value(method, level, n_means, n_tests, df) -> float:
    """Multiplier of the standard error for intervals of one family with joint
    coverage ``level``: ``"tukey"`` from the studentized range of ``n_means``
    means, ``"bonferroni"`` and ``"sidak"`` from the t distribution at the
    per-interval level of ``n_tests`` intervals; ``"none"``: the plain t quantile.
    Holm has no intervals of its own; they are Bonferroni's (as emmeans makes them).
    """
    if str(method).lower() == "tukey":
        return float(stats.studentized_range.ppf(level, n_means, df) / np.sqrt(2.0))
    method = _method(method)
    alpha = 1.0 - level
    if method in ("bonferroni", "holm"):
        alpha = alpha / n_tests
    elif method == "sidak":
        alpha = 1.0 - level ** (1.0 / n_tests)
    elif method == "BH":
        raise GLMMInputError("the Benjamini-Hochberg adjustment has no simultaneous intervals")
    return float(stats.t.ppf(1.0 - alpha / 2.0, df))
