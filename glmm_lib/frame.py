"""The model frame: the rows and columns a formula uses, checked and cleaned.

Rows with a missing value in any used column are dropped (as R's na.omit),
with a warning that gives the count.  Text, boolean and categorical columns
become pandas categoricals: a categorical keeps its level order, text is
sorted (R's default), grouping columns are always factors.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import GLMMInputError, first_rows
from .formula import ParsedFormula, evaluate_expression, expression_variables, plain_terms


class MissingValuesWarning(UserWarning):
    """Rows with missing values in the model's columns were dropped."""


@dataclass
class ModelFrame:
    data: pd.DataFrame          # used rows, factors as categoricals
    response_name: str
    y: np.ndarray               # successes for binomial
    trials: np.ndarray          # binomial trials (ones otherwise)
    weights: np.ndarray         # prior weights multiplying the log-likelihood
    offset: np.ndarray
    n_dropped: int
    dropped_index: pd.Index

    @property
    def nobs(self):
        return len(self.y)


def _rhs_variables(rhs, data):
    """Columns a right-hand side uses, in the order written (``trt + log(total.fruits)``)."""
    plain = plain_terms(rhs)
    if plain is not None:       # ``trt + x``: the names are the terms
        return plain
    return expression_variables(rhs)


def _argument_variables(value, data):
    """Columns used by a weights= or offset= string: a column name, or an R expression of
    columns as glmmTMB takes it (``offset = log(BroodSize)`` -> ``offset="log(BroodSize)"``)."""
    if not isinstance(value, str):
        return []
    return [value] if value in data.columns else expression_variables(value)


def _argument_values(value, frame):
    if value in frame.columns:
        return frame[value].to_numpy(dtype=float)
    return evaluate_expression(value, frame)


def as_factor(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if np.bincount(codes[codes >= 0], minlength=len(series.cat.categories)).all():
            return series
        return series.cat.remove_unused_categories()
    values = series.astype(str) if series.dtype == bool else series
    levels = sorted(pd.unique(values.dropna()), key=lambda v: (str(type(v)), v))
    return pd.Series(pd.Categorical(values, categories=levels), index=series.index, name=series.name)


def build_model_frame(parsed: ParsedFormula, data, family, weights=None, offset=None,
                      extra_formulas=()) -> ModelFrame:
    """``extra_formulas``: right-hand sides (zero-inflation, dispersion) whose columns the
    frame must also hold."""
    if not isinstance(data, pd.DataFrame):
        raise GLMMInputError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    response_vars = [v for part in parsed.response_parts for v in expression_variables(part)]
    fixed_vars = _rhs_variables(parsed.fixed, data)
    for rhs in extra_formulas:
        fixed_vars += _rhs_variables(rhs, data)
    offset_vars = [v for e in parsed.offsets for v in expression_variables(e)]
    group_vars, slope_vars = [], []
    for term in parsed.random:
        group_vars += [g.strip().strip("`") for g in term.group.split(":")]
        slope_vars += _rhs_variables(term.lhs, data)
    weight_vars = _argument_variables(weights, data)
    offset_arg_vars = _argument_variables(offset, data)
    used = list(dict.fromkeys(response_vars + fixed_vars + offset_vars + slope_vars + group_vars
                              + weight_vars + offset_arg_vars))
    missing = [v for v in used if v not in data.columns]
    if missing:
        raise GLMMInputError(
            f"column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"not found in the data; the columns are: {', '.join(map(str, data.columns))}")

    repeated = [v for v in used if isinstance(data[v], pd.DataFrame)]
    if repeated:
        raise GLMMInputError(f"the data have more than one column named {repeated[0]!r}; "
                             "rename them so the formula says which one it means")
    frame = pd.DataFrame({column: data[column] for column in used})
    extra = {}
    for name, value in (("weights", weights), ("offset", offset)):
        if value is not None and not isinstance(value, str):
            arr = np.asarray(value, dtype=float).ravel()
            if arr.shape[0] != len(data):
                raise GLMMInputError(f"{name} has {arr.shape[0]} values but the data have "
                                     f"{len(data)} rows")
            extra[name] = arr
    na_mask = np.array(frame.isna().any(axis=1).to_numpy(), dtype=bool)
    for arr in extra.values():
        na_mask |= np.isnan(arr)
    n_dropped = int(na_mask.sum())
    dropped_index = data.index[na_mask]
    if n_dropped:
        bad_cols = [c for c in used if frame[c].isna().any()]
        warnings.warn(f"{n_dropped} row{'s' if n_dropped > 1 else ''} with missing values in "
                      f"{', '.join(bad_cols) or 'weights/offset'} dropped "
                      f"(first: {', '.join(map(str, dropped_index[:5]))})",
                      MissingValuesWarning, stacklevel=3)
        frame = frame.loc[~na_mask]
        extra = {k: v[~na_mask] for k, v in extra.items()}
    if len(frame) == 0:
        raise GLMMInputError("no rows left to fit after dropping rows with missing values")

    for col in frame.columns:
        column = frame[col]
        if col in group_vars or not pd.api.types.is_numeric_dtype(column) or column.dtype == bool:
            factor = as_factor(column)
            if factor is not column:
                frame[col] = factor

    y, trials, response_name = _response(parsed, frame, family)
    if isinstance(weights, str):
        w = _argument_values(weights, frame)
    else:
        w = extra.get("weights", np.ones(len(frame)))
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise GLMMInputError(f"weights must be finite and non-negative; rows "
                             f"{first_rows(bad, frame.index)} are not")
    if family.has_trials and len(parsed.response_parts) == 1 and weights is not None:
        # a proportion with weights = number of trials, as glm() takes it
        if np.any((y < 0) | (y > 1)):
            raise GLMMInputError(f"with weights, the binomial response {response_name!r} must be a "
                                 f"proportion in [0, 1]; rows "
                                 f"{first_rows((y < 0) | (y > 1), frame.index)} are not")
        y, trials, w = y * w, w.copy(), np.ones(len(frame))
        y = np.where(np.abs(y - np.round(y)) < 1e-6, np.round(y), y)
    family.check_response(y, trials, frame.index, response_name)

    off = np.zeros(len(frame))
    for expr in parsed.offsets:
        off += evaluate_expression(expr, frame)
    if isinstance(offset, str):
        off += _argument_values(offset, frame)
    elif "offset" in extra:
        off += extra["offset"]
    bad = ~np.isfinite(off)
    if bad.any():
        raise GLMMInputError(f"the offset is not finite at rows {first_rows(bad, frame.index)} "
                             "(log of zero or of a negative value?)")
    return ModelFrame(frame, response_name, y, trials, w, off, n_dropped, dropped_index)


def _response(parsed, frame, family):
    parts = parsed.response_parts
    name = parsed.response
    if len(parts) == 2:
        if not family.has_trials:
            raise GLMMInputError(f"cbind(successes, failures) is a binomial response; the "
                                 f"{family.name} family takes a single response column")
        succ = evaluate_expression(parts[0], frame)
        fail = evaluate_expression(parts[1], frame)
        bad = fail < 0
        if bad.any():
            raise GLMMInputError(f"binomial response {name}: successes exceed trials "
                                 f"(failures {parts[1]!r} negative) at rows "
                                 f"{first_rows(bad, frame.index)}")
        return succ, succ + fail, name
    expr = parts[0]
    column = expr.strip("` ")
    if column in frame.columns and isinstance(frame[column].dtype, pd.CategoricalDtype):
        if not family.has_trials or len(frame[column].cat.categories) != 2:
            raise GLMMInputError(f"response {column!r} is a factor; the {family.name} family needs "
                                 "numbers" + (" (a two-level factor for binomial)"
                                              if family.has_trials else ""))
        y = (frame[column].cat.codes.to_numpy() == 1).astype(float)
        return y, np.ones(len(frame)), column
    try:
        if column in frame.columns:
            y = np.array(frame[column], dtype=float)
        else:
            y = evaluate_expression(expr, frame)
    except (TypeError, ValueError):
        raise GLMMInputError(f"response {expr!r} is not numeric") from None
    return y, np.ones(len(frame)), expr
