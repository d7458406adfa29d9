"""Fits on the boundary of the parameter space against glmmTMB and lme4 (issue 17, item 3),
and lme4's badly scaled ``(Time | Rat)`` on BodyWeight.

Oracle (committed, R is never needed to run these tests): ``fixtures/boundary_fixtures.json``,
written by ``fixtures/make_boundary_fixtures.R`` (glmmTMB 1.1.5, lme4 1.1-31) from
``data/balanced_pigs.csv`` (simulated, ``data/make_balanced_pigs.py``), ``data/lme4_dyestuff2.csv``
and ``data/rat_bodyweight.csv``.  On the balanced pigs a heterogeneous compound symmetry
leaves no residual variance, a random slope's correlation with the intercept runs to +1 and
the pens the pigs are nested in add nothing; Dyestuff2's batch SD is zero.

Tolerances are those of ``test_glmmtmb.py`` (issue 4): estimates within 1% of their standard
error, standard errors within 0.5% relative, logLik within 1e-3, sigma() within 0.5%,
random-effect SDs within 1% relative, correlations within 0.01.  glmmTMB flags the us() fit
whose correlation runs to +1 ("singular convergence"); there lme4's lmer (whose standard
errors hold the boundary parameter at its limit, as glmm_lib's) is the oracle.
"""
from __future__ import annotations

import functools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import glmm_lib as gl
from test_glmmtmb import Checks

FIXTURE_FILE = Path(__file__).resolve().parent / "fixtures" / "boundary_fixtures.json"
MODELS = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))["models"]

EST_SE = 0.01
SE_REL = 0.005
LOGLIK_ABS = 1e-3
SIGMA_REL = 0.005
SD_REL = 0.01
CORR_ABS = 0.01
BOUNDARY_SD = 0.01      # an SD below this (glmmTMB's) is at zero

# what each boundary fit must say is at its limit
SINGULAR = {
    "pigs_cs": "residual",
    "pigs_us": "the correlation of (Intercept) and week within pig is estimated as +1",
    "pigs_nested": "the pen variance is estimated as zero",
    "pigs_nested_reml": "the pen variance is estimated as zero",
    "dyestuff2": "the Batch variance is estimated as zero",
    "dyestuff2_reml": "the Batch variance is estimated as zero",
}


@functools.lru_cache(maxsize=None)
def fit(key):
    entry = MODELS[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gl.glmm(entry["formula"], gl.datasets.load(entry["data"]), REML=entry["REML"])
    return result, [w for w in caught]


def oracle(entry):
    """glmmTMB, or lme4 where glmmTMB itself flags the fit."""
    if entry["convergence"]["warnings"]:
        return entry["lmer"]["logLik"], entry["lmer"]["se"]
    return entry["logLik"], entry["se"]


@pytest.mark.parametrize("key", list(MODELS))
def test_fit_matches_glmmtmb(key):
    entry = MODELS[key]
    result, caught = fit(key)
    check = Checks(key)
    if not result.converged:
        check.fail(f"glmm_lib did not converge: {result.convergence_problems}")
    if any(issubclass(w.category, gl.ConvergenceWarning) for w in caught):
        check.fail(f"a ConvergenceWarning: {[str(w.message) for w in caught]}")
    loglik, se = oracle(entry)
    check.close("logLik", result.llf, loglik, abs_tol=LOGLIK_ABS)
    for name, value in entry["coef"].items():
        if abs(result.params[name] - value) > EST_SE * se[name]:
            check.fail(f"coef {name}: {result.params[name]:.8g} vs {value:.8g}")
        check.close(f"SE {name}", result.bse[name], se[name], rel_tol=SE_REL)
    if entry["sigma"] > BOUNDARY_SD:
        check.close("sigma()", result.sigma, entry["sigma"], rel_tol=SIGMA_REL)
    elif not result.sigma < BOUNDARY_SD:
        check.fail(f"sigma() {result.sigma:.3g}: glmmTMB's {entry['sigma']:.3g} is at zero")
    vc = result.varcorr
    for term in entry["varcorr"]:
        rows = vc[[sorted(g.split(":")) == sorted(term["group"].split(":")) for g in vc["group"]]]
        for name, ref_sd, sd in zip(term["terms"], term["sd"], rows["sd"]):
            if ref_sd < BOUNDARY_SD:
                if not sd < BOUNDARY_SD:
                    check.fail(f"SD of {name} | {term['group']}: {sd:.3g}, glmmTMB's is at zero")
            else:
                check.close(f"SD of {name} | {term['group']}", sd, ref_sd, rel_tol=SD_REL)
        if term.get("corr") is not None and "corr_1" in rows and "rho" not in rows:
            check.close(f"corr | {term['group']}", rows["corr_1"].iloc[1],
                        term["corr"][1][0], abs_tol=CORR_ABS)
    check.done()


@pytest.mark.parametrize("key", list(SINGULAR))
def test_boundary_fit_is_a_converged_singular_fit(key):
    """A variance at zero is a result: converged, a SingularFitWarning naming the
    component in words, no ConvergenceWarning, and the same note in the record."""
    result, caught = fit(key)
    assert result.converged
    singular = [str(w.message) for w in caught if issubclass(w.category, gl.SingularFitWarning)]
    assert len(singular) == 1 and SINGULAR[key] in singular[0]
    assert "fixed effects" in singular[0] and "theta:" not in singular[0]
    assert result.convergence.singular and SINGULAR[key] in result.convergence.singular[0]
    assert any(p.startswith("singular fit") and SINGULAR[key] in p
               for p in result.convergence_problems)
    assert result.convergence.at_limit


@pytest.mark.parametrize("key", [k for k in MODELS if k.startswith("pigs")])
def test_balanced_design_gives_the_feeds_equal_standard_errors(key):
    """The pigs are balanced over the feeds: feeds B and C have the same SE (the symmetry
    a Hessian taken at a residual SD of exp(-20) broke, by 8%).  The SEs come from a Hessian
    by central differences at an integer point on the flat stretch of the boundary, the
    same whatever BLAS kernel led the optimizer there (``boundary.retreat``,
    ``optimizer.central_hessian``): they agree to about 1e-6 on every kernel tried."""
    bse = fit(key)[0].bse
    assert bse["feedB"] == pytest.approx(bse["feedC"], rel=1e-4)


@pytest.mark.parametrize("key", ["bodyweight_slope", "bodyweight_slope_reml"])
def test_badly_scaled_random_slope_converges_without_warnings(key):
    result, caught = fit(key)
    assert result.converged and not result.convergence.singular
    assert not caught, [str(w.message) for w in caught]
    assert np.max(np.abs(result.optimizer.final_gradient)) < 1e-3


def test_shipped_pigs_match_their_script():
    script = Path(__file__).resolve().parent.parent / "data" / "make_balanced_pigs.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    df = gl.datasets.load("balanced_pigs")
    assert df.shape == (96, 6)
    counts = df.groupby(["feed", "time"], observed=True).size()
    assert (counts == 8).all() and len(counts) == 12      # balanced: 8 pigs a feed, 4 weighings
