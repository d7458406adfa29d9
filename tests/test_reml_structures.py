"""REML fits with structured covariance terms (cs, ar1, us) of a gaussian response on a
large scale (issue 18): against glmmTMB, and the same optimum in grams and in kilograms.

Oracle (committed, R is never needed to run these tests): ``fixtures/reml_structures.json``,
written by ``fixtures/make_reml_structures.R`` (glmmTMB 1.1.5) from ``data/rat_bodyweight.csv``
(nlme's BodyWeight, weight in grams).  Tolerances are those of ``test_glmmtmb.py`` (issue 4):
estimates within 1% of their standard error, standard errors within 0.5% relative, logLik
within 1e-3, sigma() within 0.5%, random-effect SDs within 1% relative, correlations within 0.01.

Rescaling the response by c multiplies every estimate, SE and SD by c and leaves the
correlations alone; the REML log-likelihood drops by (n - p) log c (the residual
likelihood has n - p dimensions), so the kilogram fit must sit at the gram fit's optimum.
"""
from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import glmm_lib as gl
from test_glmmtmb import CORR_ABS, EST_SE, LOGLIK_ABS, SD_REL, SE_REL, SIGMA_REL, Checks

FIXTURE_FILE = Path(__file__).resolve().parent / "fixtures" / "reml_structures.json"
MODELS = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))["models"]
GRAMS_PER_KG = 1000.0


@functools.lru_cache(maxsize=None)
def fit(key, scale=1.0):
    """glmm_lib's REML fit of the fixture model, the weight divided by ``scale``."""
    data = gl.datasets.load("rat_bodyweight")
    data["weight"] = data["weight"] / scale
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gl.glmm(MODELS[key]["glmm_formula"], data, REML=True)
    return result, tuple(caught)


def check_converged(check, result, caught):
    if not result.converged:
        check.fail(f"glmm_lib did not converge: {result.convergence_problems}")
    if any(issubclass(w.category, gl.ConvergenceWarning) for w in caught):
        check.fail(f"a ConvergenceWarning: {[str(w.message) for w in caught]}")
    gradient = np.max(np.abs(result.optimizer.final_gradient))
    if not gradient < 1e-3:
        check.fail(f"max |gradient| {gradient:.3g} at the end point")


def correlation(varcorr, i, j):
    """The correlation of the term's i-th and j-th effects (j < i) from ``varcorr``."""
    return varcorr[f"corr_{j + 1}"].iloc[i]


@pytest.mark.parametrize("key", list(MODELS))
def test_reml_fit_matches_glmmtmb(key):
    entry = MODELS[key]
    result, caught = fit(key)
    check = Checks(key)
    check_converged(check, result, caught)
    check.close("logLik", result.llf, entry["logLik"], abs_tol=LOGLIK_ABS)
    for name, value in entry["coef"].items():
        se = entry["se"][name]
        if abs(result.params[name] - value) > EST_SE * se:
            check.fail(f"coef {name}: {result.params[name]:.8g} vs {value:.8g}")
        check.close(f"SE {name}", result.bse[name], se, rel_tol=SE_REL)
    check.close("sigma()", result.sigma, entry["sigma"], rel_tol=SIGMA_REL)
    vc = result.varcorr
    if len(vc) != len(entry["sd"]):
        check.fail(f"{len(vc)} random effects vs glmmTMB's {len(entry['sd'])}")
    for k, (sd, ref_sd) in enumerate(zip(vc["sd"], entry["sd"])):
        check.close(f"SD {k}", sd, ref_sd, rel_tol=SD_REL)
    ref_corr = np.array(entry["corr"])
    last = len(ref_corr) - 1
    for i, j in {(1, 0), (last, 0), (last, last - 1)}:      # lag 1 and the farthest pair
        check.close(f"corr({i},{j})", correlation(vc, i, j), ref_corr[i][j], abs_tol=CORR_ABS)
    check.done()


@pytest.mark.parametrize("key", list(MODELS))
def test_kilograms_reach_the_same_optimum_as_grams(key):
    grams, _ = fit(key)
    kilograms, caught = fit(key, GRAMS_PER_KG)
    check = Checks(f"{key} in kg")
    check_converged(check, kilograms, caught)
    residual_dims = grams.nobs - len(grams.params)
    check.close("logLik + (n - p) log 1000", kilograms.llf,
                grams.llf + residual_dims * math.log(GRAMS_PER_KG), abs_tol=LOGLIK_ABS)
    for name in grams.params.index:
        se = grams.bse[name]
        if abs(kilograms.params[name] * GRAMS_PER_KG - grams.params[name]) > EST_SE * se:
            check.fail(f"coef {name}: {kilograms.params[name]:.8g} kg vs "
                       f"{grams.params[name]:.8g} g")
        check.close(f"SE {name}", kilograms.bse[name] * GRAMS_PER_KG, se, rel_tol=SE_REL)
    check.close("sigma()", kilograms.sigma * GRAMS_PER_KG, grams.sigma, rel_tol=SIGMA_REL)
    for k, (sd_kg, sd_g) in enumerate(zip(kilograms.varcorr["sd"], grams.varcorr["sd"])):
        check.close(f"SD {k}", sd_kg * GRAMS_PER_KG, sd_g, rel_tol=SD_REL)
    last = len(grams.varcorr) - 1
    for i, j in {(1, 0), (last, 0)}:
        check.close(f"corr({i},{j})", correlation(kilograms.varcorr, i, j),
                    correlation(grams.varcorr, i, j), abs_tol=CORR_ABS)
    check.done()
