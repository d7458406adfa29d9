"""A model's distinct rows, each weighted by how often it occurs.

Rows that agree in everything the likelihood reads (the row of X, the offset,
the response and trials, each random term's level and design values, and the
auxiliary designs) contribute identical terms to the log density, and prior
weights multiply those terms.  So the model on its distinct rows, with the
summed weights, has the same Laplace likelihood, gradient and inner Hessian
in fewer rows: a designed experiment such as webworms (1300 rows, 4 treatments
x 13 blocks x counts 0-9) has 205.  The fit runs on them; the results are
then computed on every row again.
"""
from __future__ import annotations

import numpy as np

# Collapsing pays when it at least halves the rows; otherwise the per-row work saved is
# smaller than the bookkeeping.
MOST_DISTINCT = 0.5
SAMPLE_ROWS = 5_000


class DistinctRows:
    """The attributes of a model that the Laplace objective reads, on distinct rows."""

    def __init__(self, model, first, weights):
        self.family = model.family
        self.parameters = model.parameters
        self.X = np.ascontiguousarray(model.X[first])
        self.y = model.y[first]
        self.trials = model.trials[first]
        self.offset = model.offset[first]
        self.weights = weights
        self.weighted = True
        self.nobs = first.size
        self.random_effects = model.random_effects.take(first)
        self.aux_designs = {name: design[first] for name, design in model.aux_designs.items()}
        self.aux_offsets = model.aux_offsets


def row_key(model, rows=slice(None)) -> np.ndarray:
    """Every value the likelihood reads from a row, one row of floats per observation."""
    parts = [model.X[rows], model.offset[rows, None], model.y[rows, None],
             model.trials[rows, None]]
    for term in model.random_effects.terms:
        parts += [term.codes[rows, None].astype(float), term.design.X[rows]]
    parts += [design[rows] for design in model.aux_designs.values() if design.shape[1]]
    return np.hstack(parts)


def _projection(key):
    """One float per row, equal for equal rows bit for bit: summed column by column with
    elementwise operations, each rounded once, where a BLAS product may round rows in
    different kernels (the tail of a block, another thread) differently."""
    direction = np.random.default_rng(0).standard_normal(key.shape[1])
    projection = np.zeros(key.shape[0])
    for column, weight in zip(key.T, direction):
        projection += column * weight
    return projection


def collapse(model):
    """``DistinctRows`` of ``model``, or None when under half of its rows repeat.

    Rows are grouped by a random projection of their values and each group is then
    checked value by value, so two different rows are never merged; should a
    projection ever coincide, the model is used as it is.  On large data a sample of
    rows is looked at first: a continuous covariate makes nearly every sampled row
    distinct, and then sorting all the rows is not worth its time."""
    if model.nobs > 4 * SAMPLE_ROWS:
        sample = np.random.default_rng(0).choice(model.nobs, SAMPLE_ROWS, replace=False)
        if np.unique(_projection(row_key(model, sample))).size > MOST_DISTINCT * SAMPLE_ROWS:
            return None
    key = row_key(model)
    _, first, inverse = np.unique(_projection(key), return_index=True, return_inverse=True)
    if first.size > MOST_DISTINCT * model.nobs:
        return None
    inverse = inverse.ravel()
    if not np.array_equal(key, key[first[inverse]]):
        return None
    weights = np.bincount(inverse, weights=model.weights, minlength=first.size)
    return DistinctRows(model, first, weights)
