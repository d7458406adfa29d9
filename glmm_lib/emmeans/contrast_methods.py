"""The contrast coefficients of emmeans' named contrast families, for k means.

``"pairwise"``     every pair, earlier minus later level (Tukey-adjusted by default);
``"revpairwise"``  every pair, later minus earlier;
``"trt.vs.ctrl"``  each other level minus the control ``ref`` (Dunnett);
``"consec"``       each level minus the one before it;
``"poly"``         orthogonal polynomials in the level order (equally spaced levels),
                   degrees 1 to min(6, k - 1), each scaled to the smallest whole numbers
                   (as emmeans prints them: 4 levels give -3 -1 1 3, 1 -1 -1 1, -1 3 -3 1);
a dict             custom contrasts: name -> k weights.

Each family comes with emmeans' default p-value adjustment, except that comparisons with
a control use the exact multivariate-t adjustment ("mvt") where emmeans defaults to its
approximation ("dunnettx"; ask for it with ``adjust="dunnettx"``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GLMMInputError

__all__ = ["ContrastFamily", "contrast_family", "METHODS", "pair_indices"]

METHODS = ("pairwise", "revpairwise", "trt.vs.ctrl", "consec", "poly")
_DEGREE_NAMES = ("linear", "quadratic", "cubic", "quartic", "degree 5", "degree 6")


@dataclass(frozen=True)
class ContrastFamily:
    """names : one per contrast; coefficients : (contrasts, k); adjust : the default
    adjustment; pairwise : the family is all pairs of the means (Tukey applies)."""
    names: tuple
    coefficients: np.ndarray
    adjust: str
    pairwise: bool


def pair_indices(k, reverse):
    """The pairs of ``k`` means in emmeans' order: 1-2, 1-3, ..., 2-3, ...;
    ``reverse``: its revpairwise order 2-1, 3-1, 3-2, 4-1, ..."""
    if reverse:
        return [(i, j) for i in range(1, k) for j in range(i)]
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _differences(pairs, labels, k):
    C = np.zeros((len(pairs), k))
    for r, (i, j) in enumerate(pairs):
        C[r, i], C[r, j] = 1.0, -1.0
    return tuple(f"{labels[i]} - {labels[j]}" for i, j in pairs), C


def _reference(ref, labels):
    """The index of the control: a level (its label) or a 0-based position."""
    if ref is None:
        return 0
    if isinstance(ref, str):
        if ref not in labels:
            raise GLMMInputError(f"ref={ref!r} is not a level; the levels are {list(labels)}")
        return labels.index(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if not -len(labels) <= ref < len(labels):
            raise GLMMInputError(f"ref={ref} is out of range for {len(labels)} levels "
                                 "(positions count from 0)")
        return int(ref) % len(labels)
    raise GLMMInputError(f"ref must be a level name or a position (from 0), not {ref!r}")


def _whole_numbers(column):
    """A polynomial contrast scaled as emmeans prints it: by its smallest positive entry,
    then divided by its largest distance from whole numbers until that is small."""
    column = column / column[column > 0.01].min()
    gap = np.max(np.abs(column - np.round(column)))
    while gap > 0.05:
        column = column / gap
        gap = np.max(np.abs(column - np.round(column)))
    return np.round(column) + 0.0      # no negative zeros


def _polynomials(k):
    degree = min(6, k - 1)
    x = np.arange(1, k + 1, dtype=float)
    powers = np.vander(x - x.mean(), degree + 1, increasing=True)
    q, _ = np.linalg.qr(powers)
    columns = []
    for d in range(1, degree + 1):
        column = q[:, d]
        # a polynomial of degree d with a positive leading term, all of whose roots lie
        # among the levels, is positive at the last level
        column = column if column[-1] > 0 else -column
        columns.append(_whole_numbers(column))
    return _DEGREE_NAMES[:degree], np.array(columns)


def _custom(weights, k):
    if not weights:
        raise GLMMInputError("custom contrasts: give at least one name -> weights entry")
    rows = []
    for name, w in weights.items():
        w = np.asarray(w, dtype=float) if np.ndim(w) == 1 else None
        if w is None or w.shape != (k,) or not np.all(np.isfinite(w)):
            raise GLMMInputError(f"custom contrast {name!r} needs {k} finite weights, one per "
                                 "mean in the order of the means table")
        rows.append(w)
    return tuple(str(n) for n in weights), np.array(rows)


def contrast_family(method, labels, ref=None) -> ContrastFamily:
    """The contrasts ``method`` makes of means labelled ``labels`` (in table order)."""
    labels = list(labels)
    k = len(labels)
    if isinstance(method, dict):
        names, C = _custom(method, k)
        return ContrastFamily(names, C, "none", False)
    if method not in METHODS:
        raise GLMMInputError(f"unknown contrast method {method!r}; use one of "
                             f"{', '.join(METHODS)} or a dict of custom weights")
    if ref is not None and method != "trt.vs.ctrl":
        raise GLMMInputError("ref= is for method='trt.vs.ctrl'")
    if k < 2:
        raise GLMMInputError("contrasts need at least two means")
    if method in ("pairwise", "revpairwise"):
        names, C = _differences(pair_indices(k, method == "revpairwise"), labels, k)
        return ContrastFamily(names, C, "tukey", True)
    if method == "trt.vs.ctrl":
        control = _reference(ref, labels)
        names, C = _differences([(i, control) for i in range(k) if i != control], labels, k)
        return ContrastFamily(names, C, "mvt", False)
    if method == "consec":
        names, C = _differences([(i, i - 1) for i in range(1, k)], labels, k)
        return ContrastFamily(names, C, "mvt", False)
    names, C = _polynomials(k)
    return ContrastFamily(names, C, "none", False)
