"""The model: formula and data turned into plain arrays, ready to fit.

Stages, each usable on its own:
  parse_formula -> build_model_frame -> FixedEffects / RandomEffects -> GLMMModel
  -> LaplaceObjective -> optimize -> GLMMResults.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GLMMInputError
from .families import Family, get_family
from .fixed import FixedEffects
from .formula import ParsedFormula, parse_formula
from .frame import ModelFrame, build_model_frame
from .laplace import LaplaceObjective, ParameterLayout
from .random_terms import RandomEffects, build_term


class GLMMModel:
    """Design of a GLMM: X, the random-effects structure, response, weights, offset."""

    def __init__(self, formula: str, data: pd.DataFrame, family="gaussian", link=None,
                 weights=None, offset=None):
        self.family: Family = get_family(family, link)
        self.formula: ParsedFormula = parse_formula(formula)
        self.frame: ModelFrame = build_model_frame(self.formula, data, self.family, weights, offset)
        self.fixed = FixedEffects.from_frame(self.formula.fixed, self.frame.data)
        terms = [build_term(spec, self.frame.data) for spec in self.formula.random]
        self.random_effects = RandomEffects(terms, self.frame.nobs)
        n = self.frame.nobs
        self.aux_designs = {p.name: np.ones((n, 1)) for p in self.family.aux_parameters}
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
    def weighted(self):
        return not np.all(self.frame.weights == 1.0)

    @property
    def offset(self):
        return self.frame.offset

    @property
    def nobs(self):
        return self.frame.nobs

    def parameter_names(self):
        names = list(self.fixed.names)
        names += [f"theta:{n}" for n in self.random_effects.theta_names()]
        for p in self.family.aux_parameters:
            names.append(p.name)
        return names

    def objective(self) -> LaplaceObjective:
        return LaplaceObjective(self)

    def fit(self, start=None, **optimizer_options):
        from .optimizer import optimize
        from .results import GLMMResults

        objective = self.objective()
        record, state, hessian = optimize(self, objective, start=start, **optimizer_options)
        return GLMMResults(self, objective, state, record, hessian)


def glmm(formula: str, data: pd.DataFrame, family="gaussian", link=None, weights=None,
         offset=None, start=None, **optimizer_options):
    """Fit a generalized linear mixed model by Laplace maximum likelihood, as glmmTMB.

    ``formula`` uses lme4 syntax (``y ~ trt + (1|block)``, ``cbind(s, n - s) ~ x``);
    ``family`` is a name ("poisson", "binomial", "nbinom1", ...) or an object from
    ``glmm_lib.families``; ``weights`` and ``offset`` are column names or arrays.
    """
    model = GLMMModel(formula, data, family=family, link=link, weights=weights, offset=offset)
    return model.fit(start=start, **optimizer_options)
