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
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import GLMMInputError
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
    """One-sample Kolmogorov-Smirnov test of the scaled residuals against U(0, 1)."""
    res = check_residuals(res)
    alt = _alternative(alternative)
    scipy_alt = {"two.sided": "two-sided"}.get(alt, alt)
    out = stats.kstest(res.scaled_residuals, "uniform", alternative=scipy_alt)
    return TestResult(float(out.statistic), float(out.pvalue),
                      "One-sample Kolmogorov-Smirnov test of the scaled residuals against "
                      "U(0, 1)",
                      alt, "D", details={"residuals": "scaled"})


def test_dispersion(res: SimulatedResiduals, alternative="two.sided") -> TestResult:
    """DHARMa's simulation-based dispersion test.

    The statistic is the variance of the observed residuals
    ``observed - mean(simulations)`` over the mean of the same variance in each
    simulated data set (residuals from the mean of the other simulations),
    so > 1 means overdispersion, < 1 underdispersion.  The p-value is the
    position of the observed variance among the simulated ones
    (:func:`simulation_p_value`; two-sided by default), so with ``n_sim``
    simulations the smallest non-zero p-value is 2 / n_sim.

    For mixed models, run it on ``simulate_residuals(fit, re="conditional")``
    too: with random effects drawn anew it has little power (see the module
    notes).
    """
    res = check_residuals(res)
    alt = _alternative(alternative)
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


def test_zero_inflation(res: SimulatedResiduals, alternative="two.sided") -> TestResult:
    """Observed number of zeros against the numbers in the simulations
    (statistic: observed / mean simulated)."""
    res = check_residuals(res)
    alt = _alternative(alternative)
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
    expectation is approximate.
    """
    res = check_residuals(res)
    alt = _alternative(alternative)
    if margin not in ("both", "upper", "lower"):
        raise GLMMInputError(f"margin must be 'both', 'upper' or 'lower', not {margin!r}")
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
