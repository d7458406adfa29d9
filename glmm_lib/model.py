"""The model: formula and data turned into plain arrays, ready to fit.

Building a model is the first stage of a fit (docs/ARCHITECTURE.md):
  resolve_options -> parse_formula -> build_model_frame -> FixedEffects, RandomEffects,
  auxiliary_designs -> the parameter table.
``glmm`` then runs the others (``glmm_lib.fitting``): make the objective, starting
values, optimize, check convergence, results.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from . import fitting, model_cache
from .auxiliary import auxiliary_designs
from .distinct_rows import collapse
from .errors import GLMMInputError
from .families import Family
from .fixed import FixedEffects
from .formula import ParsedFormula, parse_formula
from .frame import ModelFrame, build_model_frame
from .laplace import LaplaceObjective
from .objectives import make_objective
from .options import ModelOptions, dispersion_parameter, resolve_options
from .parameters import (ParameterLayout, ParameterTable, auxiliary_parameters,
                         fixed_effect_parameters)
from .random_terms import RandomEffects, build_term


class GLMMModel:
    """Design of a GLMM: X, the random-effects structure, response, weights, offset,
    the auxiliary designs and the table of the parameters to estimate."""

    def __init__(self, formula: str, data: pd.DataFrame, family="gaussian", link=None,
                 weights=None, offset=None, ziformula=None, dispformula=None, REML=False):
        self.options: ModelOptions = resolve_options(family, link, ziformula, dispformula, REML)
        self.family: Family = self.options.family
        self.REML = self.options.REML
        self.formula: ParsedFormula = parse_formula(formula)
        extra = [f for f in (self.options.zi_rhs, self.options.disp_rhs) if f is not None]
        self.frame: ModelFrame = build_model_frame(self.formula, data, self.family, weights, offset,
                                                   extra_formulas=extra)
        self.weighted = not np.all(self.frame.weights == 1.0)
        self.fixed = FixedEffects.from_frame(self.formula.fixed, self.frame.data)
        # a random term whose left-hand side is the fixed part, (x | g) with y ~ x, shares X
        shared = {self.formula.fixed: self.fixed}
        terms = [build_term(spec, self.frame.data, shared.get(spec.lhs))
                 for spec in self.formula.random]
        self.random_effects = RandomEffects(terms, self.frame.nobs)
        aux = self.auxiliary = auxiliary_designs(self.options, self.frame.data, self.frame.nobs)
        self.aux_fixed, self.aux_designs, self.aux_offsets = aux.fixed, aux.designs, aux.offsets
        self.parameters = self._parameter_table()
        self.layout: ParameterLayout = self.parameters.layout
        n_params, n = len(self.parameters), self.frame.nobs
        if n_params >= n:
            raise GLMMInputError(f"the model has {n_params} parameters but only {n} rows of data")

    def _parameter_table(self) -> ParameterTable:
        aux = self.auxiliary
        layout = ParameterLayout(self.X.shape[1], self.random_effects.n_theta,
                                 {k: v.shape[1] for k, v in aux.designs.items()})
        parameters = fixed_effect_parameters(self.fixed.names)
        parameters += self.random_effects.theta_parameters()
        for aux_parameter in self.family.aux_parameters:
            name = aux_parameter.name
            parameters += auxiliary_parameters(aux_parameter, aux.coefficient_names(name),
                                               aux.designs[name])
        return ParameterTable(tuple(parameters), layout)

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

    dispersion_parameter = staticmethod(dispersion_parameter)

    def aux_names(self, name):
        return self.auxiliary.coefficient_names(name)

    def parameter_names(self):
        return self.parameters.names

    def objective(self, on_distinct_rows=False) -> LaplaceObjective:
        """A new objective for this model (``objectives.make_objective``)."""
        return make_objective(self, on_distinct_rows=on_distinct_rows)

    @functools.cached_property
    def distinct_rows(self):
        """The model on its distinct rows, each weighted by its count; None when under half
        of the rows repeat (``distinct_rows.collapse``)."""
        return collapse(self)

    def fit(self, start=None, **optimizer_options):
        return fitting.fit(self, start=start, **optimizer_options)


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
    arguments = (family, link, weights, offset, ziformula, dispformula, REML)
    model = model_cache.cached(formula, data, arguments)
    if model is None:
        model = GLMMModel(formula, data, family=family, link=link, weights=weights,
                          offset=offset, ziformula=ziformula, dispformula=dispformula, REML=REML)
        model_cache.keep(model, formula, data, arguments)
    return model.fit(start=start, **optimizer_options)
