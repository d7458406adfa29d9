"""Residual tests by refitting (DHARMa's ``refit = TRUE``, done as a parametric
bootstrap of the test statistics).

Simulated residuals without refitting compare the observed data with data
simulated from the fitted parameters; but the observed data were *used* to get
those parameters, and the simulated data were not.  In a mixed model the gap is
large: the fit absorbs part of the observed variation into its random effects,
so with random effects drawn anew the observed data look too tame (the
dispersion test hardly ever rejects), and with conditional ones too wild or too
tame depending on the design.  Refitting closes the gap: every statistic
``T(y, fit(y))`` of the observed data and its fit is compared with the same
statistic ``T(y*, fit(y*))`` of data simulated from the fit (random effects
drawn anew: the parametric bootstrap) and the model refitted to them.  Under
the model the two are (nearly) exchangeable, which is what calibrates the tests.

The statistics, computed alike for the data and for every refit:

* the Pearson chi-square (dispersion);
* the residuals themselves are the conditional ones (the position of each
  response among ``n_sim`` responses simulated from its fit with the random
  effects at their modes, ties broken at random), and from them the
  Kolmogorov-Smirnov distance from U(0, 1) (uniformity: its p-value comes from
  the refits, not from the Kolmogorov distribution, which would assume
  independent residuals) and the number of residuals outside the simulation
  envelope (outliers);
* the zeros minus the zeros the fit expects (the sum of each observation's
  probability of a zero at its conditional mean).

Conditional residuals are what the plots and the quantile test use: they share
the scale of the fitted values (with random effects drawn anew, residuals of a
block with a large effect pile up at 1), and compared with refits their
known bias (they look too uniform, as the fit has adapted to the data) is
present in the refits too, so it cancels.

Each refit starts from the fit's estimates (the refit engine,
:mod:`glmm_lib.refit`).  A refit that fails is counted
(``RefitSimulations.failed``, with its messages) and left out of every
comparison; refits that end with convergence warnings (typically a variance
estimated at zero) are kept and counted in ``flagged``, since dropping them
would bias exactly the data sets near the boundary.  The cost is ``n_sim``
fits plus ``n_sim`` times ``n_sim`` simulated responses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import GLMMInputError
from ..refit import refit
from ..simulation_runner import run
from .residuals import scaled_residuals

__all__ = ["RefitSimulations", "simulate_refits", "residual_statistics", "ks_distances"]

# the statistics of one data set and its fit (columns of RefitSimulations.statistics)
STATISTICS = ("chisq", "ks", "ks_greater", "ks_less", "outliers_lower", "outliers_upper",
              "zeros", "expected_zeros")


@dataclass
class RefitSimulations:
    """The statistics of the data and its fit (``observed``) and of every usable refit
    (``statistics``, one row per refit in simulation order; columns ``STATISTICS``).

    failed : refits that failed (left out), with their messages in ``problems``.
    flagged : refits kept with convergence warnings.
    n_sim : simulated data sets (usable or not).
    """
    observed: dict
    statistics: pd.DataFrame
    failed: int
    flagged: int
    n_sim: int
    problems: list = field(default_factory=list, repr=False)

    @property
    def usable(self) -> int:
        return len(self.statistics)

    def describe(self) -> str:
        return (f"{self.usable} of {self.n_sim} refits used ({self.failed} failed, "
                f"{self.flagged} kept with convergence warnings)")


def expected_zeros(fit) -> float:
    """The number of zeros ``fit`` expects: the sum over observations of P(y = 0) at
    the conditional means (0 for families without mass at zero)."""
    if not fit.family.integer_response:
        return 0.0
    model, state = fit.model, fit.state
    mu = fit.family.link.inverse(state.eta)
    with np.errstate(all="ignore"):
        log_p0 = fit.family.loglik(np.zeros(model.nobs), mu, state.aux, model.trials)
    return float(np.sum(np.exp(log_p0)))


def ks_distances(residuals, alternative="two.sided"):
    """Kolmogorov-Smirnov distance from U(0, 1) of every column of ``residuals`` (n, m),
    as scipy's ``kstest``: D+ for "greater", D- for "less", the larger for two-sided."""
    u = np.sort(np.asarray(residuals, dtype=float), axis=0)
    n = u.shape[0]
    i = np.arange(1, n + 1)[:, None]
    d_plus = np.max(i / n - u, axis=0)
    d_minus = np.max(u - (i - 1) / n, axis=0)
    return {"greater": d_plus, "less": d_minus}.get(alternative, np.maximum(d_plus, d_minus))


def residual_statistics(fit, y, n_sim, rng):
    """The conditional scaled residuals of the response ``y`` under ``fit`` (``n_sim``
    simulations with the random effects at their modes), the simulations, and the
    statistics the refit tests compare (``STATISTICS``)."""
    simulated = np.asarray(fit.simulate(n_sim, seed=rng, re="conditional"), dtype=float)
    residuals = scaled_residuals(simulated, y, rng)
    pearson = np.asarray(fit.resid_pearson(), dtype=float)
    edge = 1.0 / (n_sim + 1)            # outside the envelope, as test_outliers
    r = residuals[:, None]
    values = {"chisq": float(np.sum(pearson ** 2)),
              "ks": float(ks_distances(r)[0]),
              "ks_greater": float(ks_distances(r, "greater")[0]),
              "ks_less": float(ks_distances(r, "less")[0]),
              "outliers_lower": float(np.sum(residuals < edge)),
              "outliers_upper": float(np.sum(residuals > 1 - edge)),
              "zeros": float(np.sum(y == 0)), "expected_zeros": expected_zeros(fit)}
    if not np.isfinite(values["chisq"]):
        raise FloatingPointError("non-finite Pearson residuals (a fitted variance of zero)")
    return residuals, simulated, values


class RefitJob:
    """One simulated data set: responses from the fit (random effects drawn anew), the
    model refitted to them, and the statistics of the refit."""

    def __init__(self, fit, n_sim):
        self.fit, self.n_sim = fit, n_sim

    def __call__(self, sim, seed):
        rng = np.random.default_rng(seed)
        y = self.fit.simulate(1, seed=rng, re="new")[:, 0]
        outcome = refit(self.fit.model, y, start=self.fit.optimizer.end)
        row = {"status": outcome.status, "problems": outcome.message}
        row.update({name: np.nan for name in STATISTICS})
        if outcome.usable:
            try:
                with np.errstate(all="ignore"):
                    row.update(residual_statistics(outcome.fit, y, self.n_sim, rng)[2])
            except (ValueError, FloatingPointError, OverflowError) as err:
                row.update(status="failed", problems=f"{type(err).__name__}: {err}")
        return row


def simulate_refits(fit, n_sim, seed, observed, *, workers=1, scheduler=None,
                    progress=False):
    """Refit ``fit``'s model to ``n_sim`` data sets simulated from it: the
    :class:`RefitSimulations`, with ``observed`` (the statistics of the data, from
    :func:`residual_statistics`).  Raises GLMMInputError when fewer than two refits
    succeed."""
    table, _ = run(RefitJob(fit, n_sim), n_sim, seed, workers=workers, scheduler=scheduler,
                   progress=progress, label="refits")
    ok = (table["status"] != "failed").to_numpy()
    problems = [f"simulation {s}: {p}" for s, p, bad in
                zip(table["sim"], table["problems"], ~ok) if bad]
    if ok.sum() < 2:
        raise GLMMInputError(
            f"only {int(ok.sum())} of {n_sim} refits of the simulated data succeeded, so the "
            "refit tests cannot be computed; the first problems: " + "; ".join(problems[:3]))
    return RefitSimulations(
        observed=observed, statistics=table.loc[ok, list(STATISTICS)].reset_index(drop=True),
        failed=int((~ok).sum()), flagged=int((table["status"] == "warning").sum()),
        n_sim=n_sim, problems=problems)
