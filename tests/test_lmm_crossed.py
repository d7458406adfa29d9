"""The crossed components of the profiled gaussian criterion (``glmm_lib/lmm_crossed.py``)
against the dense factorization, on small crossed, nested and random-slope designs.

The same model's profiled objective is built twice: with every component of Z'WZ formed
densely (the oracle: one Cholesky of the whole block) and with every component of two or
more grouping factors handled by elimination.  log det L, the profiled criterion and its
gradient in theta, the likelihood at a full parameter vector and its gradient, the modes
and (REML) the derivative of the fixed effects in the parameters must agree to 1e-10.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmm_lib.lmm_crossprod
from glmm_lib.lmm_reml_beta import beta_jacobian
from glmm_lib.model import GLMMModel
from glmm_lib.start import starting_values
from test_elimination import crossed

TOL = 1e-10


def weighted_crossed():
    """test_elimination's unbalanced crossing of a and b (c at random), with prior weights."""
    data = crossed()
    return data.assign(w=np.random.default_rng(3).uniform(0.5, 2.0, len(data)))


def nested_and_crossed(seed=12):
    """b nested in a, crossed with d."""
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(5), 15)
    b = np.tile(np.repeat(np.arange(5), 3), 5)
    d = rng.integers(0, 4, a.size)
    x = rng.normal(size=a.size)
    y = (0.1 + 0.5 * x + rng.normal(0, 0.6, 5)[a] + rng.normal(0, 0.4, 25)[a * 5 + b]
         + rng.normal(0, 0.5, 4)[d] + rng.normal(0, 0.5, a.size))
    return pd.DataFrame({"a": pd.Categorical([f"A{i}" for i in a]),
                         "b": pd.Categorical([f"b{i}" for i in b]),
                         "d": pd.Categorical([f"d{i}" for i in d]), "x": x, "y": y})


DESIGNS = {
    "two crossed": (weighted_crossed, "y ~ x + (1|a) + (1|b)", {}),
    "three crossed, weights": (weighted_crossed, "y ~ x + (1|a) + (1|b) + (1|c)",
                               {"weights": "w"}),
    "slope on the eliminated factor": (weighted_crossed, "y ~ x + (x|a) + (1|b)", {}),
    "slope on the smaller factor": (weighted_crossed, "y ~ x + (1|a) + (x|b)", {}),
    "two terms on a": (weighted_crossed, "y ~ x + (1|a) + (0 + x|a) + (1|b)", {}),
    "diagonal slopes on both": (weighted_crossed, "y ~ x + (x||a) + (x|b)", {}),
    "nested and crossed": (nested_and_crossed, "y ~ x + (1|a/b) + (1|d)", {}),
}


def objectives(key, reml, monkeypatch):
    """(dense, crossed) profiled objectives of one model."""
    make, formula, kwargs = DESIGNS[key]
    data = make()
    out = []
    for eliminate_from in (10**9, 2):
        monkeypatch.setattr(glmm_lib.lmm_crossprod, "ELIMINATE_FROM", eliminate_from)
        # a model of its own each time: a model keeps its cross-products once formed
        model = GLMMModel(formula, data, REML=reml, **kwargs)
        out.append(model.objective())
    assert not out[0].cross.crossed and out[1].cross.crossed
    return model, out[0], out[1]


def away_from_optimum(model, objective):
    p = starting_values(model)
    return objective.start(p + np.random.default_rng(0).normal(0, 0.3, p.size))


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("key", list(DESIGNS))
def test_crossed_factorization_gives_the_dense_criterion_and_gradient(key, reml, monkeypatch):
    model, dense, crossed_ = objectives(key, reml, monkeypatch)
    p = away_from_optimum(model, dense)
    theta = p[dense.layout.theta]
    factors = dense.re.factors(theta)
    close(crossed_.factorize(factors).logdet_L, dense.factorize(factors).logdet_L)
    for ours, theirs in zip(crossed_.profiled(theta), dense.profiled(theta)):
        close(ours, theirs)
    state_c, state_d = crossed_.mode(p), dense.mode(p)
    close(state_c.value, state_d.value)
    close(state_c.b, state_d.b)
    close(crossed_.gradient(state_c), dense.gradient(state_d))
    if reml:        # d beta / d p, which the REML standard errors read
        close(beta_jacobian(crossed_, state_c), beta_jacobian(dense, state_d))


def test_a_new_response_gives_the_criterion_of_a_fit_from_scratch(monkeypatch):
    """Both factorizations' products with a new response (weighted rows) against the
    model built on that response."""
    model, dense, crossed_ = objectives("three crossed, weights", False, monkeypatch)
    y = np.random.default_rng(5).normal(size=model.nobs)
    make, formula, kwargs = DESIGNS["three crossed, weights"]
    scratch = GLMMModel(formula, make().assign(y=y), **kwargs).objective()
    theta = away_from_optimum(model, dense)[dense.layout.theta]
    for objective in (crossed_, dense):
        for ours, theirs in zip(objective.with_response(y).profiled(theta),
                                scratch.profiled(theta)):
            close(ours, theirs)
