"""Profile-likelihood confidence intervals for variance parameters.

For one outer parameter at a time, the log-likelihood is maximized over all
the others with that one held fixed; the interval is where twice the drop from
the maximum stays below the chi-square(1) quantile.  Limits are found by
bracketing outwards from the estimate in steps of its Wald standard error and
then by Brent's method.  On the log-SD scale a limit that is never reached as
the SD goes to zero is reported as an SD of 0 (the profile is flat there).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.optimize
from scipy import stats

from .errors import GLMMInputError
from .laplace import InnerModeError
from .objectives import make_objective
from .parameters import Kind

# profiled: the variance parameters, and the intercepts of the log-scale auxiliary ones
_VARIANCE_KINDS = (Kind.LOG_SD, Kind.CORRELATION)
_LOG_SCALE_AUX_KINDS = (Kind.DISPERSION, Kind.SHAPE)


class _Profiler:
    def __init__(self, fit):
        # its own objective (on the distinct rows: the same likelihood, fewer rows), started
        # at the fit's modes
        self.objective = make_objective(fit.model, on_distinct_rows=True)
        self.best = fit.optimizer.end.copy()
        self.bounds = fit.parameters.bounds
        self.llf = fit.llf
        self.objective.mode(self.best, b_start=fit.state.b)

    def profile_value(self, index, value, start):
        """max over the other parameters of L with p[index] = value."""
        free = np.ones(self.best.size, dtype=bool)
        free[index] = False

        def negative(x):
            p = start.copy()
            p[free] = x
            p[index] = value
            try:
                state = self.objective.mode(p)
            except (InnerModeError, np.linalg.LinAlgError, FloatingPointError):
                return np.inf, np.zeros(x.size)
            return -state.value, -self.objective.gradient(state)[free]

        with np.errstate(all="ignore"):
            result = scipy.optimize.minimize(negative, start[free], jac=True, method="L-BFGS-B",
                                             bounds=[b for b, f in zip(self.bounds, free) if f],
                                             options={"ftol": 1e-13, "gtol": 1e-8, "maxiter": 500})
        point = start.copy()
        point[free] = result.x
        point[index] = value
        return -result.fun, point

    def limit(self, index, direction, cutoff, se, is_log_sd, max_steps=40):
        est = self.best[index]
        start = self.best.copy()
        step = max(se, 0.05) if np.isfinite(se) else 0.5
        inner, outer = est, None
        for k in range(1, max_steps + 1):
            value = est + direction * step * k
            ll, start = self.profile_value(index, value, start)
            if not np.isfinite(ll) or self.llf - ll > cutoff:
                outer = value
                break
            inner = value
            if is_log_sd and direction < 0 and value < est - 15:
                return -np.inf          # SD -> 0 without reaching the cut-off
        if outer is None:
            return direction * np.inf

        def excess(v):
            ll, _ = self.profile_value(index, v, self.best.copy())
            return (self.llf - ll if np.isfinite(ll) else 1e10) - cutoff

        return scipy.optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-6)


def profile_intervals(fit, level=0.95, parameters=None) -> pd.DataFrame:
    """Profile intervals for the variance, correlation and dispersion parameters.

    Rows are named by ``fit.optimizer.parameter_names``; columns give the estimate
    and limits on the optimizer's (internal) scale, and, for log-SD parameters, on the
    natural scale (``natural_*``, the SD)."""
    table = fit.parameters
    names = table.names
    candidates = table.where(*_VARIANCE_KINDS)
    candidates += [i for i in table.where(*_LOG_SCALE_AUX_KINDS) if table[i].intercept]
    if parameters is not None:
        wanted = set(parameters)
        candidates = [i for i in candidates if names[i] in wanted]
        missing = wanted - {names[i] for i in candidates}
        if missing:
            raise GLMMInputError(f"no variance parameter named {sorted(missing)}; choose from "
                                 f"{[names[i] for i in candidates]}")
    cutoff = stats.chi2.ppf(level, 1) / 2
    profiler = _Profiler(fit)
    cov = fit.cov_params(full=True).to_numpy()
    rows = []
    for i in candidates:
        se = np.sqrt(cov[i, i]) if cov[i, i] > 0 else np.nan
        is_log_sd = table[i].kind is Kind.LOG_SD
        lower = profiler.limit(i, -1, cutoff, se, is_log_sd)
        upper = profiler.limit(i, +1, cutoff, se, is_log_sd)
        row = {"parameter": names[i], "estimate": profiler.best[i], "lower": lower, "upper": upper}
        if is_log_sd:
            natural = table[i].transform.to_natural
            row.update(natural="sd", natural_estimate=natural(profiler.best[i]),
                       natural_lower=natural(lower), natural_upper=natural(upper))
        rows.append(row)
    return pd.DataFrame(rows).set_index("parameter")
