"""The profiled gaussian objective (lmm_profiled, lmm_crossprod, lmm_reml_beta, stacked).

- its log-likelihood at any parameter vector equals the general Laplace objective's (exact
  for a gaussian model, computed row by row, sharing none of the cross-product algebra)
  and, under REML, the REML objective's, for every random-effects form and with weights;
- the maximum of the profiled criterion over theta alone is where the full gradient is zero;
- the rows the results read (eta, A, the factors of H), made only then, are the general
  objective's, and the Hessian's exact beta block agrees with differences of the gradient;
- the closed-form derivative of the REML fixed effects in the parameters (their standard
  errors) agrees with differences of the GLS solution;
- a refit with a new response (cross-products of y only) gives the fit of that response
  from scratch;
- the stacked Cholesky factor and inverse agree with numpy's.
The fitted numbers themselves are checked against glmmTMB and lme4 in test_glmmtmb.py,
test_weights_glmmtmb.py and test_ddf.py, which fit through this objective.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib import stacked
from glmm_lib.differences import central_jacobian
from glmm_lib.laplace import LaplaceObjective
from glmm_lib.lmm_profiled import ProfiledGaussianObjective
from glmm_lib.lmm_reml_beta import beta_jacobian
from glmm_lib.model import GLMMModel
from glmm_lib.optimizer import numeric_hessian
from glmm_lib.reml import REMLObjective
from glmm_lib.start import starting_values


def gaussian_data(seed=7):
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(6), 20)
    b = np.tile(np.repeat(np.arange(4), 5), 6)
    c = rng.integers(0, 5, a.size)
    time = np.tile(np.arange(5), 24)
    x = rng.normal(size=a.size)
    y = (1 + 0.5 * x + rng.normal(0, 0.8, 6)[a] + rng.normal(0, 0.3, (6, 2))[a, 1] * x
         + rng.normal(0, 0.5, 24)[a * 4 + b] + rng.normal(0, 0.4, 5)[c]
         + rng.normal(0, 0.6, a.size))
    return pd.DataFrame({"a": pd.Categorical([f"a{i}" for i in a]),
                         "b": pd.Categorical([f"b{i}" for i in b]),
                         "c": pd.Categorical([f"c{i}" for i in c]),
                         "time": pd.Categorical([f"t{i}" for i in time]), "x": x, "y": y,
                         "w": rng.uniform(0.5, 2.0, a.size)})


FORMS = {
    "scalar": ("y ~ x + (1|a)", {}),
    "us slopes": ("y ~ x + (x|a)", {}),
    "diag": ("y ~ x + (x||a)", {}),
    "nested": ("y ~ x + (1|a/b)", {}),
    "crossed": ("y ~ x + (1|a) + (1|c)", {}),
    "cs with a nugget": ("y ~ x + cs(0 + time|a)", {}),
    "ar1 with a nugget": ("y ~ x + ar1(0 + time|a)", {}),
    "weights": ("y ~ x + (x|a)", {"weights": "w"}),
    "offset": ("y ~ x + (1|a) + offset(x)", {}),
}


def away_from_optimum(model, seed=0):
    p = starting_values(model)
    return p + np.random.default_rng(seed).normal(0, 0.2, p.size)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("reml", [False, True])
def test_value_equals_the_general_objective(form, reml):
    formula, kwargs = FORMS[form]
    model = GLMMModel(formula, gaussian_data(), REML=reml, **kwargs)
    profiled = model.objective()
    assert isinstance(profiled, ProfiledGaussianObjective)
    general = REMLObjective(model) if reml else LaplaceObjective(model)
    p = profiled.start(away_from_optimum(model))
    ours, theirs = profiled.mode(p), general.mode(p)
    assert ours.value == pytest.approx(theirs.value, rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(ours.b, theirs.b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("reml", [False, True])
def test_profiled_maximum_is_a_stationary_point(reml):
    model = GLMMModel("y ~ x + (x|a) + (1|c)", gaussian_data(), REML=reml)
    objective = model.objective()
    p, _ = objective.optimize_theta(objective.re.theta_start())
    gradient = objective.gradient(objective.mode(p))
    assert np.max(np.abs(gradient)) < 1e-4


@pytest.mark.filterwarnings("ignore::glmm_lib.SingularFitWarning")   # nested: a at zero
@pytest.mark.parametrize("form", ["us slopes", "nested", "crossed", "weights", "offset"])
def test_final_rows_are_the_general_objectives(form):
    """The pass over the rows the results make when they first read eta, A or the factors
    of H gives the general objective's, whose mode is exact for a gaussian model."""
    formula, kwargs = FORMS[form]
    fit = gl.glmm(formula, gaussian_data(), **kwargs)
    general = LaplaceObjective(fit.model)
    theirs = general.final_state(fit.state.params)
    np.testing.assert_allclose(fit.state.eta, theirs.eta, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fit.state.A, theirs.A, rtol=1e-12)
    assert general.blocks.logdet(fit.state.chol) == pytest.approx(
        general.blocks.logdet(theirs.chol), rel=1e-9)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("form", ["us slopes", "crossed", "weights"])
def test_hessian_beta_block_is_exact(form, reml):
    """Under ML the Hessian's beta block is X'V^-1X from the cross-products; differences of
    the exact gradient in every parameter give the same matrix to their truncation error
    (the log sigma^2 column taken along the direction that keeps Lambda / sigma)."""
    formula, kwargs = FORMS[form]
    fit = gl.glmm(formula, gaussian_data(), REML=reml, **kwargs)
    objective = fit.model.objective()
    p = fit.state.params
    state = objective.mode(p)
    grad = -objective.gradient(state)

    def gradient(q):
        return -objective.gradient(objective.mode(q))

    ours = objective._hessian(gradient, p, grad, state)
    differences = numeric_hessian(gradient, p, grad)
    np.testing.assert_allclose(ours, differences, rtol=1e-4, atol=1e-4 * np.abs(ours).max())
    beta = objective.layout.beta
    np.testing.assert_allclose(ours[beta, beta], differences[beta, beta], rtol=1e-7)


@pytest.mark.filterwarnings("ignore::glmm_lib.SingularFitWarning")   # nested: a at zero
@pytest.mark.parametrize("form", ["scalar", "us slopes", "nested", "crossed", "weights",
                                  "cs with a nugget"])
def test_reml_beta_jacobian_is_the_derivative_of_the_gls_solution(form):
    """The closed form of d beta_hat / d p (REML standard errors) against central
    differences of beta_hat, at the optimum and away from it."""
    formula, kwargs = FORMS[form]
    fit = gl.glmm(formula, gaussian_data(), REML=True, **kwargs)
    objective = fit.model.objective()
    for p in (fit.state.params, fit.state.params + np.random.default_rng(1).normal(
            0, 0.2, fit.state.params.size)):
        ours = beta_jacobian(objective, objective.mode(p))
        differences = central_jacobian(lambda q: objective.mode(q).profiled[1], p)
        np.testing.assert_allclose(ours, differences, rtol=1e-5,
                                   atol=1e-6 * np.abs(differences).max())


def test_refit_with_a_new_response_is_a_fit_from_scratch():
    data = gaussian_data()
    fit = gl.glmm("y ~ x + (x|a)", data)
    objective = fit.model.objective()
    y_new = np.asarray(fit.simulate(nsim=2, seed=3)).reshape(len(data), 2)
    estimates, logliks = objective.refit(y_new)
    for k in range(2):
        scratch = gl.glmm("y ~ x + (x|a)", data.assign(y=y_new[:, k]))
        np.testing.assert_allclose(estimates[k], scratch.optimizer.end, rtol=1e-4, atol=1e-4)
        assert logliks[k] == pytest.approx(scratch.state.value, abs=1e-6)


def test_new_response_of_the_wrong_length_is_refused():
    objective = GLMMModel("y ~ x + (1|a)", gaussian_data()).objective()
    with pytest.raises(gl.GLMMInputError, match="new response"):
        objective.with_response(np.ones(5))


@pytest.mark.parametrize("size", [1, 2, 3, 9])
def test_stacked_cholesky_inverse_matches_numpy(size):
    rng = np.random.default_rng(size)
    a = rng.normal(size=(50, size, size))
    H = a @ np.swapaxes(a, 1, 2) + np.eye(size)
    logdet, inverse = stacked.cholesky_inverse(H)
    chol = np.linalg.cholesky(H)
    np.testing.assert_allclose(inverse, np.linalg.inv(chol), rtol=1e-10, atol=1e-12)
    assert logdet == pytest.approx(0.5 * np.sum(np.linalg.slogdet(H)[1]), rel=1e-12)
    b = rng.normal(size=(50, size, 4))
    np.testing.assert_allclose(stacked.matmul(H, b), H @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stacked.matmul(a[0], b), a[0] @ b, rtol=1e-12, atol=1e-12)
