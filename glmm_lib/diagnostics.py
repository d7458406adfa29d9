"""Residual diagnostics by simulation, after DHARMa (Hartig).

A fitted model is checked against data simulated from itself:

1. ``simulate_residuals(fit, n_sim=250, seed=...)`` simulates ``n_sim`` response
   vectors from the fit (random effects drawn anew by default, or kept at their
   conditional modes with ``re="conditional"``).
2. The *scaled residual* of an observation is the empirical distribution
   function of its simulations at the observed value.  Where simulations tie
   with the observation (always possible for counts), the residual is drawn
   uniformly between P(sim < obs) and P(sim <= obs) -- the probability
   integral transform for discrete data (DHARMa's "PIT" method).  Under the
   model the residuals are then uniform on (0, 1), whatever the family.
3. Tests on the result, each returning a :class:`TestResult` with a
   statistic, a p-value, the method and the alternative, as DHARMa reports:
   :func:`test_uniformity` (Kolmogorov-Smirnov against the uniform),
   :func:`test_dispersion` (spread of observed vs simulated responses),
   :func:`test_zero_inflation` (observed vs simulated zeros),
   :func:`test_outliers` (observations outside the simulation envelope,
   exact binomial test), :func:`test_quantiles` (quantile regressions of the
   residuals on the rank-transformed prediction) and
   :func:`test_categorical` (residuals within the levels of a factor).

Plots are in :mod:`glmm_lib.diagnostic_plots` (matplotlib is imported there
only).

Conditional or new random effects?  With random effects drawn anew (the
default, as glmmTMB and DHARMa) the residuals are uniform under the model, but
the dispersion test of a mixed model has little power: the spread of each
simulated data set is dominated by its simulated group effects.  Measured on
nbinom1 data (Var = 2 mu, 10 groups x 10) fitted as Poisson, the dispersion
test rejected 11% of data sets with ``re="new"`` and 88% with
``re="conditional"``; on the webworm counts the Poisson fit's p-value is about
0.03-0.06 and 0 (of 250 simulations) respectively.  As DHARMa advises, test the
dispersion of mixed models on conditional simulations as well.  For small data
sets (ten groups) all tests are conservative with either choice (mean p-value
about 0.7 for a correct model), because the fitted parameters match the
realised group effects.

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
* Fitted values (as DHARMa): population-level (random effects at zero) for
  ``re="new"``, with the conditional modes for ``re="conditional"``, as
  DHARMa's ``getFitted`` (plotted against predictions that include the modes,
  residuals from random effects drawn anew rise with the prediction even for
  a correct model; a quantile test on them rejected 75% of correct models).
* Quantile test: DHARMa fits penalised smooths with qgam; here each quantile
  is an unpenalised quantile regression (statsmodels ``QuantReg``) on a cubic
  B-spline basis of the rank-transformed prediction, with a Wald test of the
  level (intercept = nominal quantile) and one of the shape (spline
  coefficients = 0), combined as DHARMa combines its two (Benjamini-Hochberg,
  smallest adjusted p), and the quantiles combined the same way.
* Outlier test: only DHARMa's ``type="binomial"`` (exact binomial test
  against the frequency 2/(n_sim + 1)); DHARMa's bootstrap variant is not
  implemented.  As DHARMa warns, for integer responses the binomial
  expectation is approximate.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.interpolate import BSpline

from .errors import ConvergenceWarning, GLMMInputError

__all__ = ["SimulatedResiduals", "TestResult", "simulate_residuals", "from_simulations",
           "test_uniformity", "test_dispersion", "test_zero_inflation", "test_outliers",
           "test_quantiles", "test_categorical", "test_all", "rank_transform"]

_ALTERNATIVES = {"two.sided": "two.sided", "two-sided": "two.sided", "two_sided": "two.sided",
                 "greater": "greater", "less": "less"}


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass
class TestResult:
    """The outcome of one diagnostic test, as R's ``htest`` prints it.

    ``statistic`` is named by ``statistic_name``; ``details`` holds what a plot
    or a reader may want besides (the simulated statistics, per-quantile
    p-values, fitted quantile curves, ...).
    """
    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    method: str
    alternative: str
    statistic_name: str = "statistic"
    parameter: dict = field(default_factory=dict)
    estimate: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict, repr=False)

    @property
    def pvalue(self) -> float:
        """Alias of ``p_value`` (scipy's spelling)."""
        return self.p_value

    @property
    def significant(self) -> bool:
        """p <= 0.05, the threshold DHARMa's plots colour by."""
        return bool(np.isfinite(self.p_value) and self.p_value <= 0.05)

    def __str__(self):
        lines = ["", f"\t{self.method}", ""]
        parts = [f"{self.statistic_name} = {_fmt(self.statistic)}"]
        parts += [f"{k} = {_fmt(v)}" for k, v in self.parameter.items()]
        p = "< 2.2e-16" if self.p_value < 2.2e-16 else "= " + _fmt(self.p_value)
        parts.append(f"p-value {p}")
        lines.append(", ".join(parts))
        lines.append(f"alternative hypothesis: {self.alternative}")
        for k, v in self.estimate.items():
            lines.append(f"{k}: {_fmt(v)}")
        return "\n".join(lines) + "\n"


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


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
    n_sim, seed, re : how the simulations were made; the same ``seed`` and
        ``re`` give the same residuals.
    integer_response : whether the family is integer-valued (residuals of
        tied simulations are randomised).
    family : the family's name.
    data : the model frame's rows (factors as categoricals), for plotting
        residuals against a column; ``None`` when built from bare arrays.
    fit : the fitted model (``None`` when built from bare arrays).
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
        return tests_frame(test_all(self))

    def __repr__(self):
        src = f"{self.family} fit, " if self.family else ""
        return (f"<SimulatedResiduals: {self.n_obs} observations, {self.n_sim} simulations "
                f"({src}re={self.re!r}, seed={self.seed})>")


# ---------------------------------------------------------------------------
# residuals
# ---------------------------------------------------------------------------
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
    from .families import Family
    return Family.simulate


def simulate_residuals(fit, n_sim: int = 250, seed: int | None = None,
                       re: str = "new") -> SimulatedResiduals:
    """Simulated quantile residuals of a fitted GLMM, as DHARMa's ``simulateResiduals``.

    Parameters
    ----------
    fit : a ``GLMMResults`` from :func:`glmm_lib.glmm`.
    n_sim : number of simulated data sets (250 as DHARMa; more make the
        residuals and the tests' p-values less noisy).
    seed : integer seed; the same seed gives the same simulations and the same
        residuals.  ``None`` draws one, stored in the result's ``seed``.
    re : ``"new"`` draws the random effects anew in every simulation (the
        unconditional simulation that glmmTMB and DHARMa use by default);
        ``"conditional"`` keeps them at their conditional modes.

    Raises
    ------
    GLMMInputError when the model cannot be simulated (prior weights, a family
    without simulation, a failed fit) or the arguments are invalid.
    """
    n_sim = _check_n_sim(n_sim)
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
    try:
        with np.errstate(all="ignore"):
            simulated = np.asarray(fit.simulate(n_sim, seed=rng, re=re), dtype=float)
    except NotImplementedError:
        raise GLMMInputError(f"the {fit.family.name} family cannot simulate responses, so "
                             "simulated residuals are not available for this model") from None
    except (ValueError, FloatingPointError, OverflowError) as err:
        raise GLMMInputError(f"simulating from the {fit.family.name} fit failed ({err}): some "
                             "simulated means or dispersions are outside the family's range."
                             + hint) from None
    model = fit.model
    observed = np.asarray(model.y, dtype=float)
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
    residuals = scaled_residuals(simulated, observed, rng)
    return SimulatedResiduals(
        scaled_residuals=residuals, simulated_response=simulated, observed_response=observed,
        fitted=fitted, n_sim=n_sim, seed=seed, re=re,
        integer_response=bool(fit.family.integer_response), family=fit.family.name,
        data=model.frame.data, fit=fit)


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


# ---------------------------------------------------------------------------
# helpers for the tests
# ---------------------------------------------------------------------------
def _alternative(alternative):
    try:
        return _ALTERNATIVES[alternative]
    except KeyError:
        raise GLMMInputError(f"alternative must be 'two.sided', 'greater' or 'less', not "
                             f"{alternative!r}") from None


def _check_res(res):
    if not isinstance(res, SimulatedResiduals):
        raise GLMMInputError("expected the result of simulate_residuals(fit), not "
                             f"{type(res).__name__}")
    return res


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


def _bh_min(p):
    """Smallest Benjamini-Hochberg adjusted p-value of ``p`` (NaNs dropped)."""
    p = np.asarray(p, dtype=float)
    p = np.sort(p[np.isfinite(p)])
    if p.size == 0:
        return float("nan")
    m = p.size
    return float(min(1.0, np.min(p * m / np.arange(1, m + 1))))


def _holm_min(p):
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    return float("nan") if p.size == 0 else float(min(1.0, p.min() * p.size))


def _bh_adjust(p):
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q = p[ok]
        order = np.argsort(q, kind="stable")
        m = q.size
        adj = q[order] * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return out


def rank_transform(x) -> np.ndarray:
    """Ranks (ties averaged) divided by the largest rank, in (0, 1] (DHARMa's
    ``rankTransform``)."""
    r = stats.rankdata(np.asarray(x, dtype=float), method="average")
    return r / r.max()


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------
def test_uniformity(res: SimulatedResiduals, alternative="two.sided") -> TestResult:
    """One-sample Kolmogorov-Smirnov test of the scaled residuals against U(0, 1)."""
    res = _check_res(res)
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
    res = _check_res(res)
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
    res = _check_res(res)
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
    res = _check_res(res)
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


def _spline_basis(x, knots, degree):
    """Cubic (or lower) B-spline columns without the first (the intercept is separate)."""
    basis = BSpline.design_matrix(np.clip(x, knots[0], knots[-1]), knots, degree).toarray()
    return basis[:, 1:]


def _quantile_design(x, df):
    """Knots and degree of a B-spline basis with ``df`` columns besides the intercept."""
    xs = np.unique(x)
    df = int(min(df, xs.size - 1))
    if df < 1:
        return None
    degree = min(3, df)
    n_inner = df - degree
    inner = np.quantile(x, np.linspace(0, 1, n_inner + 2)[1:-1]) if n_inner > 0 else np.empty(0)
    lo, hi = float(xs[0]), float(xs[-1])
    knots = np.concatenate([np.repeat(lo, degree + 1), inner, np.repeat(hi, degree + 1)])
    return knots, degree


def test_quantiles(res: SimulatedResiduals, predictor=None, quantiles=(0.25, 0.5, 0.75),
                   df: int = 4, rank: bool = True, adjust: str = "BH",
                   grid_size: int = 200) -> TestResult:
    """Do the quantiles of the residuals stay at their nominal values along the prediction?

    For each quantile q, a quantile regression (statsmodels ``QuantReg``) of
    ``residual - q`` on an intercept and a cubic B-spline basis with ``df``
    columns of the (rank-transformed) prediction: a t-test of the intercept
    (the level, columns centred) and a Wald chi-square test of the spline
    coefficients (the shape), combined by the smallest Benjamini-Hochberg
    adjusted p-value as DHARMa combines its qgam intercept and smooth tests;
    the quantiles' p-values are combined the same way into ``p_value``
    (``adjust="holm"``: the smallest p times their number instead).
    The statistic is the largest distance of a fitted quantile curve from its
    nominal value over the range of the predictor.

    ``details`` holds ``p_values`` (per quantile), ``curves`` (a DataFrame of
    the fitted quantile curves and their standard errors on a grid, for
    plotting), ``x`` (the predictor used) and ``quantiles``.
    """
    from statsmodels.regression.quantile_regression import QuantReg

    res = _check_res(res)
    combine = {"BH": _bh_min, "bh": _bh_min, "holm": _holm_min}.get(adjust)
    if combine is None:
        raise GLMMInputError(f"adjust must be 'BH' or 'holm', not {adjust!r}")
    x = res.fitted if predictor is None else np.asarray(predictor, dtype=float).ravel()
    if x.size != res.n_obs:
        raise GLMMInputError(f"predictor has {x.size} values for {res.n_obs} residuals")
    if not np.all(np.isfinite(x)):
        raise GLMMInputError("predictor has non-finite values")
    if rank:
        x = rank_transform(x)
    quantiles = tuple(float(q) for q in quantiles)
    if not all(0 < q < 1 for q in quantiles):
        raise GLMMInputError(f"quantiles must lie strictly between 0 and 1: {quantiles}")
    r = res.scaled_residuals
    design = _quantile_design(x, df)
    grid = np.linspace(x.min(), x.max(), grid_size)
    if design is not None:
        knots, degree = design
        B = _spline_basis(x, knots, degree)
        means = B.mean(axis=0)
        X = np.column_stack([np.ones_like(x), B - means])
        G = np.column_stack([np.ones_like(grid), _spline_basis(grid, knots, degree) - means])
    else:
        X, G = np.ones((x.size, 1)), np.ones((grid.size, 1))
    curves = {"x": grid}
    pvals, level_p, shape_p, messages = [], [], [], []
    for q in quantiles:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # IRLS to 1e-5 on residuals in [0, 1]: tighter tolerances can oscillate
                # for thousands of iterations without changing the p-values
                fit = QuantReg(r - q, X).fit(q=q, p_tol=1e-5, max_iter=500)
            beta = np.asarray(fit.params)
            cov = np.asarray(fit.cov_params())
            if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))):
                raise np.linalg.LinAlgError("non-finite quantile regression")
            se0 = np.sqrt(cov[0, 0])
            p_level = float(2 * stats.t.sf(abs(beta[0]) / se0, df=max(x.size - X.shape[1], 1))) \
                if se0 > 0 else (1.0 if beta[0] == 0 else 0.0)
            if X.shape[1] > 1:
                b, V = beta[1:], cov[1:, 1:]
                wald = float(b @ np.linalg.pinv(V) @ b)
                p_shape = float(stats.chi2.sf(wald, df=b.size))
            else:
                p_shape = float("nan")
            p_q = combine([p_level, p_shape])
            fitted_curve = G @ beta + q
            se_curve = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", G, cov, G), 0))
        except Exception as err:  # a degenerate regression: reported, left out
            messages.append(f"quantile {q}: quantile regression failed ({err})")
            p_level = p_shape = p_q = float("nan")
            fitted_curve = se_curve = np.full(grid.size, np.nan)
        pvals.append(p_q)
        level_p.append(p_level)
        shape_p.append(p_shape)
        curves[f"q{q:g}"] = fitted_curve
        curves[f"se{q:g}"] = se_curve
    combined = combine(pvals)
    deviation = max((np.nanmax(np.abs(curves[f"q{q:g}"] - q)) for q in quantiles
                     if np.isfinite(curves[f"q{q:g}"]).any()), default=float("nan"))
    return TestResult(float(deviation), combined,
                      "Test for location of quantiles via quantile regression on a B-spline "
                      "basis", "both", "max |quantile curve - nominal|",
                      estimate={f"p(q={q:g})": p for q, p in zip(quantiles, pvals)},
                      details={"quantiles": quantiles, "p_values": np.array(pvals),
                               "p_level": np.array(level_p), "p_shape": np.array(shape_p),
                               "curves": pd.DataFrame(curves), "x": x, "rank": rank,
                               "messages": messages})


def test_categorical(res: SimulatedResiduals, groups) -> TestResult:
    """Residuals within the levels of a factor (DHARMa's ``testCategorical``):
    a KS test of uniformity in each level (Benjamini-Hochberg adjusted) and a
    Levene test of equal variances between levels (the ``p_value``)."""
    res = _check_res(res)
    if not isinstance(groups, (pd.Series, pd.Categorical)):
        groups = np.asarray(groups, dtype=object)
    g = pd.Series(pd.Categorical(groups))
    if len(g) != res.n_obs:
        raise GLMMInputError(f"groups has {len(g)} values for {res.n_obs} residuals")
    g = g.cat.remove_unused_categories()
    r = res.scaled_residuals
    levels = list(g.cat.categories)
    codes = g.cat.codes.to_numpy()
    by = [r[codes == i] for i in range(len(levels))]
    ks = np.array([stats.kstest(v, "uniform").pvalue if v.size else np.nan for v in by])
    ks_adj = _bh_adjust(ks)
    usable = [v for v in by if v.size >= 2]
    if len(usable) >= 2:
        lev = stats.levene(*usable)
        stat, p = float(lev.statistic), float(lev.pvalue)
    else:
        stat, p = float("nan"), float("nan")
    return TestResult(stat, p, "Levene test for homogeneity of variance", "two.sided", "F",
                      parameter={"groups": len(usable)},
                      details={"levels": levels, "ks_p_values": ks, "ks_adjusted": ks_adj,
                               "residuals_by_level": by})


def test_all(res: SimulatedResiduals) -> dict:
    """Uniformity, dispersion, zero inflation, outliers and quantiles, by name."""
    return {"uniformity": test_uniformity(res), "dispersion": test_dispersion(res),
            "zero_inflation": test_zero_inflation(res), "outliers": test_outliers(res),
            "quantiles": test_quantiles(res)}


def tests_frame(results: dict) -> pd.DataFrame:
    """A table of test results: statistic, its name, p-value, method."""
    rows = [{"test": name, "statistic": t.statistic, "statistic_name": t.statistic_name,
             "p_value": t.p_value, "alternative": t.alternative, "method": t.method}
            for name, t in results.items()]
    return pd.DataFrame(rows).set_index("test")
