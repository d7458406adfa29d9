"""Scaled (quantile) residuals by simulation from a fitted model, after DHARMa's
``simulateResiduals``.

The scaled residual of an observation is the empirical distribution function
of its simulations at the observed value.  Where simulations tie with the
observation (always possible for counts), the residual is drawn uniformly
between P(sim < obs) and P(sim <= obs) -- the probability integral transform
for discrete data (DHARMa's "PIT" method).  Under the model the residuals are
then uniform on (0, 1), whatever the family.

Fitted values (as DHARMa): population-level (random effects at zero) for
``re="new"``, with the conditional modes for ``re="conditional"``, as DHARMa's
``getFitted`` (plotted against predictions that include the modes, residuals
from random effects drawn anew rise with the prediction even for a correct
model; a quantile test on them rejected 75% of correct models).

With ``refit=True`` the residuals are the conditional ones (fitted values
with the modes), and the model is also refitted to data sets simulated with
random effects drawn anew, so that the tests can compare every statistic of
the data with the refits' (:mod:`~glmm_lib.diagnostics.refit_residuals`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConvergenceWarning, GLMMInputError
from .htest import tests_frame

__all__ = ["SimulatedResiduals", "simulate_residuals", "from_simulations", "scaled_residuals",
           "check_residuals"]


@dataclass(repr=False)
class SimulatedResiduals:
    """Scaled (quantile) residuals from simulations of a fitted model.

    Attributes
    ----------
    scaled_residuals : (n,) residuals in [0, 1], uniform under the model.
    simulated_response : (n, n_sim) responses simulated from the fit
        (binomial: successes out of the fit's trials).
    observed_response : (n,) the response as the model sees it.
    fitted : (n,) the fit's prediction on the response scale (a probability
        for binomial fits): population-level (random effects at zero) for
        ``re="new"``, as DHARMa; including the conditional modes for
        ``re="conditional"``.  Plots and the quantile test use it.
    n_sim, seed, re : how the simulations were made; the same ``seed``,
        ``re`` and ``refit`` give the same residuals.
    integer_response : whether the family is integer-valued (residuals of
        tied simulations are randomised).
    family : the family's name.
    data : the model frame's rows (factors as categoricals), for plotting
        residuals against a column; ``None`` when built from bare arrays.
    fit : the fitted model (``None`` when built from bare arrays).
    refits : with ``refit=True``, what the refits left
        (:class:`~glmm_lib.diagnostics.refit_residuals.RefitSimulations`: the
        statistics of the data and of every refit, the failed refits); the
        tests then compare the observed statistics with the refitted ones.
    """
    scaled_residuals: np.ndarray
    simulated_response: np.ndarray
    observed_response: np.ndarray
    fitted: np.ndarray
    n_sim: int
    seed: int | None
    re: str
    integer_response: bool
    family: str = ""
    data: pd.DataFrame | None = None
    fit: object | None = None
    refits: "RefitSimulations | None" = None    # noqa: F821 (refit_residuals imports this module)

    @property
    def refitted(self) -> bool:
        return self.refits is not None

    @property
    def residuals(self) -> np.ndarray:
        return self.scaled_residuals

    @property
    def n_obs(self) -> int:
        return len(self.scaled_residuals)

    def transformed(self, distribution="norm", outlier_values=(-7.0, 7.0)) -> np.ndarray:
        """Residuals mapped through a quantile function (DHARMa's
        ``residuals(x, quantileFunction = qnorm)``): 0 and 1 become
        ``outlier_values``."""
        dist = getattr(stats, distribution) if isinstance(distribution, str) else distribution
        r = self.scaled_residuals
        out = np.asarray(dist.ppf(r), dtype=float)
        out[r <= 0] = outlier_values[0]
        out[r >= 1] = outlier_values[1]
        return out

    def tests(self) -> pd.DataFrame:
        """All five tests in one table (statistic, p-value, method)."""
        from . import simulation_tests   # imported here: the tests import this module
        return tests_frame(simulation_tests.test_all(self))

    def __repr__(self):
        src = f"{self.family} fit, " if self.family else ""
        refits = f"; {self.refits.describe()}" if self.refitted else ""
        return (f"<SimulatedResiduals: {self.n_obs} observations, {self.n_sim} simulations "
                f"({src}re={self.re!r}, seed={self.seed}{refits})>")



def scaled_residuals(simulated, observed, rng) -> np.ndarray:
    """Empirical CDF of each row of ``simulated`` at ``observed``, randomised
    uniformly between P(sim < obs) and P(sim <= obs) where they differ."""
    simulated = np.asarray(simulated, dtype=float)
    observed = np.asarray(observed, dtype=float)
    below = (simulated < observed[:, None]).mean(axis=1)
    below_or_equal = (simulated <= observed[:, None]).mean(axis=1)
    tied = below != below_or_equal
    out = below.copy()
    if tied.any():
        draws = rng.uniform(size=len(out))   # one draw per observation: same seed, same draws
        out[tied] = below[tied] + draws[tied] * (below_or_equal[tied] - below[tied])
    return out


def _resolve_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        raise GLMMInputError("seed must be an integer (it is stored so that the residuals can be "
                             "reproduced) or None")
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise GLMMInputError(f"seed must be an integer or None, not {seed!r}") from None
    if seed < 0:
        raise GLMMInputError(f"seed must be non-negative, not {seed}")
    return seed


def _check_n_sim(n_sim):
    if isinstance(n_sim, bool) or not isinstance(n_sim, (int, np.integer)) or n_sim < 2:
        raise GLMMInputError(f"n_sim must be an integer >= 2 (250 or more is usual), "
                             f"not {n_sim!r}")
    return int(n_sim)


def _check_simulable(fit):
    """Raise GLMMInputError saying why ``fit`` cannot be simulated, if it cannot."""
    for attr in ("simulate", "model", "family", "predict"):
        if not hasattr(fit, attr):
            raise GLMMInputError(
                f"simulate_residuals needs a fitted model from glmm_lib.glmm(); got "
                f"{type(fit).__name__}, which has no .{attr}")
    model, family = fit.model, fit.family
    if type(family).simulate is _base_family_simulate():
        raise GLMMInputError(
            f"the {family.name} family cannot simulate responses (it defines no simulate "
            "method), so simulated residuals are not available for this model")
    weights = np.asarray(model.weights, dtype=float)
    if not np.allclose(weights, 1.0):
        raise GLMMInputError(
            "the model was fitted with prior weights (weights= other than the binomial number "
            "of trials); they scale each observation's log-likelihood, but there is no response "
            f"distribution of the {family.name} family with those weights to simulate from, so "
            "the simulated residuals would be wrong. Refit without weights (for binomial data, "
            "give the trials as cbind(successes, failures) or proportion + weights=trials)")
    params = np.asarray(fit.optimizer.end, dtype=float) if hasattr(fit, "optimizer") else None
    if params is not None and not np.all(np.isfinite(params)):
        try:
            names = np.asarray(model.parameter_names())[~np.isfinite(params)]
            which = f" ({', '.join(map(str, names))})"
        except (AttributeError, IndexError, ValueError):
            which = ""
        raise GLMMInputError(f"the fit has non-finite parameter estimates{which}; there is no "
                             "model to simulate from")


def _base_family_simulate():
    from ..families import Family
    return Family.simulate


def simulate_residuals(fit, n_sim: int = 250, seed: int | None = None, re: str | None = None,
                       refit: bool = False, *, workers: int = 1, scheduler=None,
                       progress: bool = False) -> SimulatedResiduals:
    """Simulated quantile residuals of a fitted GLMM, as DHARMa's ``simulateResiduals``.

    For mixed models use ``refit=True`` (the model refitted to every simulated
    data set; the tests are then calibrated, see
    :mod:`~glmm_lib.diagnostics.refit_residuals`): it costs ``n_sim`` fits,
    about 8 s of CPU for the 1300-row webworm NB1 model.  Without refitting the tests
    of a mixed model are miscalibrated: with random effects drawn anew they
    rarely reject, with conditional ones they reject correct models too often.

    Parameters
    ----------
    fit : a ``GLMMResults`` from :func:`glmm_lib.glmm`.
    n_sim : number of simulated data sets (250 as DHARMa; more make the
        residuals and the tests' p-values less noisy).
    seed : integer seed; the same seed gives the same simulations and the same
        residuals.  ``None`` draws one, stored in the result's ``seed``.
    re : ``"new"`` (the default) draws the random effects anew in every
        simulation (the unconditional simulation that glmmTMB and DHARMa use
        by default); ``"conditional"`` keeps them at their conditional modes.
        Not with ``refit=True``, which fixes both: data sets simulated with
        random effects drawn anew, conditional residuals (``res.re`` is then
        ``"conditional"``).
    refit : refit the model to every simulated data set (DHARMa's
        ``refit = TRUE``); failed refits are counted in ``res.refits.failed``
        and left out of the tests.
    workers, scheduler, progress : where the refits run
        (:func:`glmm_lib.simulation_runner.run`): in this process by default,
        on a local Dask cluster with ``workers=n``, on a running one with
        ``scheduler="tcp://host:8786"``.  The residuals do not depend on them.

    Raises
    ------
    GLMMInputError when the model cannot be simulated (prior weights, a family
    without simulation, a failed fit) or the arguments are invalid.
    """
    n_sim = _check_n_sim(n_sim)
    if not isinstance(refit, (bool, np.bool_)):
        raise GLMMInputError(f"refit must be True or False, not {refit!r}")
    if refit and re is not None:
        raise GLMMInputError("with refit=True the data sets are simulated with random effects "
                             "drawn anew and the residuals are the conditional ones; leave re "
                             f"unset (got re={re!r})")
    re = "conditional" if refit else "new" if re is None else re
    if re not in ("new", "conditional"):
        raise GLMMInputError(f"re must be 'new' (random effects drawn anew) or 'conditional' "
                             f"(kept at their modes), not {re!r}")
    _check_simulable(fit)
    seed = _resolve_seed(seed)
    if hasattr(fit, "converged") and not fit.converged:
        warnings.warn("the fit did not converge; its simulated residuals describe the "
                      "parameters where the optimizer stopped", ConvergenceWarning, stacklevel=2)
    rng = np.random.default_rng(seed)
    hint = (" With random effects drawn anew the linear predictor can leave the range the "
            f"{fit.family.link.name} link maps to valid means (a negative mean under the "
            "inverse link, say); re='conditional' or a link that keeps the mean in range (log) "
            "avoids it." if re == "new" else "")
    refits = None
    observed = np.asarray(fit.model.y, dtype=float)
    try:
        with np.errstate(all="ignore"):
            if refit:
                from . import refit_residuals      # imported here: it imports this module
                residuals, simulated, statistics = refit_residuals.residual_statistics(
                    fit, observed, n_sim, rng)
                refits = refit_residuals.simulate_refits(
                    fit, n_sim, seed, statistics, workers=workers, scheduler=scheduler,
                    progress=progress)
            else:
                simulated = np.asarray(fit.simulate(n_sim, seed=rng, re=re), dtype=float)
    except NotImplementedError:
        raise GLMMInputError(f"the {fit.family.name} family cannot simulate responses, so "
                             "simulated residuals are not available for this model") from None
    except (ValueError, FloatingPointError, OverflowError) as err:
        raise GLMMInputError(f"simulating from the {fit.family.name} fit failed ({err}): some "
                             "simulated means or dispersions are outside the family's range."
                             + hint) from None
    model = fit.model
    if simulated.shape != (len(observed), n_sim):
        raise GLMMInputError(f"the fit's simulate() returned shape {simulated.shape}, expected "
                             f"{(len(observed), n_sim)}")
    bad = ~np.all(np.isfinite(simulated), axis=1)
    if bad.any():
        raise GLMMInputError(
            f"simulations from the fit are not finite for {int(bad.sum())} observations "
            f"(first rows: {', '.join(map(str, model.frame.data.index[bad][:5]))}); the "
            "simulated means or dispersion are degenerate there, so the model cannot be "
            "simulated." + hint)
    # population-level predictions for unconditional simulations, as DHARMa's getFitted
    # (re.form = ~0): against predictions that include the modes, residuals from
    # random effects drawn anew rise with the prediction even for a correct model
    fitted = np.asarray(fit.predict(type="response", re_form="~0" if re == "new" else None),
                        dtype=float)
    if refits is None:
        residuals = scaled_residuals(simulated, observed, rng)
    return SimulatedResiduals(
        scaled_residuals=residuals, simulated_response=simulated, observed_response=observed,
        fitted=fitted, n_sim=n_sim, seed=seed, re=re,
        integer_response=bool(fit.family.integer_response), family=fit.family.name,
        data=model.frame.data, fit=fit, refits=refits)


def from_simulations(simulated, observed, fitted=None, integer_response=None, seed=None,
                     data=None) -> SimulatedResiduals:
    """Scaled residuals from simulations made elsewhere (DHARMa's ``createDHARMa``).

    ``simulated`` is (n, n_sim), ``observed`` (n,); ``fitted`` defaults to the
    row means of the simulations; ``integer_response`` is guessed from the
    values when not given.
    """
    simulated = np.asarray(simulated, dtype=float)
    observed = np.asarray(observed, dtype=float).ravel()
    if simulated.ndim != 2 or simulated.shape[0] != observed.size:
        raise GLMMInputError(f"simulated must be (n_obs, n_sim) with n_obs = {observed.size} "
                             f"observations; got shape {simulated.shape}")
    _check_n_sim(simulated.shape[1])
    if not (np.all(np.isfinite(simulated)) and np.all(np.isfinite(observed))):
        raise GLMMInputError("simulated and observed values must be finite")
    seed = _resolve_seed(seed)
    if integer_response is None:
        integer_response = bool(np.all(simulated == np.round(simulated))
                                and np.all(observed == np.round(observed)))
    fitted = simulated.mean(axis=1) if fitted is None else np.asarray(fitted, dtype=float).ravel()
    if fitted.size != observed.size:
        raise GLMMInputError(f"fitted has {fitted.size} values for {observed.size} observations")
    rng = np.random.default_rng(seed)
    return SimulatedResiduals(scaled_residuals(simulated, observed, rng), simulated, observed,
                              fitted, simulated.shape[1], seed, "external", bool(integer_response),
                              data=data)



def check_residuals(res):
    """``res`` itself if it is a :class:`SimulatedResiduals`; a clear error otherwise."""
    if not isinstance(res, SimulatedResiduals):
        raise GLMMInputError("expected the result of simulate_residuals(fit), not "
                             f"{type(res).__name__}")
    return res
