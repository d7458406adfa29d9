"""Stage 4: the Laplace objective, its inner mode and its exact gradient.

- the gradient ``LaplaceObjective.gradient`` against central finite differences of
  ``LaplaceObjective.value`` for several families and random-effect structures;
- for a gaussian LMM the Laplace approximation is exact: its value must equal the marginal
  log-likelihood computed densely with scipy.stats.multivariate_normal (y ~ N(X beta,
  Z G Z' + sigma^2 I)), an oracle that shares no code with glmm_lib, and the inner mode must
  be the BLUP G Z' V^-1 (y - X beta);
- for a GLMM with one random intercept the Laplace value must equal an independent
  one-dimensional Laplace approximation per group (scipy's scalar optimizer).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.optimize
from scipy import special, stats

from glmm_lib.model import GLMMModel
from glmm_lib.start import starting_values

RNG = np.random.default_rng(4)


# ---------------------------------------------------------------- small simulated data

def grouped(n_groups=15, per=6, seed=1):
    rng = np.random.default_rng(seed)
    g = np.repeat([f"g{i:02d}" for i in range(n_groups)], per)
    x = rng.normal(size=g.size)
    u = rng.normal(0, 0.6, n_groups)[np.repeat(np.arange(n_groups), per)]
    slope = rng.normal(0, 0.3, n_groups)[np.repeat(np.arange(n_groups), per)]
    eta = 0.4 + 0.5 * x + u
    n = rng.integers(3, 12, g.size)
    return pd.DataFrame({
        "g": pd.Categorical(g), "x": x,
        "count": rng.poisson(np.exp(eta)).astype(float),
        "nb": rng.poisson(rng.gamma(2.0, np.exp(eta) / 2.0)).astype(float),
        "n": n.astype(float), "s": rng.binomial(n, special.expit(eta - 0.4)).astype(float),
        "y": 1.0 + (0.5 + slope) * x + u + rng.normal(0, 0.5, g.size),
        "w": rng.uniform(0.5, 2.0, g.size),
    })


def crossed(seed=2):
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(8), np.arange(6), indexing="ij")
    a, b = np.repeat(a.ravel(), 2), np.repeat(b.ravel(), 2)
    x = rng.normal(size=a.size)
    eta = -0.2 + 0.4 * x + rng.normal(0, 0.7, 8)[a] + rng.normal(0, 0.4, 6)[b]
    n = rng.integers(4, 10, a.size)
    return pd.DataFrame({"a": pd.Categorical([f"a{i}" for i in a]),
                         "b": pd.Categorical([f"b{i}" for i in b]), "x": x, "n": n.astype(float),
                         "s": rng.binomial(n, special.expit(eta)).astype(float),
                         "y": eta + rng.normal(0, 0.5, a.size)})


def nested(seed=3):
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(6), 12)
    b = np.tile(np.repeat(np.arange(3), 4), 6)          # b labels reused within each a
    x = rng.normal(size=a.size)
    eta = 0.1 + 0.5 * x + rng.normal(0, 0.6, 6)[a] + rng.normal(0, 0.4, 18)[a * 3 + b]
    n = rng.integers(4, 10, a.size)
    return pd.DataFrame({"a": pd.Categorical([f"A{i}" for i in a]),
                         "b": pd.Categorical([f"b{i}" for i in b]), "x": x, "n": n.astype(float),
                         "s": rng.binomial(n, special.expit(eta)).astype(float)})


def longitudinal(n_id=12, n_time=5, seed=5):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_id), n_time)
    t = np.tile(np.arange(n_time), n_id)
    rho = 0.6
    lat = np.zeros((n_id, n_time))
    lat[:, 0] = rng.normal(0, 0.5, n_id)
    for k in range(1, n_time):
        lat[:, k] = rho * lat[:, k - 1] + rng.normal(0, 0.5 * np.sqrt(1 - rho**2), n_id)
    x = rng.normal(size=ids.size)
    eta = 0.5 + 0.3 * x + lat.ravel()
    return pd.DataFrame({"id": pd.Categorical([f"i{i:02d}" for i in ids]),
                         "time": pd.Categorical([f"t{k}" for k in t]), "x": x,
                         "count": rng.poisson(np.exp(eta)).astype(float),
                         "y": eta + rng.normal(0, 0.3, ids.size)})


MODELS = {
    "poisson (1|g)": (grouped, "count ~ x + (1|g)", dict(family="poisson")),
    "poisson weights": (grouped, "count ~ x + (1|g)", dict(family="poisson", weights="w")),
    "nbinom1 (1|g)": (grouped, "nb ~ x + (1|g)", dict(family="nbinom1")),
    "nbinom2 (1|g)": (grouped, "nb ~ x + (1|g)", dict(family="nbinom2")),
    "binomial crossed": (crossed, "cbind(s, n - s) ~ x + (1|a) + (1|b)", dict(family="binomial")),
    "binomial probit (1|g)": (grouped, "cbind(s, n - s) ~ x + (1|g)",
                              dict(family="binomial", link="probit")),
    "binomial nested": (nested, "cbind(s, n - s) ~ x + (1|a/b)", dict(family="binomial")),
    "gaussian (x|g)": (grouped, "y ~ x + (x|g)", dict(family="gaussian")),
    "gaussian (x||g)": (grouped, "y ~ x + (x||g)", dict(family="gaussian")),
    "poisson ar1": (longitudinal, "count ~ x + ar1(0 + time|id)", dict(family="poisson")),
    "gaussian cs": (longitudinal, "y ~ x + cs(0 + time|id)", dict(family="gaussian")),
    "poisson zi": (grouped, "count ~ x + (1|g)", dict(family="poisson", ziformula="~x")),
    "gaussian dispformula": (grouped, "y ~ x + (1|g)", dict(family="gaussian", dispformula="~x")),
    "gaussian weights": (grouped, "y ~ x + (1|g)", dict(family="gaussian", weights="w")),
    "nbinom1 weights": (grouped, "nb ~ x + (1|g)", dict(family="nbinom1", weights="w")),
    "gaussian REML (x|g)": (grouped, "y ~ x + (x|g)", dict(family="gaussian", REML=True)),
    "gaussian REML crossed": (crossed, "y ~ x + (1|a) + (1|b)", dict(family="gaussian", REML=True)),
    "gaussian REML weights dispformula": (grouped, "y ~ x + (1|g)",
                                          dict(family="gaussian", REML=True, weights="w",
                                               dispformula="~x")),
}


def model_for(key):
    make, formula, kwargs = MODELS[key]
    return GLMMModel(formula, make(), **kwargs)


def perturbed_start(model, seed=0):
    """A parameter vector away from the optimum (so the gradient is not ~0)."""
    rng = np.random.default_rng(seed)
    p = starting_values(model)
    return p + rng.normal(0, 0.15, p.size)


def precise_value(objective, p):
    """L(p) with the inner mode polished to round-off.

    log det H is not stationary at the mode, so an inner mode good to 1e-10 leaves a
    first-order error of ~1e-10 in the value: harmless for the fit, but central differences
    with a 1e-5 step would blow it up to 1e-5.  A second solve started at the first mode
    with a tiny tolerance removes it."""
    first = objective.mode(p)
    return objective.mode(p, b_start=first.b, tol=1e-15).value


@pytest.mark.parametrize("key", list(MODELS))
def test_gradient_matches_finite_differences(key):
    model = model_for(key)
    objective = model.objective()
    p = objective.start(perturbed_start(model))
    state = objective.mode(p)
    assert state.inner_converged
    grad = objective.gradient(state)
    h = 1e-5
    fd = np.empty_like(p)
    for k in range(p.size):
        up, down = p.copy(), p.copy()
        up[k] += h
        down[k] -= h
        fd[k] = (precise_value(objective, up) - precise_value(objective, down)) / (2 * h)
    names = objective.parameters.names
    scale = 1 + np.max(np.abs(fd))
    bad = [(n, g, f) for n, g, f in zip(names, grad, fd) if abs(g - f) > 2e-6 * scale]
    assert not bad, f"{key}: exact gradient vs finite differences (name, exact, fd): {bad}"


# ---------------------------------------------------------------- exact LMM likelihood

def dense_design(model):
    """Z (n x q) and G = Cov(u) (q x q) built from the data, independently of glmm_lib's
    Z Lambda algebra: one column per (term, level, coefficient)."""
    re = model.random_effects
    n = model.nobs
    blocks_z, blocks_g = [], []
    for term in re.terms:
        s, L = term.size, term.n_levels
        Z = np.zeros((n, L * s))
        for j in range(s):
            Z[np.arange(n), term.codes * s + j] = term.design.X[:, j]
        blocks_z.append(Z)
        blocks_g.append((term, L))
    return np.hstack(blocks_z), blocks_g


def covariance_of(term, theta):
    """Cov of one level's coefficients from glmmTMB's documented parameterizations."""
    s = term.size
    name = term.structure.name
    if name == "diag":
        return np.diag(np.exp(2 * theta))
    if name == "ar1":
        sd, rho = np.exp(theta[0]), theta[1] / np.sqrt(1 + theta[1] ** 2)
        lags = np.abs(np.subtract.outer(np.arange(s), np.arange(s)))
        return sd**2 * rho**lags
    if name == "cs":      # heterogeneous: one SD per coefficient, one correlation
        sd = np.exp(theta[:s])
        lower = -1 / (s - 1)
        rho = lower + (1 - lower) * special.expit(theta[s])
        corr = np.full((s, s), rho) + (1 - rho) * np.eye(s)
        return np.outer(sd, sd) * corr
    # us: log-SDs, then a unit lower-triangular L filled row by row; corr = rows of L
    # normalized, as TMB's UNSTRUCTURED_CORR
    sd = np.exp(theta[:s])
    L = np.eye(s)
    L[np.tril_indices(s, -1)] = theta[s:]
    corr = L @ L.T
    d = np.sqrt(np.diag(corr))
    return np.outer(sd, sd) * corr / np.outer(d, d)


def marginal_gaussian(model, p):
    lay = model.layout
    beta, theta = p[lay.beta], p[lay.theta]
    aux = {name: p[lay.aux(name)] for name in model.aux_designs}
    sigma = model.family.sigma({k: v[0] for k, v in aux.items()})
    Z, terms = dense_design(model)
    G_blocks = []
    for (term, L), sl in zip(terms, model.random_effects.theta_slices):
        G_blocks.append(np.kron(np.eye(L), covariance_of(term, theta[sl])))
    G = scipy.linalg.block_diag(*G_blocks)
    V = Z @ G @ Z.T + sigma**2 * np.eye(model.nobs)
    mean = model.X @ beta + model.offset
    return stats.multivariate_normal(mean, V).logpdf(model.y), Z, G, V, mean


LMMS = ["gaussian (x|g)", "gaussian (x||g)", "gaussian cs"]


@pytest.mark.parametrize("key", LMMS + ["gaussian crossed", "gaussian ar1"])
def test_lmm_laplace_is_the_exact_marginal_likelihood(key):
    if key == "gaussian crossed":
        model = GLMMModel("y ~ x + (1|a) + (1|b)", crossed())
    elif key == "gaussian ar1":
        model = GLMMModel("y ~ x + ar1(0 + time|id)", longitudinal())
    else:
        model = model_for(key)
    objective = model.objective()
    for seed in range(3):
        p = perturbed_start(model, seed)
        exact = marginal_gaussian(model, p)[0]
        assert objective.value(p) == pytest.approx(exact, rel=1e-10, abs=1e-7)


def test_lmm_inner_mode_is_the_blup():
    model = model_for("gaussian (x|g)")
    objective = model.objective()
    p = perturbed_start(model, 7)
    state = objective.mode(p)
    _, Z, G, V, mean = marginal_gaussian(model, p)
    blup = G @ Z.T @ np.linalg.solve(V, model.y - mean)
    # glmm_lib's spherical b: u = Lambda b per level
    re = model.random_effects
    lam = re.factors(p[model.layout.theta])[0]
    u = (state.b.reshape(-1, 2) @ lam.T).ravel()
    np.testing.assert_allclose(u, blup, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- GLMM: independent Laplace

@pytest.mark.parametrize("key", ["poisson (1|g)", "binomial probit (1|g)", "nbinom1 (1|g)"])
def test_random_intercept_laplace_matches_a_per_group_laplace(key):
    """One random intercept: the integral factorizes over groups; each is a 1-D Laplace
    approximation  h(u_hat) + log(2 pi)/2 - log(-h''(u_hat))/2,  h = sum log f + log N(u; 0, s^2)."""
    model = model_for(key)
    family = model.family
    p = perturbed_start(model, 3)
    lay = model.layout
    beta, theta = p[lay.beta], p[lay.theta]
    aux = {name: np.full(model.nobs, p[lay.aux(name)][0]) for name in model.aux_designs}
    sd = np.exp(theta[0])
    fixed = model.X @ beta + model.offset
    codes = model.random_effects.terms[0].codes
    total = 0.0
    for level in np.unique(codes):
        rows = codes == level
        y, tr = model.y[rows], model.trials[rows]
        a = {k: v[rows] for k, v in aux.items()}

        def h(u):
            mu = family.link.inverse(fixed[rows] + u)
            return np.sum(family.loglik(y, mu, a, tr)) + stats.norm.logpdf(u, 0, sd)

        u_hat = scipy.optimize.minimize_scalar(lambda u: -h(u), bounds=(-5, 5), method="bounded",
                                               options={"xatol": 1e-10}).x
        e = 1e-4
        curvature = -(h(u_hat + e) - 2 * h(u_hat) + h(u_hat - e)) / e**2
        total += h(u_hat) + 0.5 * np.log(2 * np.pi) - 0.5 * np.log(curvature)
    assert model.objective().value(p) == pytest.approx(total, abs=1e-5)


def test_inner_mode_is_stationary_and_hessian_positive():
    model = model_for("binomial crossed")
    objective = model.objective()
    p = perturbed_start(model, 11)
    state = objective.mode(p)
    d = model.family.eta_derivatives(model.y, state.eta, state.aux, model.trials, need_aux=False)
    # d/db [sum log f - b'b/2] = A'g - b = 0 at the mode
    Ab = np.zeros(model.random_effects.q)
    np.add.at(Ab, model.random_effects.cols.ravel(), (state.A * d.g[:, None]).ravel())
    np.testing.assert_allclose(Ab - state.b, 0, atol=1e-7)
    assert np.all(d.w > 0)


def test_model_without_random_effects_is_the_glm():
    """No random terms: the objective is the GLM log-likelihood (statsmodels' llf)."""
    import statsmodels.api as sm
    df = crossed()
    model = GLMMModel("cbind(s, n - s) ~ x", df, family="binomial")
    objective = model.objective()
    glm = sm.GLM(np.column_stack([df["s"], df["n"] - df["s"]]), model.X,
                 family=sm.families.Binomial()).fit()
    assert objective.value(glm.params.to_numpy() if hasattr(glm.params, "to_numpy")
                           else glm.params) == pytest.approx(glm.llf, abs=1e-8)
