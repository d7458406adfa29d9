"""The variance parameters in which Satterthwaite and Kenward-Roger differentiate V.

V = sum_t Z_t (I x Sigma_t) Z_t' + sigma^2 diag(scale).  Each parameter phi_k moves one
block: a random term (dV/dphi_k = Z_t (I x D_k) Z_t', D_k = dSigma_t/dphi_k, s x s) or
the residual (dV/dsigma^2 = diag(scale)).

Kenward-Roger is not invariant to the parametrization; pbkrtest (and so lmerTest and
emmeans) uses the elements of each Sigma_t and sigma^2, in which V is linear.  A term
whose structure is a free covariance on its pattern of non-zero entries (a scalar
variance, ``us``, ``diag``) is parametrized that way here.  A structure with fewer
parameters than free entries (``cs`` with more than two levels, ``ar1``) keeps its own
parameters (glmm_lib's theta); V is then curved and its second derivatives enter.
Satterthwaite's df are the same in any parametrization (at the optimum), so they use the
same parameters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SECOND_DERIVATIVE_STEP = 1e-5


@dataclass
class VarianceParameter:
    block: int                 # index of the random term, or -1 for the residual
    derivative: np.ndarray     # D_k (s x s); 1 x 1 [[1]] for sigma^2
    name: str
    scale: float               # the parameter's size, to judge the Hessian's eigenvalues


@dataclass
class Parametrization:
    parameters: list
    linear_in_v: bool          # every second derivative of V is zero
    second: dict               # (k, l) -> d2 Sigma_t / dphi_k dphi_l for curved terms

    def second_derivative(self, k, l):
        return self.second.get((min(k, l), max(k, l)))


def _free_entries(structure):
    """Lower-triangle entries (i, j) of Sigma that the structure can make non-zero."""
    probe = structure.start() + 0.1 * np.arange(1, structure.n_params + 1)
    cov = structure.covariance(probe)
    rows, cols = np.tril_indices(structure.size)
    return [(i, j) for i, j in zip(rows, cols) if cov[i, j] != 0]


def _sigma_derivatives(structure, theta):
    lam = structure.factor(np.asarray(theta, float))
    return [d @ lam.T + lam @ d.T for d in structure.jacobian(theta)]


def parametrize(parts, native=False) -> Parametrization:
    """The parameters of V; ``native`` keeps every structure's own parameters (the path of
    curved structures, which a test runs on a ``us`` term against lmerTest)."""
    params, second = [], {}
    for t, term in enumerate(parts.terms):
        structure = term.structure
        entries = _free_entries(structure)
        if len(entries) == structure.n_params and not native:
            cov = structure.covariance(term.theta)
            for i, j in entries:
                unit = np.zeros((term.size, term.size))
                unit[i, j] = unit[j, i] = 1.0
                params.append(VarianceParameter(t, unit, f"Sigma[{i},{j}]|{term.name}",
                                                float(np.sqrt(cov[i, i] * cov[j, j]))))
            continue
        first = len(params)
        for k, d in enumerate(_sigma_derivatives(structure, term.theta)):
            params.append(VarianceParameter(t, d, f"theta[{k}]|{term.name}", 1.0))
        # second derivatives by central differences of the exact (complex-step) first ones
        for l in range(structure.n_params):
            h = _SECOND_DERIVATIVE_STEP * max(1.0, abs(term.theta[l]))
            up, down = term.theta.copy(), term.theta.copy()
            up[l] += h
            down[l] -= h
            d_up = _sigma_derivatives(structure, up)
            d_down = _sigma_derivatives(structure, down)
            for k in range(l, structure.n_params):
                second[(first + l, first + k)] = (d_up[k] - d_down[k]) / (2 * h)
    if parts.sigma2_free:
        params.append(VarianceParameter(-1, np.ones((1, 1)), "sigma^2", parts.sigma2))
    return Parametrization(params, not second, second)
