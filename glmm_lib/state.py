"""The fitted state: everything known at the optimum, computed once and never changed.

The results read it and nothing else of the fit; what needs the likelihood elsewhere
(profiles, the Jacobian of the modes) makes its own objective from the model.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

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
    aux: dict                # each auxiliary parameter's value per row
    row_pass: Callable       # () -> (eta, Z Lambda row-wise, Cholesky factors of the blocks
                             # of H at the mode): a pass over every row, made when first read
    inner_converged: bool
    at_limit: tuple = ()     # positions of variance parameters held at a limit of their range

    @functools.cached_property
    def _rows(self):
        return self.row_pass()

    @property
    def eta(self) -> np.ndarray:
        return self._rows[0]

    @property
    def A(self) -> np.ndarray:
        return self._rows[1]

    @property
    def chol(self) -> list:
        return self._rows[2]


def final_state(objective, params, hessian, b_start=None, at_limit=()) -> FinalState:
    """The state at ``params`` on every row of ``objective``'s model; ``b_start`` is a
    mode found nearby (on the distinct rows).  The parameters ``at_limit`` (a variance at
    zero, a correlation at +-1) are held there: the standard errors are those of the
    others, as lme4's and glmmTMB's on such a fit."""
    mode = objective.final_state(params, b_start=b_start)
    cov = identified_inverse(hessian, at_limit)
    beta, beta_cov = objective.fixed_effects(mode, cov)
    # an objective that never passes over the rows (``lmm_profiled``) leaves that pass to
    # the results, which make it only when they read eta, A or the factors of H
    row_pass = getattr(mode, "row_pass", None)
    if row_pass is None:
        rows = (mode.eta, mode.A, mode.chol)
        row_pass = lambda: rows         # made already; the mode itself is not held
    return FinalState(objective.parameters, params, mode.value, beta, beta_cov, hessian, cov,
                      mode.b, mode.aux, row_pass, mode.inner_converged, tuple(at_limit))
