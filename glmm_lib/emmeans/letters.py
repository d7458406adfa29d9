"""Compact letter displays of all pairwise comparisons, as emmeans' ``cld()``
(``multcomp::cld`` on an emmGrid, letters by ``multcompView::multcompLetters``).

Means whose comparison is not significant share a symbol; the symbols come from
the insert-absorb algorithm (Piepho 2004).  Two means sharing a symbol were *not
shown to differ*; they are not shown equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..tables import TableResult
from .contrasts import check_adjust, check_means, family_p_values, pair_indices
from .means import EMMeans, summarize_means

__all__ = ["CompactLetters", "cld", "letter_matrix"]

_EMMEANS_SYMBOLS = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ."


def _absorb(A):
    """Drop, one at a time, any column whose TRUE set is inside another column's."""
    while True:
        k = A.shape[1]
        dropped = False
        for i in range(k - 1):
            for j in range(i + 1, k):
                if np.all(A[A[:, j], i]):
                    A = np.delete(A, j, axis=1)
                    dropped = True
                    break
                if np.all(A[A[:, i], j]):
                    A = np.delete(A, i, axis=1)
                    dropped = True
                    break
            if dropped:
                break
        if not dropped:
            return A


def _first_true(B):
    first = np.full(B.shape[1], np.inf)
    for c in range(B.shape[1]):
        w = np.flatnonzero(B[:, c])
        if w.size:
            first[c] = w[0]
    return first


def _sort_columns(B):
    """multcompView's sortCols: order columns by their first TRUE row, ties broken
    recursively on the rows below (pairwise, as the R code does)."""
    B = B[:, np.argsort(_first_true(B), kind="stable")]
    first = _first_true(B)
    reps = np.flatnonzero((np.diff(first) == 0) & np.isfinite(first[:-1]))
    n = B.shape[0]
    for i in reps:
        rows = np.arange(int(first[i]) + 1, n)
        cols = np.array([i, i + 1])
        if rows.size:
            sub = B[np.ix_(rows, cols)]
            B[np.ix_(rows, cols)] = _sort_columns(sub)
    return B


def _make_letters(k, symbols):
    """multcompView's makeLtrs: when symbols run out, the last one prefixes a new round."""
    symbols = list(symbols)
    n = len(symbols)
    if k < n:
        return symbols[:k]
    again = [symbols[-1] + s for s in symbols[:-1]] + [symbols[-1]]
    return symbols[:-1] + _make_letters(k - n + 1, again)


def letter_matrix(n, different, symbols=_LETTERS, reversed=False):
    """Insert-absorb compact letter display (Piepho 2004, as multcompView's
    ``multcompLetters``, without the sweep step).

    ``different`` is a list of ``(i, j)`` pairs (0-based) judged different, in the
    order they are processed.  Returns ``(letters, monospaced, matrix)``.
    """
    A = np.ones((n, 1), dtype=bool)
    if different:
        for i, j in different:
            cols = A[i] & A[j]
            if cols.any():
                A1 = A[:, cols].copy()
                A1[i, :] = False
                A[j, cols] = False
                A = _absorb(np.hstack([A, A1]))
        A = _sort_columns(A)
        if reversed:
            A = A[:, ::-1]
    names = _make_letters(A.shape[1], symbols)
    letters = ["".join(nm for nm, on in zip(names, row) if on) for row in A]
    mono = ["".join(nm if on else " " * len(nm) for nm, on in zip(names, row)) for row in A]
    return letters, mono, A




@dataclass(frozen=True, eq=False, repr=False)
class CompactLetters(TableResult):
    """A compact letter display of marginal means.

    means : the :class:`~glmm_lib.emmeans.means.EMMeans` in display order
        (sorted by estimate within each ``by`` group unless ``sort=False``).
    letters, monospaced : the symbols of each mean, without and with emmeans'
        padding spaces (the ``.group`` and ``.group_mono`` columns of ``table``).
    ci_adjust : the adjustment of the means' intervals (None: unadjusted).
    notes : printed under the table, as emmeans prints them.
    """
    means: EMMeans
    letters: tuple
    monospaced: tuple
    ci_adjust: str | None
    notes: tuple

    @property
    def estimate(self) -> str:
        return self.means.estimate

    @property
    def table(self) -> pd.DataFrame:
        """The means with their ``.group`` symbols (made anew on each access)."""
        out = summarize_means(self.means, self.ci_adjust)
        out[".group"] = list(self.letters)
        out[".group_mono"] = list(self.monospaced)
        return out


def cld(emm, alpha=0.05, adjust=None, symbols=None, reversed=False, sort=True) -> CompactLetters:
    """Compact letter display of all pairwise comparisons, as emmeans' ``cld()``.

    Means are sorted by estimate within each ``by`` group (when ``sort``), all pairs
    are compared as :func:`~glmm_lib.emmeans.contrasts.pairs` compares them
    (``adjust``), and means whose comparison has p >= ``alpha`` share a symbol.
    ``symbols`` defaults to lowercase letters (``a`` for the lowest means);
    ``symbols="emmeans"`` uses emmeans' default set (``1``-``9``, ``0``,
    ``A``-``Z``, ``a``-``z``) to reproduce its printout exactly.

    ``adjust=None`` compares with Tukey's adjustment and leaves the intervals of the
    means unadjusted (emmeans' default).  An explicit ``adjust`` is used for the
    comparisons *and*, as emmeans passes it on to the summary of the means, for
    simultaneous intervals of the means within each group (Tukey becomes Sidak
    there, Holm becomes Bonferroni).

    Its ``table`` is the table of means with a ``.group`` column (the symbols,
    without the padding spaces emmeans uses; the monospaced version is in
    ``.group_mono``).
    """
    means = check_means(emm)
    if symbols is None:
        symbols = _LETTERS
    elif symbols == "emmeans":
        symbols = _EMMEANS_SYMBOLS
    ci_adjust = None if adjust is None else check_adjust(adjust)
    adjust = "tukey" if adjust is None else ci_adjust
    if sort:
        est = means.table[means.estimate].to_numpy()
        by_codes = [means.levels[v].cat.codes.to_numpy()
                    if isinstance(means.levels[v].dtype, pd.CategoricalDtype)
                    else means.levels[v].to_numpy() for v in means.by]
        means = means.reordered(np.lexsort([est] + by_codes[::-1]))
    # revpairwise on the sorted means (the order multcompView receives from emmeans)
    letters, mono = [""] * len(means.levels), [""] * len(means.levels)
    for _, idx in means.groups():
        k = len(idx)
        if k == 1:
            letters[idx[0]] = mono[idx[0]] = symbols[0]
            continue
        pr = pair_indices(k, reverse=True)
        C = np.zeros((len(pr), len(means.levels)))
        for r, (i, j) in enumerate(pr):
            C[r, idx[i]], C[r, idx[j]] = 1.0, -1.0
        cov = C @ means.vcov_eta @ C.T
        se = np.sqrt(np.diag(cov))
        p = family_p_values(C @ means.eta / se, means.contrast_df(C), adjust, k,
                            cov / np.outer(se, se))
        # multcompView receives names "j-i" (earlier-later); a pair is different if p < alpha
        different = [(j, i) for (i, j), pv in zip(pr, p) if pv < alpha]
        group_letters, group_mono, _ = letter_matrix(k, different, symbols, reversed)
        for pos, row in enumerate(idx):
            letters[row], mono[row] = group_letters[pos], group_mono[pos]
    if sort and reversed:
        order = np.concatenate([idx[::-1] for _, idx in means.groups()])
        means = means.reordered(order)
        letters, mono = [letters[i] for i in order], [mono[i] for i in order]
    notes = list(means.notes)
    if ci_adjust not in (None, "none"):
        method = {"tukey": "sidak", "holm": "bonferroni"}.get(ci_adjust, ci_adjust)
        notes.append(f"Conf-level adjustment: {method} method")
    notes.append(f"P value adjustment: {adjust} method; significance level used: alpha = {alpha:g}")
    notes.append("NOTE: If two or more means share a symbol, they were not shown to differ "
                 "(that does not make them equal).")
    return CompactLetters(means, tuple(letters), tuple(mono), ci_adjust, tuple(notes))
