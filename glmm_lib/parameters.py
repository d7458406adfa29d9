"""The optimizer's parameters as a table: each one's kind, transform and bounds.

The vector p that the optimizer moves is laid out as (beta, theta, one coefficient
vector per auxiliary parameter of the family): ``ParameterLayout`` says where each
block sits.  Every position also has a ``Parameter``: its kind, the transform from
the optimizer's scale to the natural one, and its bounds on the optimizer's scale.
Code that treats parameters differently (the optimizer's shortcut for variances
running to zero, profiling, the labels of confidence intervals, the singular-fit
check) asks for a kind; names are made once, here and in ``covstruct``, for display
and for choosing parameters by name.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import special


class Kind(str, Enum):
    """What an optimized parameter is (the values are what a family's ``AuxParameter``
    states as its ``role``)."""
    FIXED = "fixed"                      # a fixed-effect coefficient, on the link scale
    LOG_SD = "log_sd"                    # log standard deviation of a random-effect coefficient
    CORRELATION = "correlation"          # unconstrained parameter of a structure's correlations
    DISPERSION = "dispersion"            # coefficient of the family's log dispersion
    ZERO_INFLATION = "zero_inflation"    # coefficient of logit(probability of a structural zero)
    SHAPE = "shape"                      # another log-scale family parameter (the t's df)


@dataclass(frozen=True)
class Transform:
    """How the optimizer's value maps to the natural scale.  ``to_natural`` is None where
    a covariance structure maps several parameters jointly (``covstruct``)."""
    name: str
    to_natural: object = None


IDENTITY = Transform("identity", lambda x: x)
LOG = Transform("log", np.exp)
LOGIT = Transform("logit", special.expit)

_AUX_TRANSFORMS = {Kind.DISPERSION: LOG, Kind.SHAPE: LOG, Kind.ZERO_INFLATION: LOGIT}


@dataclass(frozen=True)
class Parameter:
    name: str                            # the printed label, e.g. theta:log_sd((Intercept))|block
    kind: Kind
    transform: Transform
    # Every transform maps the whole real line onto the natural range (SD > 0, |rho| < 1,
    # 0 < pi < 1), so the optimizer's scale is unbounded.
    bounds: tuple = (-np.inf, np.inf)
    natural_name: str | None = None      # the natural-scale label where one is reported (sd_x|g)
    intercept: bool = False              # the intercept of an auxiliary linear predictor


@dataclass(frozen=True)
class ParameterLayout:
    """Where beta, theta and each auxiliary coefficient vector sit in p."""
    n_beta: int
    n_theta: int
    aux_sizes: dict

    @property
    def beta(self):
        return slice(0, self.n_beta)

    @property
    def theta(self):
        return slice(self.n_beta, self.n_beta + self.n_theta)

    def aux(self, name):
        start = self.n_beta + self.n_theta
        for key, size in self.aux_sizes.items():
            if key == name:
                return slice(start, start + size)
            start += size
        raise KeyError(name)

    @property
    def size(self):
        return self.n_beta + self.n_theta + sum(self.aux_sizes.values())


@dataclass(frozen=True)
class ParameterTable:
    """The optimized parameters in the order of p, with their layout."""
    parameters: tuple
    layout: ParameterLayout

    def __len__(self):
        return len(self.parameters)

    def __getitem__(self, index) -> Parameter:
        return self.parameters[index]

    @property
    def names(self) -> list:
        return [p.name for p in self.parameters]

    @property
    def bounds(self) -> list:
        return [p.bounds for p in self.parameters]

    def where(self, *kinds) -> list:
        """Positions of the parameters of these kinds."""
        return [i for i, p in enumerate(self.parameters) if p.kind in kinds]

    def named(self, name) -> Parameter:
        return self.parameters[self.names.index(name)]

    def without_fixed_effects(self) -> ParameterTable:
        """The table of an objective that integrates the fixed effects out (REML)."""
        kept = tuple(p for p in self.parameters if p.kind is not Kind.FIXED)
        return ParameterTable(kept, dataclasses.replace(self.layout, n_beta=0))


def fixed_effect_parameters(names) -> list:
    return [Parameter(name, Kind.FIXED, IDENTITY) for name in names]


def auxiliary_parameters(aux_parameter, coefficient_names, design) -> list:
    """One parameter per coefficient of an auxiliary linear predictor.  A column of ones is
    the intercept (the dispersion itself when there is no dispformula)."""
    kind = Kind(aux_parameter.role)
    return [Parameter(f"{aux_parameter.name}~{coef}", kind, _AUX_TRANSFORMS[kind],
                      intercept=bool(np.all(design[:, j] == 1.0)))
            for j, coef in enumerate(coefficient_names)]
