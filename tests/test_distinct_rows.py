"""The fit on a model's distinct rows (``glmm_lib.distinct_rows``).

Identical rows weighted by their multiplicity must give the Laplace likelihood and
gradient of the model on all its rows, for every family and design the objective
supports, and never merge two rows that differ.  The model on all rows is checked
against glmmTMB elsewhere (test_glmmtmb), so agreement here carries that over."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib import distinct_rows
from glmm_lib.model import GLMMModel
from glmm_lib.start import starting_values


def designed(seed=7):
    """A designed experiment: 3 treatments x 8 blocks x 20 plots with small counts, so
    many plots repeat exactly; plot weights and sizes take two values each."""
    rng = np.random.default_rng(seed)
    trt = np.tile(np.repeat(["A", "B", "C"], 20), 8)
    block = np.repeat([f"b{i}" for i in range(8)], 60)
    effect = rng.normal(0, 0.5, 8)[np.repeat(np.arange(8), 60)]
    size = rng.choice([1.0, 2.0], trt.size)
    eta = -0.3 + 0.6 * (trt == "B") - 0.4 * (trt == "C") + effect + np.log(size)
    n = rng.choice([4.0, 6.0], trt.size)
    return pd.DataFrame({
        "trt": trt, "block": block, "size": size, "n": n,
        "count": rng.poisson(np.exp(eta)).astype(float),
        "nb": rng.poisson(rng.gamma(2.0, np.exp(eta) / 2.0)).astype(float),
        "s": rng.binomial(n.astype(int), 1 / (1 + np.exp(-eta + np.log(size)))).astype(float),
        "w": rng.choice([0.5, 1.5], trt.size),
    })


MODELS = {
    "nbinom1": ("nb ~ trt + (1|block)", dict(family="nbinom1")),
    "nbinom2 offset": ("nb ~ trt + offset(log(size)) + (1|block)", dict(family="nbinom2")),
    "poisson weights": ("count ~ trt + (1|block)", dict(family="poisson", weights="w")),
    "binomial cbind": ("cbind(s, n - s) ~ trt + (1|block)", dict(family="binomial")),
    "poisson zero-inflated": ("count ~ trt + (1|block)", dict(family="poisson", ziformula="~trt")),
    "nbinom1 dispformula": ("nb ~ trt + (1|block)", dict(family="nbinom1", dispformula="~trt")),
    "poisson random slope": ("count ~ trt + (trt|block)", dict(family="poisson")),
}


@pytest.mark.parametrize("key", list(MODELS))
def test_distinct_rows_give_the_same_likelihood_and_gradient(key):
    formula, kwargs = MODELS[key]
    model = GLMMModel(formula, designed(), **kwargs)
    every_row = model.objective()
    distinct = model.objective(on_distinct_rows=True)
    assert distinct.model is not model, "these data repeat rows: the objective should use that"
    assert distinct.model.nobs < model.nobs / 2
    rng = np.random.default_rng(3)
    start = starting_values(model)
    for _ in range(3):
        p = start + rng.normal(0, 0.2, start.size)
        full, fewer = every_row.mode(p), distinct.mode(p)
        assert fewer.value == pytest.approx(full.value, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(distinct.gradient(fewer), every_row.gradient(full),
                                   rtol=1e-8, atol=1e-8)


def test_fit_on_distinct_rows_reports_every_row():
    df = designed()
    fit = gl.glmm("nb ~ trt + (1|block)", df, family="nbinom1")
    full = fit.model.objective()
    assert fit.llf == pytest.approx(full.value(fit.optimizer.end), abs=1e-9)
    assert fit.predict().shape == (len(df),)
    assert fit.simulate(2, seed=1).shape == (len(df), 2)
    assert fit.converged


def test_rows_that_differ_are_not_collapsed():
    df = designed()
    df["x"] = np.random.default_rng(1).normal(size=len(df))     # every row now distinct
    model = GLMMModel("nb ~ trt + x + (1|block)", df, family="nbinom1")
    assert distinct_rows.collapse(model) is None
    assert model.objective(on_distinct_rows=True).model is model


def test_projection_ties_are_checked_value_by_value(monkeypatch):
    """Were the random projection to map different rows to one number, the rows are
    compared value by value and nothing is merged."""
    model = GLMMModel("nb ~ trt + (1|block)", designed(), family="nbinom1")

    class Flat:
        def standard_normal(self, size):
            return np.zeros(size)             # every row projects to 0

    monkeypatch.setattr(distinct_rows.np.random, "default_rng", lambda seed: Flat())
    assert distinct_rows.collapse(model) is None


def test_weights_of_distinct_rows_add_up():
    model = GLMMModel("count ~ trt + (1|block)", designed(), family="poisson", weights="w")
    collapsed = distinct_rows.collapse(model)
    assert collapsed.weights.sum() == pytest.approx(model.weights.sum())
    assert collapsed.random_effects.q == model.random_effects.q
