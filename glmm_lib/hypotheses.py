"""The hypotheses L beta = 0 of type I and type III ANOVA tables, built as lmerTest builds them.

Type I (sequential): the rows of the unit upper-triangular factor of X'X (Doolittle, no
pivoting) that belong to a term: each term adjusted for the terms before it.

Type III (SAS): written first in the over-parametrized model (an intercept and, for every
term, one column per combination of its factors' levels, times its numeric variables),
mapped into X's coefficients through X's pseudo-inverse, then, from the highest-order terms
down, each term's columns are made orthogonal to those of the terms containing it.  The
hypotheses test the same thing whatever contrasts coded X, and with missing cells they are
SAS's type III.
"""
from __future__ import annotations

import numpy as np

from .errors import GLMMInputError
from .fixed import r_name
from .formula import evaluate_expression

_DOOLITTLE_EPS = 1e-6        # lmerTest's doolittle(): entries below it are zero (absolute)
_ZERO_ROW = 1e-8


def zapsmall(x, digits=7):
    """R's zapsmall: round to ``digits`` significant digits of the largest entry."""
    biggest = np.max(np.abs(x)) if x.size else 0.0
    if biggest == 0 or not np.isfinite(biggest):
        return x
    return np.round(x, max(0, digits - int(np.ceil(np.log10(biggest)))))


def _model_terms(parts):
    return [label for label in parts.fixed_terms if label != "1"]


def type1(parts) -> dict:
    X = parts.X
    p = X.shape[1]
    if p == 1:
        return {label: np.ones((1, 1)) for label in _model_terms(parts)}
    gram = X.T @ X
    lower, upper = np.eye(p), np.zeros((p, p))
    for i in range(p):
        upper[i, :] = gram[i, :] - lower[i, :i] @ upper[:i, :]
        if i + 1 < p:
            column = gram[i + 1:, i] - lower[i + 1:, :i] @ upper[:i, i]
            lower[i + 1:, i] = 0.0 if abs(upper[i, i]) < _DOOLITTLE_EPS else column / upper[i, i]
    lower[np.abs(lower) < _DOOLITTLE_EPS] = 0.0
    rows = lower.T
    return {label: rows[parts.fixed_terms[label]] for label in _model_terms(parts)}


def _variables(parts, label):
    return [expr for expr, _ in parts.term_factors[label]]


def _numeric_variables(parts, label):
    return {expr for expr, is_factor in parts.term_factors[label] if not is_factor}


def _contains(parts, inner, outer):
    """lmerTest's containment: outer has every variable of inner and more, same numerics."""
    a, b = set(_variables(parts, inner)), set(_variables(parts, outer))
    return a < b and _numeric_variables(parts, inner) == _numeric_variables(parts, outer)


def _overparametrized_columns(parts, label):
    """Columns and R names of one term of the over-parametrized design ('~ 0 + term')."""
    data = parts.data
    columns, names = [np.ones(len(data))], [""]
    for expr, is_factor in parts.term_factors[label]:
        if is_factor:
            values = data[expr]
            levels = list(values.cat.categories)
            codes = values.cat.codes.to_numpy()
            pieces = [(codes == i).astype(float) for i in range(len(levels))]
            labels = [f"{r_name(expr)}{level}" for level in levels]
        else:
            try:
                pieces = [np.asarray(evaluate_expression(expr, data), float)]
            except Exception as err:
                raise GLMMInputError(f"type III hypotheses: cannot evaluate the term {expr!r} "
                                     f"of the fixed effects ({err})") from None
            labels = [r_name(expr)]
        # R varies the first factor fastest; the order of the columns does not matter here
        columns = [c * piece for piece in pieces for c in columns]
        names = [f"{n}:{lab}" if n else lab for lab in labels for n in names]
    return np.column_stack(columns), names


def type3(parts) -> dict:
    terms = _model_terms(parts)
    X = parts.X
    if X.shape[1] <= 1 or len(terms) <= 1:
        return type1(parts)
    has_intercept = "1" in parts.fixed_terms
    blocks = [np.ones((X.shape[0], 1))] if has_intercept else []
    names = ["(Intercept)"] if has_intercept else []
    for label in terms:
        cols, cols_names = _overparametrized_columns(parts, label)
        blocks.append(cols)
        names += cols_names
    full = np.column_stack(blocks)
    # rows: parameters of the over-parametrized model; columns: X's coefficients
    L = zapsmall((np.linalg.pinv(X) @ full).T)
    by_order = sorted(terms, key=lambda t: len(_variables(parts, t)), reverse=True)
    for label in by_order:
        containing = [t for t in terms if _contains(parts, label, t)]
        if not containing:
            continue
        own = parts.fixed_terms[label]
        others = [c for t in containing for c in parts.fixed_terms[t]]
        fitted = L[:, others] @ np.linalg.lstsq(L[:, others], L[:, own], rcond=None)[0]
        L[:, own] = zapsmall(L[:, own] - fitted)
    position = {name: i for i, name in enumerate(names)}
    missing = [n for n in parts.names if n not in position]
    if missing:
        raise GLMMInputError(
            "type III hypotheses need X coded with treatment contrasts of plain columns; "
            f"cannot match the coefficients {missing} (use type=1)")
    L = L[[position[n] for n in parts.names]]
    out = {}
    for label in terms:
        hypothesis = L[:, parts.fixed_terms[label]].T
        out[label] = hypothesis[np.sum(np.abs(hypothesis), axis=1) > _ZERO_ROW]
    return out
