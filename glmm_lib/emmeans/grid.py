"""The reference grid of a fit, as emmeans builds it.

Every combination of the levels of the variables of the fixed-effects formula
(R's ``expand.grid`` order: the first variable varies fastest).  A numeric
covariate is set to its mean over the rows used in the fit, except that a
covariate with at most two distinct values is kept at all its values and
treated as a factor (emmeans' ``cov.keep = "2"`` default).  A numeric column
turned into a factor in the formula (``C(x)``) takes its distinct values.
``at={"x": 5}`` fixes a covariate (or restricts a factor) instead.

Offsets: a variable inside ``offset()`` in the formula is a covariate like any
other, so ``offset(log(area))`` contributes ``log(mean(area))`` -- *not* the
mean of ``log(area)`` (emmeans' documented behaviour, see its "xplanations"
vignette, "Intricacies of offsets").  An offset given through
``glmm(..., offset=)`` rather than in the formula is emmeans' "static" offset:
its mean, on the link scale.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import GLMMInputError
from ..formula import evaluate_expression, expression_variables

__all__ = ["ReferenceGrid", "reference_grid"]


@dataclass(frozen=True, eq=False)
class ReferenceGrid:
    """The grid of predictor values the marginal means are made from.

    frame : one row per combination (first variable varying fastest); factors
        are categoricals in the model's level order.
    levels : the reference values of each variable, by name.
    factors : the variables treated as factors (averaged over with equal
        weights when not asked for).
    offsets : the offset of each row on the link scale.
    """
    frame: pd.DataFrame
    levels: dict
    factors: tuple
    offsets: np.ndarray


def _ordered_variables(fit):
    """Predictor columns of the fixed part and of offset() terms, in formula order."""
    fixed = expression_variables(fit.model.formula.fixed)
    offset_vars = [v for e in fit.model.formula.offsets for v in expression_variables(e)]
    data_cols = fit.model.frame.data.columns
    return [v for v in dict.fromkeys(fixed + offset_vars) if v in data_cols]


def _coerced_factors(fit):
    """Numeric columns that the formula turns into factors (``C(x)``): name -> levels."""
    spec = fit.model.fixed.spec
    data = fit.model.frame.data
    out = {}
    for factor, state in getattr(spec, "factor_contrasts", {}).items():
        expr = str(getattr(factor, "expr", factor))
        if expr in data.columns:
            continue
        names = [n for n in expression_variables(expr) if n in data.columns]
        if len(names) == 1 and not isinstance(data[names[0]].dtype, pd.CategoricalDtype):
            levels = list(getattr(state, "levels", None) or sorted(data[names[0]].unique()))
            out[names[0]] = levels
    return out


def _static_offset(fit):
    """Mean of the part of the offset given through ``glmm(offset=)`` (not in the formula)."""
    model = fit.model
    total = np.asarray(model.frame.offset, dtype=float)
    in_formula = np.zeros_like(total)
    for expr in model.formula.offsets:
        in_formula += evaluate_expression(expr, model.frame.data)
    static = total - in_formula
    return float(np.mean(static)) if np.any(np.abs(static) > 0) else 0.0


def _restricted(levels, name, at):
    """The levels of a factor kept by ``at[name]`` (all of them when not given)."""
    if name not in at:
        return levels
    want = list(np.atleast_1d(at[name]))
    bad = [w for w in want if w not in levels]
    if bad:
        raise GLMMInputError(f"at[{name!r}] has levels not in the fit: {bad}; "
                             f"the levels are {levels}")
    return [lv for lv in levels if lv in want]


def reference_grid(fit, at=None, cov_keep=2, offset=None) -> ReferenceGrid:
    """The reference grid of a fit (see the module notes); ``offset`` (a number on
    the link scale) replaces every row's offset."""
    data = fit.model.frame.data
    variables = _ordered_variables(fit)
    coerced = _coerced_factors(fit)
    at = dict(at or {})
    unknown = [k for k in at if k not in variables]
    if unknown:
        raise GLMMInputError(f"at names {', '.join(map(repr, unknown))}, which the fixed-effects "
                             f"formula does not use; its variables are: {', '.join(variables)}")
    levels, factors = {}, []
    for v in variables:
        col = data[v]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels[v] = _restricted(list(col.cat.categories), v, at)
            factors.append(v)
        elif v in coerced:
            levels[v] = _restricted(coerced[v], v, at)
            factors.append(v)
        elif v in at:
            levels[v] = [float(a) for a in np.atleast_1d(at[v])]
        else:
            x = col.to_numpy(dtype=float)
            distinct = np.unique(x)
            if len(distinct) <= cov_keep:
                levels[v] = [float(u) for u in distinct]
                factors.append(v)
            else:
                levels[v] = [float(np.mean(x))]
    names = list(levels)
    combos = itertools.product(*[levels[n] for n in reversed(names)])
    rows = [tuple(reversed(c)) for c in combos]
    frame = pd.DataFrame(rows, columns=names) if names else pd.DataFrame(index=range(1))
    for v in names:
        if isinstance(data[v].dtype, pd.CategoricalDtype):
            frame[v] = pd.Categorical(frame[v], categories=data[v].cat.categories)
    if offset is not None:
        offsets = np.full(len(frame), float(np.atleast_1d(offset)[0]))
    else:
        offsets = np.full(len(frame), _static_offset(fit))
        for expr in fit.model.formula.offsets:
            offsets = offsets + evaluate_expression(expr, frame)
    return ReferenceGrid(frame, levels, tuple(factors), offsets)
