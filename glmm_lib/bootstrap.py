"""The parametric bootstrap of a fitted model: responses simulated from the fit, the
model refitted to each, and percentile intervals for every parameter.

>>> boot = gl.bootstrap(fit, nsim=1000, seed=1)
>>> boot.intervals          # estimate, bootstrap mean, bias, SE and the percentile interval
>>> boot.replicates         # one row per simulated data set: status and every parameter
>>> boot.failed             # refits that failed (kept in ``replicates``, not in the intervals)

This is what lme4's ``bootMer`` and MixedModels.jl's ``parametricbootstrap`` do.  The
parameters are the fixed effects, each random effect's standard deviation
(``sd_<term>|<group>``), the correlations (``cor_<term>.<term>|<group>``), the
``rho`` of ar1/cs terms, the dispersion as glmmTMB's ``sigma()`` (``sigma``; with a
dispersion model its coefficients ``disp~<coef>``) and zero-inflation coefficients
(``zi~<coef>``, logit scale).  The percentile interval at level 1 - a is given by the
a/2 and 1 - a/2 quantiles (numpy's default, linear interpolation) of the replicates
whose refit reached a maximum; refits with other convergence problems, such as a
variance estimated at zero, are kept, since dropping them would bias the intervals of
exactly the parameters near their boundary.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GLMMInputError
from .refit import refit
from .simulation_runner import run


def parameter_values(fit) -> dict:
    """Every parameter of a fit on its natural scale, named as in the module docstring.

    Read from the fit's estimates and each covariance structure's report, not from the
    tables ``varcorr`` and ``params_disp`` (DataFrames, and standard errors, that cost a
    fifth of a bootstrap refit)."""
    values = {str(k): float(v) for k, v in fit.params.items()}
    re = fit.model.random_effects
    for term, sl in zip(re.terms, re.theta_slices):
        report = term.structure.report(fit.theta[sl])
        group, names = term.group_name, term.term_names
        for i, name in enumerate(names):
            values[f"sd_{name}|{group}"] = float(report["sd"][i])
            if report.get("corr") is not None:
                for j, other in enumerate(names[:i]):
                    if np.isfinite(report["corr"][i, j]):
                        values[f"cor_{name}.{other}|{group}"] = float(report["corr"][i, j])
            if report.get("rho") is not None and np.isfinite(report["rho"]):
                values[f"rho|{group}"] = float(report["rho"])
    options = fit.model.options
    if options.dispersion:
        coefficients = fit.aux_coefficients[options.dispersion]
        if coefficients.size == 1:
            values["sigma"] = float(fit.sigma)
        else:
            values.update({f"disp~{k}": float(v) for k, v in
                           zip(fit.model.aux_names(options.dispersion), coefficients)})
    if options.zero_inflation:
        values.update({f"zi~{k}": float(v) for k, v in
                       zip(fit.model.aux_names(options.zero_inflation),
                           fit.aux_coefficients[options.zero_inflation])})
    return values


def check_fit(fit, what="fit"):
    if not all(hasattr(fit, a) for a in ("simulate", "optimizer", "model", "llf")):
        raise GLMMInputError(f"{what} must be a fitted model from glmm_lib.glmm() "
                             f"(got {type(fit).__name__})")


def percentile_intervals(replicates: pd.DataFrame, estimates: dict, level: float):
    usable = replicates[replicates["status"] != "failed"]
    alpha = 1 - level
    lower_label, upper_label = f"{100 * alpha / 2:g} %", f"{100 * (1 - alpha / 2):g} %"
    rows = {}
    for name, estimate in estimates.items():
        values = usable[name].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            lower, upper = np.quantile(values, [alpha / 2, 1 - alpha / 2])
            mean, se = values.mean(), values.std(ddof=1) if values.size > 1 else np.nan
        else:
            lower = upper = mean = se = np.nan
        rows[name] = {"Estimate": estimate, "mean": mean, "bias": mean - estimate,
                      "std. error": se, lower_label: lower, upper_label: upper,
                      "n": int(values.size)}
    return pd.DataFrame.from_dict(rows, orient="index")


class BootstrapJob:
    """One bootstrap replicate: simulate from the fit, refit from its estimates."""

    def __init__(self, fit, re):
        self.fit, self.re = fit, re
        self.names = list(parameter_values(fit))

    def __call__(self, sim, seed):
        y = self.fit.simulate(1, seed=seed, re=self.re)[:, 0]
        outcome = refit(self.fit.model, y, start=self.fit.optimizer.end)
        row = {"status": outcome.status, "problems": outcome.message}
        values = parameter_values(outcome.fit) if outcome.usable else {}
        row.update({name: values.get(name, np.nan) for name in self.names})
        return row


class BootstrapResult:
    """Replicates, intervals and the counts of failed and flagged refits."""

    def __init__(self, fit, replicates, info, level):
        self.fit = fit
        self.replicates = replicates
        self.info = info
        self.seed = info.seed
        self.estimates = parameter_values(fit)
        self.intervals = percentile_intervals(replicates, self.estimates, level)
        self.nsim = len(replicates)
        self.failed = int((replicates["status"] == "failed").sum())
        self.flagged = int((replicates["status"] == "warning").sum())

    def conf_int(self, level=0.95) -> pd.DataFrame:
        """Percentile intervals at another level, from the same replicates."""
        _check_level(level)
        table = percentile_intervals(self.replicates, self.estimates, level)
        return table[table.columns[4:6]]

    def __repr__(self):
        lines = [f"Parametric bootstrap of {self.fit.formula!r}: {self.nsim} simulations, "
                 f"{self.failed} failed refits (left out), {self.flagged} kept with "
                 f"convergence warnings, {self.info.retried} chunks retried",
                 self.intervals.to_string(float_format=lambda v: f"{v:.4g}")]
        return "\n".join(lines)


def _check_level(level):
    if not isinstance(level, (float, int)) or not 0 < level < 1:
        raise GLMMInputError(f"level must be a number between 0 and 1, got {level!r}")


def bootstrap(fit, nsim=1000, seed=None, level=0.95, re="new", *, workers=1, scheduler=None,
              chunk_size=None, store=None, resume=False, progress=True) -> BootstrapResult:
    """Parametric bootstrap of ``fit``: ``nsim`` responses simulated from it (random
    effects drawn anew with ``re="new"``, as bootMer's default), the model refitted to
    each from the fit's estimates, percentile intervals at ``level``.

    ``workers``, ``scheduler``, ``chunk_size``, ``store``, ``resume`` and ``progress``:
    how the simulations run (``glmm_lib.simulation_runner``).  The result is the same
    for any number of workers and chunk size, given the ``seed``."""
    check_fit(fit)
    _check_level(level)
    if re not in ("new", "conditional"):
        raise GLMMInputError("re must be 'new' or 'conditional'")
    job = BootstrapJob(fit, re)
    table, info = run(job, nsim, seed, workers=workers, scheduler=scheduler,
                      chunk_size=chunk_size, store=store, resume=resume, progress=progress,
                      label="bootstrap", description={"what": "bootstrap", "formula": fit.formula,
                                                      "family": fit.family.name, "re": re,
                                                      "llf": fit.llf})
    columns = ["sim", "status", "problems"] + job.names
    return BootstrapResult(fit, table[columns], info, level)
