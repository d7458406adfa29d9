"""The outer optimizer's shortcut for variances that go to zero (``quasi_newton``).

On functions with a known minimum: a log SD (or a log dispersion) whose optimum is at minus
infinity is sent there in a jump (fewer evaluations than L-BFGS-B's crawl, and no worse a
value), the retreat from such a limit ends where a unit-by-unit walk would, and one
whose optimum is a small positive SD is not jumped over; a search that L-BFGS-B ends where
the objective could not be evaluated is started again."""
from __future__ import annotations

import numpy as np
import pytest

from glmm_lib.boundary import retreat
from glmm_lib.optimizer import quasi_newton
from glmm_lib.parameters import (IDENTITY, LOG, Kind, Parameter, ParameterLayout,
                                 ParameterTable)

LAYOUT = ParameterLayout(1, 1, {})
# a fixed effect and a random intercept's log SD
WITH_LOG_SD = ParameterTable((Parameter("b", Kind.FIXED, IDENTITY),
                              Parameter("t", Kind.LOG_SD, LOG)), LAYOUT)
# the same function, with t declared a fixed effect: the shortcut is never taken
NO_LOG_SD = ParameterTable((Parameter("b", Kind.FIXED, IDENTITY),
                            Parameter("t", Kind.FIXED, IDENTITY)), LAYOUT)
# t as the log of a dispersion with no formula (an NB1 phi or a gaussian residual SD)
WITH_LOG_DISPERSION = ParameterTable((Parameter("b", Kind.FIXED, IDENTITY),
                                      Parameter("t", Kind.DISPERSION, LOG, intercept=True)),
                                     ParameterLayout(1, 0, {"log_phi": 1}))


def counted(f):
    calls = []

    def wrapped(p):
        calls.append(p.copy())
        return f(p)
    return wrapped, calls


def variance_to_zero(p):
    """(b - 1)^2 + sd^2 with sd = exp(t): the infimum is at t = -inf."""
    b, t = p
    e = np.exp(2 * t)
    return (b - 1) ** 2 + e, np.array([2 * (b - 1), 2 * e])


def small_positive_variance(p):
    """(b - 1)^2 + 1e4 (sd^2 - s0^2)^2 with s0 = exp(-3.5): the minimum is at t = -3.5."""
    b, t = p
    e, e0 = np.exp(2 * t), np.exp(-7.0)
    return (b - 1) ** 2 + 1e4 * (e - e0) ** 2, np.array([2 * (b - 1), 1e4 * 4 * (e - e0) * e])


@pytest.mark.parametrize("table", [WITH_LOG_SD, WITH_LOG_DISPERSION],
                         ids=["log SD", "log dispersion"])
def test_a_variance_crawling_to_zero_is_sent_there(table):
    """A log SD, or a dispersion with no formula, whose optimum is at minus infinity."""
    start = np.array([0.0, 0.5])
    plain, plain_calls = counted(variance_to_zero)
    crawl = quasi_newton(plain, start, NO_LOG_SD, 1000)
    jumping, jump_calls = counted(variance_to_zero)
    result = quasi_newton(jumping, start, table, 1000)
    assert result.x[1] < crawl.x[1] - 3           # nearer the boundary ...
    assert result.fun <= crawl.fun + 1e-12        # ... at no worse a value
    assert abs(result.x[0] - 1) < 1e-6
    assert len(jump_calls) < len(plain_calls)


def test_the_retreat_from_a_limit_stops_where_the_unit_walk_stops():
    """The likelihood along a log SD at its limit: flat, then falling like SD^2 as the
    parameter comes back towards zero; the bisection ends at the last integer within the
    allowed loss, as walking to the integers one unit at a time would."""
    def walked(value_at, params, k, loss=1e-5):
        best, p = value_at(params), params.copy()
        while abs(p[k]) > 1.0:
            trial = p.copy()
            whole = np.trunc(p[k])          # to the integers first, then one unit a time
            trial[k] = whole if whole != p[k] else p[k] - np.sign(p[k])
            if not value_at(trial) >= best - loss:
                break
            p = trial
        return p

    for end in (-24.3, -13.0, -6.5, -2.2, -1.5):
        for scale in (1.0, 1e-3, 50.0):
            def value_at(p):
                return -scale * np.exp(2 * p[1]) - (p[0] - 1) ** 2

            params = np.array([1.0, end])
            assert np.array_equal(retreat(value_at, params, (1,)), walked(value_at, params, 1))


def test_a_small_positive_variance_is_not_jumped_over():
    result = quasi_newton(counted(small_positive_variance)[0], np.array([0.0, 0.5]), WITH_LOG_SD, 1000)
    assert abs(result.x[1] + 3.5) < 0.05
    assert abs(result.x[0] - 1) < 1e-6


def test_a_search_stopped_by_a_point_that_cannot_be_evaluated_goes_on():
    """L-BFGS-B declares convergence once a trial point gives no value (the inner mode fails
    there); which trial does depends on round-off, so the search is started again from its
    end point and reaches the minimum of this quadratic."""
    curvature, minimum = np.diag([1.0, 30.0, 0.2]), np.array([1.0, 2.0, -1.0])
    calls = []

    def fails_once(p):
        calls.append(p.copy())
        if len(calls) == 4:
            return np.inf, np.zeros_like(p)
        d = p - minimum
        return 0.5 * float(d @ curvature @ d), curvature @ d

    fixed = ParameterTable(tuple(Parameter(name, Kind.FIXED, IDENTITY) for name in "abc"),
                           ParameterLayout(3, 0, {}))
    result = quasi_newton(fails_once, np.zeros(3), fixed, 1000)
    np.testing.assert_allclose(result.x, minimum, atol=1e-6)
    assert np.max(np.abs(result.jac)) < 1e-6
