"""Tests of simulated residuals against the simulations themselves, as DHARMa's:
uniformity (Kolmogorov-Smirnov), dispersion, zero inflation and outliers.

Choices, and where they differ from DHARMa:

* Dispersion test: the residuals ``observed - centre`` are taken around the
  mean of the simulations (for each simulated data set, the mean of the other
  simulations), as DHARMa's statistic but not its centre, the fitted value
  (the population-level prediction for unconditional simulations, the
  conditional one otherwise).  With random effects drawn anew the simulated
  responses spread around the *marginal* mean, which the population-level
  prediction misses under a non-identity link; the mean of the simulations is
  that marginal mean.  With ``re="conditional"`` the two centres coincide up
  to simulation noise.
* Outlier test: only DHARMa's ``type="binomial"`` (exact binomial test
  against the frequency 2/(n_sim + 1)); DHARMa's bootstrap variant is not
  implemented.  As DHARMa warns, for integer responses the binomial
  expectation is approximate.
* Residuals from ``simulate_residuals(fit, refit=True)``: every test compares
  the observed statistic with its distribution over the refitted data sets
  instead (:mod:`~glmm_lib.diagnostics.refit_tests`).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import GLMMInputError
from . import refit_tests
from .htest import TestResult
from .predictor_tests import test_quantiles
from .residuals import SimulatedResiduals, check_residuals

__all__ = ["test_uniformity", "test_dispersion", "test_zero_inflation", "test_outliers",
           "test_all", "simulation_p_value"]

_ALTERNATIVES = {"two.sided": "two.sided", "two-sided": "two.sided", "two_sided": "two.sided",
                 "greater": "greater", "less": "less"}


def _alternative(alternative):
    try:
        return _ALTERNATIVES[alternative]
    except KeyError:
        raise GLMMInputError(f"alternative must be 'two.sided', 'greater' or 'less', not "
                             f"{alternative!r}") from None


def simulation_p_value(simulated, observed, alternative="two.sided") -> float:
    """DHARMa's p-value of an observed statistic among simulated ones:
    greater: P(sim >= obs); less: P(sim <= obs); two-sided: twice the smaller
    (at most 1).  Proportions of the simulations, without a +1 correction, as
    in DHARMa's ``getP``."""
    simulated = np.asarray(simulated, dtype=float)
    simulated = simulated[np.isfinite(simulated)]
    if simulated.size == 0 or not np.isfinite(observed):
        return float("nan")
    upper = float(np.mean(simulated >= observed))
    lower = float(np.mean(simulated <= observed))
    alternative = _alternative(alternative)
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    return min(1.0, 2.0 * min(upper, lower))


def test_uniformity(res: SimulatedResiduals, alternative="two.sided") -> TestResult:
    """One-sample Kolmogorov-Smirnov test of the scaled residuals against U(0, 1)
    (refitted residuals: the KS distance against its refitted distribution)."""
    res = check_residuals(res)
    alt = _alternative(alternative)
    if res.refitted:
        return refit_tests.uniformity(res, alt)
    scipy_alt = {"two.sided": "two-sided"}.get(alt, alt)
    out = stats.kstest(res.scaled_residuals, "uniform", alternative=scipy_alt)
    return TestResult(float(out.statistic), float(out.pvalue),
                      "One-sample Kolmogorov-Smirnov test of the scaled residuals against "
                      "U(0, 1)",
                      alt, "D", details={"residuals": "scaled"})


def test_dispersion(res: SimulatedResiduals, alternative=None,
                    type="DHARMa") -> TestResult:   # noqa: A002 (DHARMa's argument name)
    """Dispersion test: simulation-based (``type="DHARMa"``), or the quick analytic
    Pearson chi-square check (``type="PearsonChisq"``).

    ``alternative`` defaults to ``"two.sided"``, and to ``"greater"`` for
    ``"PearsonChisq"``.  On refitted residuals (``simulate_residuals(fit,
    refit=True)``) the DHARMa type compares the fit's Pearson chi-square with
    those of the refits (a parametric bootstrap, calibrated for mixed models).

    ``type="PearsonChisq"``: the sum of squared Pearson residuals against a
    chi-square distribution with the fit's residual degrees of freedom (``n``
    minus the number of parameters); the statistic is their ratio.  Quick, but
    for a mixed model the random effects use more degrees of freedom than their
    variance parameters, so the ratio leans low and the check tests only for
    overdispersion by default.

    The DHARMa type, without refitting: the statistic is the variance of the observed residuals
    ``observed - mean(simulations)`` over the mean of the same variance in each
    simulated data set (residuals from the mean of the other simulations),
    so > 1 means overdispersion, < 1 underdispersion.  The p-value is the
    position of the observed variance among the simulated ones
    (:func:`simulation_p_value`; two-sided by default), so with ``n_sim``
    simulations the smallest non-zero p-value is 2 / n_sim.

    For mixed models, use refitted residuals: without refitting, the test has
    little power with random effects drawn anew and rejects correct models
    too often with ``re="conditional"`` (see the package notes).
    """
    res = check_residuals(res)
    if type not in ("DHARMa", "PearsonChisq"):
        raise GLMMInputError(f"type must be 'DHARMa' (simulation-based) or 'PearsonChisq', "
                             f"not {type!r}")
    alt = _alternative(alternative if alternative is not None else
                       "greater" if type == "PearsonChisq" else "two.sided")
    if type == "PearsonChisq":
        return _pearson_chisq_dispersion(res, alt)
    if res.refitted:
        return refit_tests.dispersion(res, alt)
    sims, obs = res.simulated_response, res.observed_response
    s = sims.shape[1]
    centre = sims.mean(axis=1)
    observed = float(np.var(obs - centre, ddof=1))
    # around the mean of the *other* simulations: sim_j - (s m - sim_j) / (s - 1)
    # = s / (s - 1) (sim_j - m)
    simulated = np.var(sims - centre[:, None], axis=0, ddof=1) * (s / (s - 1)) ** 2
    expected_var = float(np.var(sims, ddof=1))               # DHARMa's scale; cancels in the ratio
    scale = expected_var if expected_var > 0 else 1.0
    mean_sim = float(np.mean(simulated))
    ratio = observed / mean_sim if mean_sim > 0 else (1.0 if observed == 0 else np.inf)
    p = simulation_p_value(simulated / scale, observed / scale, alt)
    if mean_sim == 0 and observed == 0:
        p = 1.0
    return TestResult(float(ratio), p,
                      "DHARMa nonparametric dispersion test via sd of residuals fitted vs. "
                      "simulated", alt, "dispersion",
                      details={"observed": observed / scale, "simulated": simulated / scale})


def _pearson_chisq_dispersion(res, alternative) -> TestResult:
    fit = res.fit
    if fit is None:
        raise GLMMInputError("type='PearsonChisq' needs the fitted model: use "
                             "simulate_residuals(fit), not residuals from bare simulations")
    chisq = float(np.sum(np.asarray(fit.resid_pearson(), dtype=float) ** 2))
    df = int(fit.df_resid)
    if df < 1:
        raise GLMMInputError(f"the fit has {df} residual degrees of freedom; the Pearson "
                             "chi-square check needs at least one")
    upper, lower = float(stats.chi2.sf(chisq, df)), float(stats.chi2.cdf(chisq, df))
    p = {"greater": upper, "less": lower}.get(alternative, min(1.0, 2 * min(upper, lower)))
    return TestResult(chisq / df, p, "Parametric dispersion test via mean Pearson-chisq "
                      "statistic", alternative, "dispersion",
                      parameter={"df": df}, estimate={"Pearson chi-square": chisq})


def test_zero_inflation(res: SimulatedResiduals, alternative="two.sided") -> TestResult:
    """Observed number of zeros against the numbers in the simulations
    (statistic: observed / mean simulated); refitted residuals: observed minus
    expected zeros against the refits'."""
    res = check_residuals(res)
    alt = _alternative(alternative)
    if res.refitted:
        return refit_tests.zero_inflation(res, alt)
    observed = float(np.sum(res.observed_response == 0))
    simulated = np.sum(res.simulated_response == 0, axis=0).astype(float)
    mean_sim = float(simulated.mean())
    if mean_sim > 0:
        ratio = observed / mean_sim
    else:
        ratio = float("nan") if observed == 0 else float("inf")
    p = simulation_p_value(simulated, observed, alt)
    return TestResult(ratio, p, "DHARMa zero-inflation test via comparison to expected zeros "
                      "with simulation under H0 = fitted model", alt, "ratioObsSim",
                      details={"observed": observed, "simulated": simulated})


def test_outliers(res: SimulatedResiduals, alternative="two.sided", margin="both") -> TestResult:
    """Observations outside the simulation envelope, exact binomial test.

    An outlier is a residual closer than 1/(n_sim + 1) to 0 or 1 (for a
    continuous response: an observation below or above all simulations).
    Under the model each observation is one with probability 1/(n_sim + 1)
    per margin, so the count is tested against Binomial(n, 2/(n_sim + 1))
    (DHARMa's ``testOutliers(type = "binomial")``).  For integer responses the
    expectation is approximate.  Refitted residuals: the count of residuals
    outside the range of all refits', against its refitted distribution.
    """
    res = check_residuals(res)
    alt = _alternative(alternative)
    if margin not in ("both", "upper", "lower"):
        raise GLMMInputError(f"margin must be 'both', 'upper' or 'lower', not {margin!r}")
    if res.refitted:
        return refit_tests.outliers(res, alt, margin)
    r, n_sim = res.scaled_residuals, res.n_sim
    edge = 1.0 / (n_sim + 1)
    lower, upper = r < edge, r > 1 - edge
    mask = {"both": lower | upper, "upper": upper, "lower": lower}[margin]
    k = int(mask.sum())
    p0 = edge * (2 if margin == "both" else 1)
    scipy_alt = {"two.sided": "two-sided"}.get(alt, alt)
    bt = stats.binomtest(k, res.n_obs, p0, alternative=scipy_alt)
    return TestResult(float(k), float(bt.pvalue),
                      "DHARMa outlier test based on exact binomial test with approximate "
                      "expectations", alt, f"outliers at {margin} margin(s)",
                      parameter={"observations": res.n_obs},
                      estimate={f"frequency of outliers (expected: {p0:.4g})": k / res.n_obs},
                      details={"outliers": mask, "expected_frequency": p0, "margin": margin})


def test_all(res: SimulatedResiduals) -> dict:
    """Uniformity, dispersion, zero inflation, outliers and quantiles, by name."""
    return {"uniformity": test_uniformity(res), "dispersion": test_dispersion(res),
            "zero_inflation": test_zero_inflation(res), "outliers": test_outliers(res),
            "quantiles": test_quantiles(res)}
