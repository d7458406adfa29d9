"""The fitted state: everything known at the optimum, computed once and never changed.

The results read it and nothing else of the fit; what needs the likelihood elsewhere
(profiles, the Jacobian of the modes) makes its own objective from the model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boundary import identified_inverse
from .parameters import ParameterTable


@dataclass(frozen=True)
class FinalState:
    parameters: ParameterTable   # what each entry of p is (no fixed effects under REML)
    params: np.ndarray       # p at the optimum
    value: float             # L(p) on every row of the model
    beta: np.ndarray
    beta_cov: np.ndarray     # Cov(beta_hat) as glmmTMB reports it
    hessian: np.ndarray      # of -L over p
    cov: np.ndarray          # its inverse over the identified parameters (NaN where it has
                             # none), zero in the rows and columns of those at a limit
    b: np.ndarray            # spherical conditional modes, u = Lambda b
    eta: np.ndarray
    aux: dict                # each auxiliary parameter's value per row
    A: np.ndarray            # Z Lambda, row-wise
    chol: list               # Cholesky factors of the blocks of H at the mode
    inner_converged: bool
    at_limit: tuple = ()     # positions of variance parameters held at a limit of their range


def final_state(objective, params, hessian, b_start=None, at_limit=()) -> FinalState:
    """The state at ``params`` on every row of ``objective``'s model; ``b_start`` is a
    mode found nearby (on the distinct rows).  The parameters ``at_limit`` (a variance at
    zero, a correlation at +-1) are held there: the standard errors are those of the
    others, as lme4's and glmmTMB's on such a fit."""
    mode = objective.final_state(params, b_start=b_start)
    cov = identified_inverse(hessian, at_limit)
    beta, beta_cov = objective.fixed_effects(mode, cov)
    return FinalState(objective.parameters, params, mode.value, beta, beta_cov, hessian, cov,
                      mode.b, mode.eta, mode.aux, mode.A, mode.chol, mode.inner_converged,
                      tuple(at_limit))
