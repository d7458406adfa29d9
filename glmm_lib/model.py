"""The model: formula and data turned into plain arrays, ready to fit.

Stages, each usable on its own:
  parse_formula -> build_model_frame -> FixedEffects / RandomEffects -> GLMMModel
  -> LaplaceObjective (on the distinct rows where rows repeat) -> optimize -> GLMMResults.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from .errors import GLMMInputError
from .families import Family, ZeroInflated, get_family
from .fixed import FixedEffects
from .formula import ParsedFormula, parse_formula, parse_one_sided
from .frame import ModelFrame, build_model_frame
from .laplace import LaplaceObjective, ParameterLayout
from .random_terms import RandomEffects, build_term


_threadpools = None


def _one_blas_thread():
    """A context limiting BLAS to one thread.  The controller is made once: finding the
    loaded libraries reads /proc and took longer than fitting a small model."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


class GLMMModel:
    """Design of a GLMM: X, the random-effects structure, response, weights, offset."""

    def __init__(self, formula: str, data: pd.DataFrame, family="gaussian", link=None,
                 weights=None, offset=None, ziformula=None, dispformula=None, REML=False):
        family = get_family(family, link)
        zi_rhs = parse_one_sided(ziformula, "ziformula")
        if zi_rhs is not None and zi_rhs.strip() != "0":
            if not family.integer_response or family.has_trials:
                raise GLMMInputError(f"zero inflation (ziformula) is available for count families "
                                     f"(poisson, nbinom1, nbinom2), not {family.name}")
            family = ZeroInflated(family)
        else:
            zi_rhs = None
        self.family: Family = family
        self.REML = bool(REML)
        if self.REML and not family.is_normal_linear:
            raise GLMMInputError("REML is available for gaussian models with the identity link; "
                                 f"this model is {family.name}({family.link.name}); use ML")
        disp_rhs = parse_one_sided(dispformula, "dispformula")
        dispersion = self.dispersion_parameter(family)
        if disp_rhs is not None and disp_rhs.strip() == "0" and family.fixed_dispersion is None:
            raise GLMMInputError(f"dispformula = ~0 (dispersion fixed near zero) is for gaussian "
                                 f"models, not {family.name}")
        if disp_rhs is not None and disp_rhs.strip() != "1" and dispersion is None:
            raise GLMMInputError(f"the {family.name} family has no dispersion parameter to model; "
                                 "dispformula applies to gaussian, nbinom1, nbinom2, Gamma, beta and t")
        self.formula: ParsedFormula = parse_formula(formula)
        extra = [f for f in (zi_rhs, disp_rhs) if f is not None]
        self.frame: ModelFrame = build_model_frame(self.formula, data, self.family, weights, offset,
                                                   extra_formulas=extra)
        self.weighted = not np.all(self.frame.weights == 1.0)
        self.fixed = FixedEffects.from_frame(self.formula.fixed, self.frame.data)
        terms = [build_term(spec, self.frame.data) for spec in self.formula.random]
        self.random_effects = RandomEffects(terms, self.frame.nobs)
        n = self.frame.nobs
        # one linear predictor per auxiliary parameter: an intercept unless a formula says more
        self.aux_fixed = {p.name: None for p in self.family.aux_parameters}
        if disp_rhs is not None and dispersion is not None and disp_rhs.strip() != "0":
            self.aux_fixed[dispersion] = FixedEffects.from_frame(disp_rhs, self.frame.data,
                                                                 what="dispersion design")
        if zi_rhs is not None:
            self.aux_fixed["zi"] = FixedEffects.from_frame(zi_rhs, self.frame.data,
                                                           what="zero-inflation design")
        self.aux_designs = {name: (np.ones((n, 1)) if fe is None else fe.X)
                            for name, fe in self.aux_fixed.items()}
        # a fixed part of each auxiliary linear predictor (dispformula = ~0 fixes it)
        self.aux_offsets = {name: 0.0 for name in self.aux_designs}
        if disp_rhs is not None and disp_rhs.strip() == "0":
            self.aux_designs[dispersion] = np.zeros((n, 0))
            self.aux_offsets[dispersion] = family.fixed_dispersion
        self.layout = ParameterLayout(self.X.shape[1], self.random_effects.n_theta,
                                      {k: v.shape[1] for k, v in self.aux_designs.items()})
        n_params = self.layout.size
        if n_params >= n:
            raise GLMMInputError(f"the model has {n_params} parameters but only {n} rows of data")

    # plain arrays, named as the objective uses them
    @property
    def X(self):
        return self.fixed.X

    @property
    def y(self):
        return self.frame.y

    @property
    def trials(self):
        return self.frame.trials

    @property
    def weights(self):
        return self.frame.weights

    @property
    def offset(self):
        return self.frame.offset

    @property
    def nobs(self):
        return self.frame.nobs

    @staticmethod
    def dispersion_parameter(family):
        """Name of the auxiliary parameter that dispformula models (None if there is none)."""
        return family.dispersion_parameter

    def aux_names(self, name):
        if self.aux_designs[name].shape[1] == 0:
            return []
        fe = self.aux_fixed.get(name)
        return ["(Intercept)"] if fe is None else list(fe.names)

    def parameter_names(self):
        names = list(self.fixed.names)
        names += [f"theta:{n}" for n in self.random_effects.theta_names()]
        for name in self.aux_designs:
            names += [f"{name}~{coef}" for coef in self.aux_names(name)]
        return names

    def objective(self, on_distinct_rows=False) -> LaplaceObjective:
        """The Laplace objective; with ``on_distinct_rows`` it may work on the distinct rows
        only (the same likelihood), whose states then hold those rows, not the model's."""
        if self.REML:
            from .reml import REMLObjective
            return REMLObjective(self)
        from . import grouped, marginal
        if grouped.applies(self):
            return grouped.GroupedPoissonObjective(self)
        if marginal.applies(self):
            return marginal.GaussianMarginalObjective(self)
        collapsed = self.distinct_rows if on_distinct_rows else None
        return LaplaceObjective(self if collapsed is None else collapsed)

    @functools.cached_property
    def distinct_rows(self):
        """The model on its distinct rows, each weighted by its count; None when under half
        of the rows repeat (``distinct_rows.collapse``)."""
        from .distinct_rows import collapse
        return collapse(self)

    def fit(self, start=None, **optimizer_options):
        from .optimizer import optimize
        from .results import GLMMResults

        objective = self.objective(on_distinct_rows=True)
        # fitted on the distinct rows, the results still need every row
        on_all_rows = self.objective() if objective.model is not self else None
        # The blocks of H are small; BLAS threads only contend for the cores there
        # (measured: a batched 101x101 solve 100x slower with OpenBLAS threads on a busy machine).
        with _one_blas_thread():
            record, state, hessian = optimize(self, objective, start=start,
                                              final_objective=on_all_rows, **optimizer_options)
        if on_all_rows is not None:
            objective = on_all_rows
        return GLMMResults(self, objective, state, record, hessian)


def glmm(formula: str, data: pd.DataFrame, family="gaussian", link=None, weights=None,
         offset=None, ziformula=None, dispformula=None, REML=False, start=None,
         **optimizer_options):
    """Fit a generalized linear mixed model by Laplace maximum likelihood, as glmmTMB.

    ``formula`` uses lme4 syntax (``y ~ trt + (1|block)``, ``cbind(s, n - s) ~ x``);
    ``family`` is a name ("poisson", "binomial", "nbinom1", "nbinom2", "gaussian",
    "Gamma", "beta", "t") or an object from ``glmm_lib.families``; ``weights`` and
    ``offset`` are column names or arrays; ``ziformula`` (e.g. "~1") adds zero
    inflation, ``dispformula`` (e.g. "~x") models the dispersion on the log scale,
    ``REML=True`` gives restricted maximum likelihood for gaussian models.
    """
    model = GLMMModel(formula, data, family=family, link=link, weights=weights, offset=offset,
                      ziformula=ziformula, dispformula=dispformula, REML=REML)
    return model.fit(start=start, **optimizer_options)
