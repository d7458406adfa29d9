"""REML for gaussian models whose residual variance is fixed (``dispformula = ~0``),
computed from V (``marginal.GaussianMarginalREMLObjective``).

Oracles: the dense REML criterion written out from V = Z G Z' + sigma^2 I here, with
numpy alone; the ordinary split plot (the same model with the subplot term as the
residual), whose REML optimum the fixed-residual model must reach; central differences
for the gradient.  The Laplace form of this REML solved with H, whose entries are of order
1/sigma^2 = 4.5e15: its gradient was round-off, and the search ended in different places
on different BLAS kernels (each short of this optimum by 1e-4 to 5e-4 in logLik).
"""
from __future__ import annotations

import numpy as np
import pytest

import glmm_lib as gl
from glmm_lib import datasets
from glmm_lib.marginal import GaussianMarginalREMLObjective
from glmm_lib.model import GLMMModel

SPLIT_PLOT = "yield ~ nitro * Variety + (1|Block) + (1|Block:Variety)"
FIXED_RESIDUAL = SPLIT_PLOT + " + (1|Block:Variety:nitro)"


def oats():
    return datasets.load("yates_oats")


def dense_reml(model, theta):
    """-1/2 [log|V| + log|X'V^-1X| + r'V^-1 r + (n - p) log 2 pi] with V built from dense Z."""
    re = model.random_effects
    n, X, y = model.nobs, model.X, model.y
    columns, variances = [], []
    for term, sl in zip(re.terms, re.theta_slices):
        sd = float(np.exp(theta[sl][0]))          # each term here is a scalar (1|g)
        Z = np.zeros((n, term.n_levels))
        Z[np.arange(n), term.codes] = 1.0
        columns.append(Z)
        variances.append(np.full(term.n_levels, sd ** 2))
    Z, G = np.hstack(columns), np.diag(np.concatenate(variances))
    sigma2 = np.exp(2 * model.family.fixed_dispersion)
    V = Z @ G @ Z.T + sigma2 * np.eye(n)
    Vinv = np.linalg.inv(V)
    S = X.T @ Vinv @ X
    beta = np.linalg.solve(S, X.T @ Vinv @ y)
    r = y - X @ beta
    p = X.shape[1]
    return -0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(S)[1] + r @ Vinv @ r
                   + (n - p) * np.log(2 * np.pi))


@pytest.fixture(scope="module")
def model():
    return GLMMModel(FIXED_RESIDUAL, oats(), REML=True, dispformula="~0")


def test_fixed_residual_reml_takes_the_marginal_objective(model):
    assert isinstance(model.objective(), GaussianMarginalREMLObjective)


@pytest.mark.parametrize("theta", [(2.7, 2.3, 2.6), (1.0, 3.0, 2.0), (3.5, 0.5, 2.9)])
def test_value_is_the_dense_reml_criterion(model, theta):
    objective = model.objective()
    theta = np.array(theta)
    assert objective.mode(theta).value == pytest.approx(dense_reml(model, theta),
                                                        rel=1e-10, abs=1e-8)


def test_gradient_matches_central_differences(model):
    objective = model.objective()
    theta = np.array([2.2, 2.9, 2.4])
    grad = objective.gradient(objective.mode(theta))
    h = 1e-5
    fd = [(objective.mode(theta + h * e).value - objective.mode(theta - h * e).value) / (2 * h)
          for e in np.eye(theta.size)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_reaches_the_ordinary_split_plots_reml_optimum():
    """The subplot term with the residual variance fixed near zero is the split plot's
    residual: the same REML log-likelihood, variance components and fixed effects."""
    ordinary = gl.glmm(SPLIT_PLOT, oats(), REML=True)
    fixed = gl.glmm(FIXED_RESIDUAL, oats(), REML=True, dispformula="~0")
    assert fixed.converged
    assert fixed.llf == pytest.approx(ordinary.llf, rel=1e-9)
    sds = fixed.varcorr.set_index("group")["sd"]
    assert sds["Block:Variety:nitro"] == pytest.approx(ordinary.sigma, rel=1e-4)
    assert sds["Block"] == pytest.approx(ordinary.varcorr.set_index("group")["sd"]["Block"],
                                         rel=1e-4)
    np.testing.assert_allclose(fixed.params, ordinary.params, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fixed.bse, ordinary.bse, rtol=1e-4)
