"""The residual tests of a refitted simulation (``simulate_residuals(fit, refit=True)``):
each statistic of the data and its fit against its distribution over the refits.

What the statistics are, and why comparing them with refits calibrates the tests, is in
:mod:`~glmm_lib.diagnostics.refit_residuals`.  The public test functions of
:mod:`~glmm_lib.diagnostics.simulation_tests` call these when the residuals were
refitted; every result's ``details`` says how many refits were used and failed.
"""
from __future__ import annotations

import numpy as np

from .htest import TestResult


def _p_value(simulated, observed, alternative):
    from .simulation_tests import simulation_p_value   # imported here: that module imports this
    return simulation_p_value(simulated, observed, alternative)


def _compare(res, statistic, alternative):
    """``statistic(values)`` of the data (``values`` a dict) and of every refit (a
    DataFrame, one row a refit), the p-value, and the details every refit test reports."""
    refits = res.refits
    observed = float(statistic(refits.observed))
    simulated = np.asarray(statistic(refits.statistics), dtype=float)
    details = {"observed": observed, "simulated": simulated, "refits_used": refits.usable,
               "refits_failed": refits.failed, "refits_flagged": refits.flagged}
    return observed, simulated, _p_value(simulated, observed, alternative), details


def dispersion(res, alternative) -> TestResult:
    """Pearson chi-square of the fit against those of the refits; the statistic is
    its ratio to the refits' mean (> 1: overdispersion)."""
    observed, simulated, p, details = _compare(res, lambda v: v["chisq"], alternative)
    mean_refit = float(np.mean(simulated))
    ratio = observed / mean_refit if mean_refit > 0 else float("nan")
    return TestResult(ratio, p, "Parametric bootstrap dispersion test: Pearson chi-square of "
                      f"the fit against {res.refits.usable} refits of simulated data",
                      alternative, "dispersion", parameter={"Pearson chi-square": observed},
                      details=details)


def uniformity(res, alternative) -> TestResult:
    """Kolmogorov-Smirnov distance of the residuals from U(0, 1) (D+ for "greater", D-
    for "less"), against the same distance in each refit; large distances reject."""
    column = {"greater": "ks_greater", "less": "ks_less"}.get(alternative, "ks")
    observed, _, p, details = _compare(res, lambda v: v[column], "greater")
    return TestResult(observed, p, "Parametric bootstrap Kolmogorov-Smirnov test of the "
                      f"residuals against U(0, 1), {res.refits.usable} refits", alternative,
                      "D", details=details)


def zero_inflation(res, alternative) -> TestResult:
    """Zeros minus the zeros the fit expects, against the same difference for each
    simulated data set and its refit; the statistic is observed / expected zeros."""
    _, _, p, details = _compare(res, lambda v: v["zeros"] - v["expected_zeros"], alternative)
    zeros, expected = res.refits.observed["zeros"], res.refits.observed["expected_zeros"]
    if expected > 0:
        ratio = zeros / expected
    else:
        ratio = float("nan") if zeros == 0 else float("inf")
    return TestResult(ratio, p, "Parametric bootstrap zero-inflation test: observed minus "
                      f"expected zeros against {res.refits.usable} refits", alternative,
                      "ratioObsExp", details={**details, "expected": expected})


def outliers(res, alternative, margin) -> TestResult:
    """Residuals outside the simulation envelope, against their number in each refit."""
    margins = ("lower", "upper") if margin == "both" else (margin,)
    observed, simulated, p, details = _compare(
        res, lambda v: sum(v[f"outliers_{m}"] for m in margins), alternative)
    edge = 1.0 / (res.n_sim + 1)               # the envelope, as residual_statistics
    r = res.scaled_residuals
    mask = {"both": (r < edge) | (r > 1 - edge), "upper": r > 1 - edge, "lower": r < edge}[margin]
    return TestResult(observed, p, "Parametric bootstrap outlier test: residuals outside the "
                      f"simulation envelope, against {res.refits.usable} refits", alternative,
                      f"outliers at {margin} margin(s)", parameter={"observations": res.n_obs},
                      estimate={"mean outliers in the refits": float(simulated.mean())},
                      details={**details, "margin": margin, "outliers": mask})
