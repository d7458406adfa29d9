"""The fitted state: everything known at the optimum, computed once and never changed.

The results read it and nothing else of the fit; what needs the likelihood elsewhere
(profiles, the Jacobian of the modes) makes its own objective from the model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import ParameterTable


@dataclass(frozen=True)
class FinalState:
    parameters: ParameterTable   # what each entry of p is (no fixed effects under REML)
    params: np.ndarray       # p at the optimum
    value: float             # L(p) on every row of the model
    beta: np.ndarray
    beta_cov: np.ndarray     # Cov(beta_hat) as glmmTMB reports it
    hessian: np.ndarray      # of -L over p
    cov: np.ndarray          # its inverse (NaN where it has none)
    b: np.ndarray            # spherical conditional modes, u = Lambda b
    eta: np.ndarray
    aux: dict                # each auxiliary parameter's value per row
    A: np.ndarray            # Z Lambda, row-wise
    chol: list               # Cholesky factors of the blocks of H at the mode
    inner_converged: bool


def final_state(objective, params, hessian, b_start=None) -> FinalState:
    """The state at ``params`` on every row of ``objective``'s model; ``b_start`` is a
    mode found nearby (on the distinct rows)."""
    mode = objective.final_state(params, b_start=b_start)
    with np.errstate(all="ignore"):
        try:
            cov = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            cov = np.full_like(hessian, np.nan)
    beta, beta_cov = objective.fixed_effects(mode, cov)
    return FinalState(objective.parameters, params, mode.value, beta, beta_cov, hessian, cov, mode.b, mode.eta,
                      mode.aux, mode.A, mode.chol, mode.inner_converged)
