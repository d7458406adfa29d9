"""Power by simulation, as R's simr (``powerSim``, ``powerCurve``, ``extend``): how
often a test of one fixed-effect term rejects at level ``alpha`` in data simulated
from a model with given effects.

>>> curve = gl.power(model, test="trt", method="lrt", nsim=1000, seed=1,
...                  along="block", levels=[3, 4, 6, 8, 12])
>>> curve.plot()

``model`` is a ``gl.specify`` model or a fit (at its estimates, ``effect`` changing
some of them).  ``along``/``levels`` extend the data to each number of levels of a
grouping factor (``SpecifiedModel.extended``; for a factor nested in treatments, such as
subjects, the number within each treatment group).  Tests of the term ``test`` (a term of
the fixed-effects formula as written):

* ``"lrt"``: likelihood ratio against the model without the term, chi-square p-value;
* ``"wald"``: the joint Wald chi-square of the term's coefficients;
* ``"kr"``, ``"satterthwaite"``: the F test with Kenward-Roger or Satterthwaite
  denominator degrees of freedom, for gaussian models (``glmm_lib.anova`` with ``ddf=``).

Every level uses the same seed (common random numbers: a smoother curve).  A
simulation whose refit failed is counted in ``failed`` and left out of the power's
denominator; fits kept with convergence warnings (a variance estimated at zero) are
counted in ``warnings``.  ``lower``/``upper``: the exact (Clopper-Pearson) binomial
95% interval of the power.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .anova import anova
from .errors import GLMMInputError
from .formula import split_top_level
from .model import GLMMModel
from .refit import refit
from .simulation_runner import local_cluster, run
from .specify import SpecifiedModel

METHODS = ("lrt", "wald", "kr", "satterthwaite")
# the ddf= names of glmm_lib.anova for the F-test methods
F_TEST_DDF = {"kr": "Kenward-Roger", "satterthwaite": "Satterthwaite"}


def drop_term(formula: str, term: str) -> str:
    """``formula`` without the top-level fixed term ``term`` (``y ~ trt + (1|b)``, ``trt``
    -> ``y ~ 1 + (1|b)``)."""
    lhs, rhs = split_top_level(formula, "~")
    pieces = [p.strip() for p in split_top_level(rhs, "+")]
    key = term.replace(" ", "")
    kept = [p for p in pieces if p.replace(" ", "") != key]
    if len(kept) == len(pieces):
        fixed = [p for p in pieces if "|" not in p]
        raise GLMMInputError(f"test={term!r} is not a term of the formula as written; its "
                             f"fixed terms are: {', '.join(fixed)}")
    if not any("|" not in p and not p.startswith("offset(") for p in kept):
        kept.insert(0, "1")
    return f"{lhs.strip()} ~ {' + '.join(kept)}"


class PowerJob:
    """One simulation: a response from the truth, the model refitted, the test's p-value."""

    def __init__(self, truth: SpecifiedModel, term: str, method: str):
        self.truth, self.term, self.method = truth, term, method
        self.full = truth.model
        if method == "kr" and not self.full.REML:
            # Kenward and Roger's F test is for REML fits (pbkrtest refits so as well)
            self.full = GLMMModel(**dict(truth.arguments, REML=True))
        self.full_start = truth.start_for(self.full)
        reduced = GLMMModel(**dict(truth.arguments, formula=drop_term(truth.formula, term)))
        self.tested = [n for n in self.full.fixed.names if n not in reduced.fixed.names]
        self.reduced = reduced if method == "lrt" else None
        self.reduced_start = truth.start_for(reduced) if method == "lrt" else None

    def __call__(self, sim, seed):
        y = self.truth.simulate(1, seed=seed)[:, 0]
        outcomes = [refit(self.full, y, self.full_start)]
        if self.reduced is not None:
            outcomes.append(refit(self.reduced, y, self.reduced_start))
        problems = "; ".join(o.message for o in outcomes if o.message)
        if not all(o.usable for o in outcomes):
            return {"status": "failed", "problems": problems, "statistic": np.nan,
                    "p_value": np.nan}
        statistic, p_value = self._test([o.fit for o in outcomes])
        status = "failed" if not np.isfinite(p_value) else (
            "ok" if all(o.status == "ok" for o in outcomes) else "warning")
        return {"status": status, "problems": problems, "statistic": statistic,
                "p_value": p_value}

    def _test(self, fits):
        full = fits[0]
        if self.method == "lrt":
            reduced = fits[1]
            statistic = 2 * max(0.0, full.llf - reduced.llf)
            return statistic, stats.chi2.sf(statistic, full.n_params - reduced.n_params)
        if self.method == "wald":
            b = full.params[self.tested].to_numpy()
            cov = full.cov_params().loc[self.tested, self.tested].to_numpy()
            try:
                statistic = float(b @ np.linalg.solve(cov, b))
            except np.linalg.LinAlgError:
                return np.nan, np.nan
            return statistic, stats.chi2.sf(statistic, len(self.tested))
        table = anova(full, type=3, ddf=F_TEST_DDF[self.method])
        return float(table.loc[self.term, "F value"]), float(table.loc[self.term, "Pr(>F)"])


def binomial_interval(successes, trials, level=0.95):
    if trials == 0:
        return np.nan, np.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(level, method="exact")
    return ci.low, ci.high


def summarize(simulations: pd.DataFrame, alpha: float) -> dict:
    usable = simulations[simulations["status"] != "failed"]
    rejected = int((usable["p_value"] < alpha).sum())
    lower, upper = binomial_interval(rejected, len(usable))
    return {"power": rejected / len(usable) if len(usable) else np.nan, "lower": lower,
            "upper": upper, "nsim": len(simulations),
            "failed": int(len(simulations) - len(usable)),
            "warnings": int((simulations["status"] == "warning").sum())}


class PowerCurve(pd.DataFrame):
    """Power per design size; ``plot()`` draws it.  ``attrs``: the test, method, alpha
    and each size's simulations (``attrs["simulations"]``)."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def plot(self, ax=None, target=0.8):
        """Power against the design size with its 95% intervals and the ``target`` line."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        along = self.attrs.get("along")
        x = self[along].to_numpy() if along else np.zeros(len(self))
        power = self["power"].to_numpy()
        ax.errorbar(x, power, yerr=[power - self["lower"], self["upper"] - power], marker="o",
                    capsize=3)
        if target is not None:
            ax.axhline(target, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"levels of {along} (within each group it is nested in)" if along else "")
        ax.set_ylabel(f"power ({self.attrs['method']} test of {self.attrs['test']})")
        return ax


def _check_arguments(method, alpha, along, levels):
    if method not in METHODS:
        raise GLMMInputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise GLMMInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if (along is None) != (levels is None):
        raise GLMMInputError("along= and levels= go together: the factor to extend and its "
                             "numbers of levels")
    if levels is not None and (isinstance(levels, (str, int)) or len(levels) == 0):
        raise GLMMInputError(f"levels must be a list of numbers of levels, got {levels!r}")


def power(model, test, method="lrt", nsim=1000, seed=None, alpha=0.05, along=None,
          levels=None, effect=None, *, workers=1, scheduler=None, chunk_size=None, store=None,
          resume=False, progress=True) -> PowerCurve:
    """Simulated power of the test of the fixed term ``test`` (see the module docstring).

    Returns a PowerCurve: one row per entry of ``levels`` (column ``along``) or a single
    row, with ``power``, ``lower``, ``upper``, ``nsim``, ``failed``, ``warnings``.
    ``workers``, ``scheduler``, ``chunk_size``, ``store`` (a folder; one subfolder per
    size), ``resume`` and ``progress``: how the simulations run
    (``glmm_lib.simulation_runner``)."""
    _check_arguments(method, alpha, along, levels)
    if isinstance(model, SpecifiedModel):
        truth = model
    elif all(hasattr(model, a) for a in ("optimizer", "model", "simulate")):
        truth = SpecifiedModel.from_fit(model)
    else:
        raise GLMMInputError(f"model must be a gl.specify() model or a fit from gl.glmm() "
                             f"(got {type(model).__name__})")
    if effect:
        truth = truth.with_effects(effect)
    if method in F_TEST_DDF:
        if not truth.family.is_normal_linear:
            raise GLMMInputError(f"method={method!r} is an F test for gaussian (identity-link) "
                                 f"models; this one is {truth.family.name}: use 'lrt' or 'wald'")
    sizes = [None] if along is None else list(levels)
    rows, simulations = [], {}
    retried = 0
    with local_cluster(workers, scheduler) as address:     # one cluster for every size
        for size in sizes:
            design = truth if size is None else truth.extended(along, size)
            job = PowerJob(design, test, method)
            folder = None if store is None else f"{store}/{along}-{size}" if size else store
            table, info = run(job, nsim, seed, workers=workers, scheduler=address,
                              chunk_size=chunk_size, store=folder, resume=resume,
                              progress=progress, label=f"power {along}={size}" if size else "power",
                              description={"what": "power", "formula": design.formula,
                                           "test": test, "method": method,
                                           "parameters": design.parameters.tolist()})
            seed, retried = info.seed, retried + info.retried
            row = summarize(table, alpha)
            rows.append(row if size is None else {along: size, **row})
            simulations[size] = table
    curve = PowerCurve(pd.DataFrame(rows))
    curve.attrs.update({"test": test, "method": method, "alpha": alpha, "along": along,
                        "seed": seed, "retried": retried, "simulations": simulations})
    return curve
