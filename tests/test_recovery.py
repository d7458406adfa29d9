"""Simulation recovery: fits to data simulated from known parameters are centred on the truth.

Each case simulates REPLICATES data sets with numpy directly (not with glmm_lib's own
simulate), fits them, and checks that the mean estimate of every parameter lies within
four Monte Carlo standard errors of the true value (plus a small allowance for the
known small-sample bias of ML variance estimates, stated per case)."""
import numpy as np
import pandas as pd
import pytest
from scipy import special

import glmm_lib as gl

REPLICATES = 20


def _groups(rng, n_groups, per_group):
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=g.size)
    return g, x


def _slope(rng):
    g, x = _groups(rng, 30, 12)
    sd0, sd1, rho, sigma = 1.0, 0.5, 0.3, 0.7
    cov = np.array([[sd0**2, rho * sd0 * sd1], [rho * sd0 * sd1, sd1**2]])
    u = rng.multivariate_normal([0, 0], cov, size=30)
    y = 2.0 + 0.5 * x + u[g, 0] + u[g, 1] * x + rng.normal(0, sigma, g.size)
    data = pd.DataFrame({"y": y, "x": x, "g": g})
    fit = gl.glmm("y ~ x + (x | g)", data, family="gaussian")
    vc = fit.varcorr
    est = {"(Intercept)": fit.params["(Intercept)"], "x": fit.params["x"],
           "sd0": vc["sd"].iloc[0], "sd1": vc["sd"].iloc[1], "rho": vc["corr_1"].iloc[1],
           "sigma": fit.sigma}
    return est, {"(Intercept)": 2.0, "x": 0.5, "sd0": sd0, "sd1": sd1, "rho": rho, "sigma": sigma}


def _gamma(rng):
    g, x = _groups(rng, 25, 10)
    u = rng.normal(0, 0.4, 25)
    mu = np.exp(1.0 + 0.3 * x + u[g])
    cv = 0.5
    y = rng.gamma(1 / cv**2, mu * cv**2)
    fit = gl.glmm("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), family="Gamma",
                  link="log")
    return ({"(Intercept)": fit.params["(Intercept)"], "x": fit.params["x"],
             "sd": fit.varcorr["sd"].iloc[0], "cv": fit.sigma},
            {"(Intercept)": 1.0, "x": 0.3, "sd": 0.4, "cv": cv})


def _beta(rng):
    g, x = _groups(rng, 25, 10)
    u = rng.normal(0, 0.5, 25)
    mu = special.expit(-0.5 + 0.4 * x + u[g])
    phi = 20.0
    y = rng.beta(mu * phi, (1 - mu) * phi)
    fit = gl.glmm("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), family="beta")
    return ({"(Intercept)": fit.params["(Intercept)"], "x": fit.params["x"],
             "sd": fit.varcorr["sd"].iloc[0], "phi": fit.sigma},
            {"(Intercept)": -0.5, "x": 0.4, "sd": 0.5, "phi": phi})


def _student_t(rng):
    g, x = _groups(rng, 25, 12)
    u = rng.normal(0, 1.0, 25)
    y = 1.0 + 0.5 * x + u[g] + 0.8 * rng.standard_t(4, g.size)
    fit = gl.glmm("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}),
                  family=gl.families.StudentT(df=4))
    return ({"(Intercept)": fit.params["(Intercept)"], "x": fit.params["x"],
             "sd": fit.varcorr["sd"].iloc[0], "scale": fit.sigma},
            {"(Intercept)": 1.0, "x": 0.5, "sd": 1.0, "scale": 0.8})


def _zip(rng):
    g, x = _groups(rng, 30, 12)
    u = rng.normal(0, 0.5, 30)
    mu = np.exp(0.8 + 0.4 * x + u[g])
    pi = special.expit(-1.0)
    y = np.where(rng.random(g.size) < pi, 0, rng.poisson(mu))
    fit = gl.glmm("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), family="poisson",
                  ziformula="~1")
    return ({"(Intercept)": fit.params["(Intercept)"], "x": fit.params["x"],
             "sd": fit.varcorr["sd"].iloc[0], "zi": fit.params_zi.iloc[0]},
            {"(Intercept)": 0.8, "x": 0.4, "sd": 0.5, "zi": -1.0})


# ML variance estimates are biased low by about a factor sqrt((G - p)/G): allowed slack per case
CASES = {"random_slope": (_slope, 0.06), "gamma": (_gamma, 0.05), "beta": (_beta, 0.05),
         "student_t": (_student_t, 0.06), "zero_inflated_poisson": (_zip, 0.05)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimates_centred_on_truth(case):
    simulate_and_fit, slack = CASES[case]
    rng = np.random.default_rng(20261125)
    rows, truth = [], None
    for _ in range(REPLICATES):
        est, truth = simulate_and_fit(rng)
        rows.append(est)
    table = pd.DataFrame(rows)
    mean = table.mean()
    mc_se = table.std(ddof=1) / np.sqrt(REPLICATES)
    for name, true in truth.items():
        tolerance = 4 * mc_se[name] + slack * abs(true)
        assert abs(mean[name] - true) <= tolerance, (
            f"{case}: mean estimate of {name} {mean[name]:.4f} vs truth {true} "
            f"(Monte Carlo SE {mc_se[name]:.4f})")
