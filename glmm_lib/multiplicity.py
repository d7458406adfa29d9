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
(:func:`tukey_p_values`).  Nor are the two for comparisons with a control (Dunnett),
which emmeans offers:

``"mvt"``       the exact chance that the largest |t| of the family, a multivariate t with
                the family's correlation, exceeds |t| (:mod:`glmm_lib.multivariate_t`);
                as emmeans, the df is made a whole number first (mvtnorm takes no other).
``"dunnettx"``  emmeans' approximation for k contrasts correlated 0.5 (treatments
                against one control with equal replication): the distribution of the
                largest |t| is taken as a mixture of Tukey's with the m means that have
                k pairs, m = (1 + sqrt(1 + 8k)) / 2, weight (k - 1) / k, and Sidak's
                (the k tests independent), weight 1 / k.

The degrees of freedom may differ from test to test (Satterthwaite, Kenward-Roger): each
test's p-value and interval use its own.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from . import multivariate_t
from .errors import GLMMInputError

__all__ = ["P_ADJUSTMENTS", "adjust_p_values", "smallest_adjusted", "tukey_p_values",
           "dunnettx_p_values", "mvt_p_values", "mvt_df", "critical_value"]

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


def dunnettx_p_values(t, n_tests, df) -> np.ndarray:
    """emmeans' approximate Dunnett p-values of a family of ``n_tests`` tests (see the
    module notes); ``df`` a number or one per test.  Made from the two upper tails, so
    small p-values keep their digits."""
    x = np.abs(np.asarray(t, dtype=float))
    k = n_tests
    n_means = (1.0 + np.sqrt(1.0 + 8.0 * k)) / 2.0
    tukey = stats.studentized_range.sf(np.sqrt(2.0) * x, n_means, df)
    sidak = -np.expm1(k * np.log1p(-stats.f.sf(x ** 2, 1, df)))
    return np.clip((k - 1) / k * tukey + sidak / k, 0.0, 1.0)


def mvt_df(df) -> np.ndarray:
    """The whole-number df emmeans gives mvtnorm: at least 1, rounded down unless within
    0.25 of the next; infinite (or above 9999): the normal distribution."""
    df = np.asarray(df, dtype=float)
    whole = np.floor(np.maximum(df, 1.0) + 0.25)
    return np.where(np.isinf(df) | (df > 9999), np.inf, whole)


def mvt_p_values(t, correlation, df) -> np.ndarray:
    """Multivariate-t adjusted p-values of one family: for each test, the chance that the
    largest |t| of the family (correlation matrix ``correlation``, the test's df made
    whole by :func:`mvt_df`) exceeds its |t|."""
    t = np.abs(np.asarray(t, dtype=float))
    df = np.broadcast_to(mvt_df(df), t.shape)
    return np.array([1.0 - multivariate_t.box_probability(x, correlation, d)
                     for x, d in zip(t, df)])


def _once_per_df(solve, dfs):
    """``solve(df)`` for each df, solved once per distinct value (a root search each)."""
    values = {d: solve(d) for d in np.unique(dfs)}
    return np.array([values[d] for d in dfs])


def critical_value(method, level, n_means, n_tests, df, correlation=None):
    """Multiplier of the standard error for intervals of one family with joint
    coverage ``level``: ``"tukey"`` from the studentized range of ``n_means``
    means, ``"bonferroni"`` and ``"sidak"`` from the t distribution at the
    per-interval level of ``n_tests`` intervals, ``"dunnettx"`` and ``"mvt"`` (which
    needs the family's ``correlation``) as their p-values; ``"none"``: the plain t
    quantile.  Holm has no intervals of its own; they are Bonferroni's (as emmeans
    makes them).  ``df``: a number (a number is returned) or one per interval (an array).
    """
    scalar = np.ndim(df) == 0
    dfs = np.atleast_1d(np.asarray(df, dtype=float))
    method = str(method).lower()
    if method == "tukey":
        crit = stats.studentized_range.ppf(level, n_means, dfs) / np.sqrt(2.0)
    elif method == "dunnettx":
        def solve(d):
            return optimize.brentq(lambda x: 1.0 - level - dunnettx_p_values(x, n_tests, d),
                                   stats.t.ppf(0.5 + level / 2.0, d),
                                   stats.t.isf((1.0 - level) / (2.0 * n_tests), d) * 1.01)
        crit = _once_per_df(solve, dfs)
    elif method == "mvt":
        if correlation is None:
            raise GLMMInputError("the mvt intervals need the correlation of the family")
        crit = _once_per_df(lambda d: multivariate_t.box_quantile(level, correlation, d),
                            mvt_df(dfs))
    else:
        method = _method(method)
        alpha = 1.0 - level
        if method in ("bonferroni", "holm"):
            alpha = alpha / n_tests
        elif method == "sidak":
            alpha = 1.0 - level ** (1.0 / n_tests)
        elif method == "BH":
            raise GLMMInputError("the Benjamini-Hochberg adjustment has no simultaneous "
                                 "intervals")
        crit = stats.t.ppf(1.0 - alpha / 2.0, dfs)
    return float(crit[0]) if scalar else np.asarray(crit, dtype=float)
