"""The models of the last few fits, reused when ``glmm`` is given the same model again.

Building a model from a data frame (the frame, X, Z, the parameter table) costs about a
millisecond of pandas calls whatever the size of the data: a third of fitting a small
linear mixed model.  A course page or a script often fits the same formula to the same
data more than once; the model built the first time then serves again.

A model is reused only when it is certainly the one a new build would give:
  - the arguments are the same plain values (strings, None, booleans); a family object or
    arrays of weights or offsets are not compared, and such a model is not kept;
  - the data have the same row labels, and every column the model read is, value for
    value, level for level, the same as then (the data may have changed in place since);
  - no row was dropped for missing values (the fit then warns about it, each time).
Models are immutable once built (``refit.with_response`` copies one), so two fits may
share one.  Large data are not kept: checking the columns is a pass over the rows, and
the build is then a small part of the fit.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

MAX_ROWS = 50_000
KEPT = 8

_models: OrderedDict = OrderedDict()


def _key(formula, arguments):
    plain = (str, bool, type(None))
    if not isinstance(formula, str) or not all(isinstance(a, plain) for a in arguments):
        return None
    return (formula, *arguments)


def _column(data, name, copy=False):
    """What the model reads of a column: its dtype and values, a factor's levels and codes."""
    col = data[name] if name in data.columns else None
    if not isinstance(col, pd.Series):          # missing, or several columns of that name
        return None
    values = col.array
    if isinstance(values, pd.Categorical):
        # dtype equality ignores the order of unordered levels: the design does not
        return ("factor", values.ordered, values.categories.to_numpy(copy=copy),
                values.codes.copy() if copy else values.codes)
    return (str(col.dtype), col.to_numpy(copy=copy))


def _same(first, second) -> bool:
    return (first is not None and second is not None and len(first) == len(second)
            and all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
                    for a, b in zip(first, second)))


def _snapshot(model, data):
    return (data.index.copy(), {name: _column(data, name, copy=True)
                                for name in model.frame.data.columns})


def _unchanged(snapshot, data) -> bool:
    index, columns = snapshot
    return (isinstance(data, pd.DataFrame) and index.equals(data.index)
            and all(_same(kept, _column(data, name)) for name, kept in columns.items()))


def cached(formula, data, arguments):
    """The model kept for these arguments if ``data`` still hold what it was built from."""
    key = _key(formula, arguments)
    entry = None if key is None else _models.get(key)
    if entry is None or not _unchanged(entry[1], data):
        return None
    _models.move_to_end(key)
    return entry[0]


def keep(model, formula, data, arguments) -> None:
    key = _key(formula, arguments)
    if key is None or model.nobs > MAX_ROWS or model.frame.n_dropped:
        return
    _models[key] = (model, _snapshot(model, data))
    _models.move_to_end(key)
    while len(_models) > KEPT:
        _models.popitem(last=False)


def clear() -> None:
    """Forget every kept model (benchmarks/bench_lmm.py times a build from scratch with it)."""
    _models.clear()
