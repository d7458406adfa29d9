"""Refit-based residual tests (``simulate_residuals(fit, refit=True)``) and the analytic
Pearson chi-square dispersion check.

The full calibration study (60 correct and 30 overdispersed data sets, 250 refits each)
is ``benchmarks/calibrate_residual_tests.py``; its table is in benchmarks/RESULTS.md.
The tests here are small versions of it, a few seconds each.
"""
from __future__ import annotations

import sys
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import glmm_lib as gl  # noqa: E402
from glmm_lib import datasets  # noqa: E402
from glmm_lib import diagnostics as dg  # noqa: E402
from glmm_lib.diagnostics import refit_residuals  # noqa: E402
from glmm_lib.errors import GLMMInputError  # noqa: E402
from glmm_lib.refit import RefitOutcome  # noqa: E402


def _grouped_counts(i, overdispersed=False, groups=20, per_group=10):
    rng = np.random.default_rng([77, int(overdispersed), i])
    g = np.repeat(np.arange(groups), per_group)
    x = rng.normal(size=g.size)
    mu = np.exp(1.0 + 0.3 * x + rng.normal(0, 0.5, groups)[g])
    if overdispersed:
        mu = rng.gamma(2.0, mu / 2.0)                 # NB2, theta = 2
    return pd.DataFrame({"y": rng.poisson(mu), "x": x, "g": [f"g{k}" for k in g]})


@lru_cache(maxsize=None)
def _poisson_fit(i, overdispersed=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gl.glmm("y ~ x + (1|g)", _grouped_counts(i, overdispersed), family="poisson")


@lru_cache(maxsize=None)
def _webworm_poisson():
    return gl.glmm("y ~ trt + (1|block)", datasets.load("beall_webworms"), family="poisson")


def test_refit_detects_the_overdispersed_webworm_poisson_fit():
    res = dg.simulate_residuals(_webworm_poisson(), 40, seed=3, refit=True)
    assert res.refitted and res.re == "conditional" and res.refits.failed == 0
    disp = dg.test_dispersion(res)
    # the observed Pearson chi-square is above every refit's
    assert disp.p_value == 0 and disp.statistic > 1.15
    assert disp.details["observed"] > disp.details["simulated"].max()
    assert dg.test_uniformity(res).p_value <= 0.05
    assert "40 of 40 refits used" in repr(res)


def test_refit_tests_pass_correct_models_and_catch_overdispersion():
    """A small calibration run: 12 correct Poisson GLMMs and 6 NB2 ones fitted as
    Poisson (20 groups x 10), 39 refits each.  The dispersion test rejects at most 3
    correct fits (the binomial 99.9% bound at 5% of 12) and every NB2 one; its p-values
    on correct fits are not piled near 1, as those of the unrefitted test with random
    effects drawn anew are."""
    correct = [dg.test_dispersion(dg.simulate_residuals(_poisson_fit(i), 39, seed=i,
                                                        refit=True)).p_value
               for i in range(12)]
    over = [dg.test_dispersion(dg.simulate_residuals(_poisson_fit(i, True), 39, seed=i,
                                                     refit=True)).p_value for i in range(6)]
    assert sum(p <= 0.05 for p in correct) <= stats.binom.ppf(0.999, 12, 0.05)
    assert 0.25 < np.mean(correct) < 0.75, correct
    assert max(over) <= 0.05, over
    unrefitted = [dg.test_dispersion(dg.simulate_residuals(_poisson_fit(i), 39, seed=i)).p_value
                  for i in range(12)]
    assert np.mean(unrefitted) > np.mean(correct)


def test_refit_statistics_are_those_of_the_fit():
    fit = _poisson_fit(0)
    res = dg.simulate_residuals(fit, 20, seed=5, refit=True)
    observed = res.refits.observed
    assert observed["chisq"] == pytest.approx(np.sum(fit.resid_pearson() ** 2))
    assert observed["zeros"] == np.sum(fit.model.y == 0)
    mu = fit.predict()                                # Poisson: P(0) = exp(-mu)
    assert observed["expected_zeros"] == pytest.approx(np.sum(np.exp(-mu)))
    assert observed["ks"] == pytest.approx(stats.kstest(res.scaled_residuals, "uniform").statistic)
    assert dg.test_uniformity(res, alternative="greater").statistic == pytest.approx(
        stats.kstest(res.scaled_residuals, "uniform", alternative="greater").statistic)
    out = dg.test_outliers(res)
    edge = 1 / 21
    outside = (res.scaled_residuals < edge) | (res.scaled_residuals > 1 - edge)
    assert out.statistic == np.sum(outside)
    np.testing.assert_array_equal(out.details["outliers"], outside)
    zi = dg.test_zero_inflation(res)
    assert zi.statistic == pytest.approx(observed["zeros"] / observed["expected_zeros"])
    table = res.tests()
    assert table["p_value"].between(0, 1).all()


def test_refitted_residuals_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from glmm_lib import diagnostic_plots as dp

    res = dg.simulate_residuals(_poisson_fit(0), 20, seed=2, refit=True)
    fig = dp.plot_diagnostics(res)
    fig.savefig(tmp_path / "refit.png", dpi=50)
    assert len(fig.axes) == 2 and (tmp_path / "refit.png").stat().st_size > 10_000
    matplotlib.pyplot.close(fig)


def test_same_seed_same_refits():
    a = dg.simulate_residuals(_poisson_fit(1), 15, seed=9, refit=True)
    b = dg.simulate_residuals(_poisson_fit(1), 15, seed=9, refit=True)
    np.testing.assert_array_equal(a.scaled_residuals, b.scaled_residuals)
    pd.testing.assert_frame_equal(a.refits.statistics, b.refits.statistics)


def test_failed_refits_are_counted_and_left_out(monkeypatch):
    real = refit_residuals.refit
    calls = []

    def every_third_fails(model, y, start=None):
        calls.append(1)
        if len(calls) % 3 == 0:
            return RefitOutcome(None, "failed", ["RuntimeError: made to fail"])
        return real(model, y, start)

    monkeypatch.setattr(refit_residuals, "refit", every_third_fails)
    res = dg.simulate_residuals(_poisson_fit(2), 30, seed=1, refit=True)
    assert res.refits.failed == 10 and res.refits.usable == 20
    assert len(res.refits.problems) == 10 and "made to fail" in res.refits.problems[0]
    disp = dg.test_dispersion(res)
    assert disp.details["refits_failed"] == 10 and disp.details["simulated"].size == 20
    assert "10 failed" in repr(res)


def test_when_every_refit_fails_the_error_says_why(monkeypatch):
    monkeypatch.setattr(refit_residuals, "refit", lambda model, y, start=None: RefitOutcome(
        None, "failed", ["LinAlgError: singular"]))
    with pytest.raises(GLMMInputError, match="0 of 10 refits.*singular"):
        dg.simulate_residuals(_poisson_fit(2), 10, seed=1, refit=True)


def test_pearson_chisq_check_matches_a_glm():
    """Without random effects the check is the GLM's Pearson chi-square on its residual
    degrees of freedom (statsmodels as the oracle)."""
    df = _grouped_counts(3, overdispersed=True)
    fit = gl.glmm("y ~ x", df, family="poisson")
    glm = sm.GLM(df["y"], sm.add_constant(df["x"]), family=sm.families.Poisson()).fit()
    res = dg.simulate_residuals(fit, 10, seed=1)
    check = dg.test_dispersion(res, type="PearsonChisq")
    assert check.alternative == "greater" and check.parameter["df"] == glm.df_resid
    assert check.statistic == pytest.approx(glm.pearson_chi2 / glm.df_resid, rel=1e-5)
    assert check.p_value == pytest.approx(stats.chi2.sf(glm.pearson_chi2, glm.df_resid),
                                          rel=1e-4)
    assert check.p_value < 1e-6            # NB2 data fitted as Poisson
    two_sided = dg.test_dispersion(res, alternative="two.sided", type="PearsonChisq")
    assert two_sided.p_value == pytest.approx(2 * check.p_value, rel=1e-9)


def test_refit_argument_errors():
    fit = _poisson_fit(0)
    with pytest.raises(GLMMInputError, match="leave re"):
        dg.simulate_residuals(fit, 10, refit=True, re="new")
    with pytest.raises(GLMMInputError, match="refit must be"):
        dg.simulate_residuals(fit, 10, refit="yes")
    with pytest.raises(GLMMInputError, match="type must be"):
        dg.test_dispersion(dg.simulate_residuals(fit, 10, seed=1), type="pearson")
    bare = dg.from_simulations(np.zeros((3, 10)), np.zeros(3))
    with pytest.raises(GLMMInputError, match="needs the fitted model"):
        dg.test_dispersion(bare, type="PearsonChisq")


def test_ks_distances_are_scipys():
    rng = np.random.default_rng(4)
    u = rng.uniform(size=(50, 3)) ** 1.3
    for alternative, scipy_name in (("two.sided", "two-sided"), ("greater", "greater"),
                                    ("less", "less")):
        expected = [stats.kstest(u[:, k], "uniform", alternative=scipy_name).statistic
                    for k in range(3)]
        np.testing.assert_allclose(refit_residuals.ks_distances(u, alternative), expected)


def test_refit_checks_other_families_and_their_expected_zeros():
    """Binomial: the expected zeros are sum((1 - p)^n) at the conditional
    probabilities; zero-inflated Poisson: pi + (1 - pi) exp(-mu); gaussian: none."""
    rng = np.random.default_rng(12)
    g = np.repeat(np.arange(10), 8)
    eta = rng.normal(0, 0.5, 10)[g]
    df = pd.DataFrame({"g": [f"g{k}" for k in g], "n": 6,
                       "s": rng.binomial(6, 1 / (1 + np.exp(1 - eta))),
                       "c": np.where(rng.uniform(size=g.size) < 0.3, 0,
                                     rng.poisson(np.exp(1 + eta))),
                       "z": 2 + eta + rng.normal(size=g.size)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binomial = gl.glmm("cbind(s, n - s) ~ 1 + (1|g)", df, family="binomial")
        zip_fit = gl.glmm("c ~ 1 + (1|g)", df, family="poisson", ziformula="~1")
        gaussian = gl.glmm("z ~ 1 + (1|g)", df)
        results = {name: dg.simulate_residuals(fit, 12, seed=4, refit=True)
                   for name, fit in (("binomial", binomial), ("zip", zip_fit),
                                     ("gaussian", gaussian))}
    p = binomial.predict()
    assert results["binomial"].refits.observed["expected_zeros"] == pytest.approx(
        np.sum((1 - p) ** 6))
    pi = 1 / (1 + np.exp(-zip_fit.params_zi.iloc[0]))
    mu = zip_fit.predict() / (1 - pi)                 # predict() is the mean (1 - pi) mu
    assert results["zip"].refits.observed["expected_zeros"] == pytest.approx(
        np.sum(pi + (1 - pi) * np.exp(-mu)))
    assert results["gaussian"].refits.observed["expected_zeros"] == 0
    for name, res in results.items():
        assert res.tests()["p_value"].between(0, 1).all(), name


def test_refits_on_two_dask_workers_give_the_same_residuals_and_tests():
    here = dg.simulate_residuals(_poisson_fit(4), 12, seed=8, refit=True)
    there = dg.simulate_residuals(_poisson_fit(4), 12, seed=8, refit=True, workers=2)
    np.testing.assert_array_equal(here.scaled_residuals, there.scaled_residuals)
    pd.testing.assert_frame_equal(here.refits.statistics, there.refits.statistics)
