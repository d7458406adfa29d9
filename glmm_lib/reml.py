"""Restricted maximum likelihood for gaussian (identity-link) mixed models.

REML integrates the fixed effects out along with the random effects (a flat
prior on beta), as glmmTMB does with ``REML=TRUE``.  For a gaussian model the
joint mode of (beta, b) is one linear solve: with H = A'WA + I (block
diagonal) the fixed effects come from the Schur complement
S = X'WX - X'WA H^-1 A'WX, and

    L_REML = l(beta_hat, b_hat) - log det H / 2 - log det S / 2 + (p / 2) log(2 pi).

The outer parameters are only the variance and dispersion parameters.  Their
gradient is exact: beta_hat maximizes the ML likelihood for the given variances,
so (envelope theorem) the first two terms differentiate as the Laplace gradient
at (beta_hat, theta), and with C = V^-1 X = W(X - A E), E = H^-1 A'WX,

    d log det S / dtheta_k = -2 tr(S^-1 C' D_k E'),   D_k = dA/dtheta_k,
    d log det S / dgamma   = -sum_i x_i (C S^-1 C')_ii / W_i   (log-variance coefficients).

The fixed effects' covariance is S^-1, the REML (GLS) covariance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .differences import central_jacobian
from .laplace import InnerModeError, LaplaceObjective, ModeState


def reml_beta_covariance(beta_jacobian, beta_cov, cov_params):
    """Cov(beta_hat) as glmmTMB reports it under REML.

    TMB treats beta as a random effect there, and its sdreport adds to the conditional
    covariance S^-1 (``beta_cov``) the uncertainty carried over from the variance
    parameters (delta method): S^-1 + J Cov(theta) J', J = d beta_hat / d theta, given by
    ``beta_jacobian()``.  With balanced data J is ~0."""
    if not np.all(np.isfinite(cov_params)):
        return beta_cov
    jac = beta_jacobian()
    return beta_cov + jac @ cov_params @ jac.T


@dataclass
class REMLState(ModeState):
    beta: np.ndarray = None
    beta_cov: np.ndarray = None


class BetaIntegratedOut:
    """What an objective with beta integrated out (REML) changes: its parameters are the
    variance parameters alone, and beta comes from the GLS solution of its states
    (``REMLState.beta``, ``beta_cov``)."""

    def _integrate_out_beta(self, model):
        self.parameters = model.parameters.without_fixed_effects()
        self.layout = self.parameters.layout
        self.n_beta = model.X.shape[1]

    def start(self, full_start):
        return full_start[self.n_beta:]

    def fixed_effects(self, state, cov):
        """beta from the GLS solution at the optimum, its covariance from ``beta_covariance``."""
        return state.beta, self.beta_covariance(state, cov)

    def beta_covariance(self, state, cov_params):
        # central differences of the GLS solution
        return reml_beta_covariance(
            lambda: central_jacobian(lambda p: self.mode(p).beta, state.params),
            state.beta_cov, cov_params)


class REMLObjective(BetaIntegratedOut, LaplaceObjective):
    def __init__(self, model):
        super().__init__(model)
        self._integrate_out_beta(model)

    def mode(self, params, b_start=None, max_iter=None, tol=None) -> REMLState:
        m = self.model
        self.n_evaluations += 1
        theta = params[self.layout.theta]
        aux = self.aux_values(params)
        X, r = m.X, m.y - m.offset
        eta0 = np.zeros(m.nobs)
        w = self._derivs(eta0, aux, need_all=False).w     # 1/sigma^2 times prior weights
        p = X.shape[1]
        if self.re.q:
            A = self.re.values(theta)
            chol = self.blocks.cholesky(self.blocks.assemble(A, w))
            if chol is None:
                raise InnerModeError("A'WA + I is not positive definite")
            AtWX = np.column_stack([self.re.transpose_times(A, w * X[:, j]) for j in range(p)])
            HinvAtWX = np.column_stack([self.blocks.solve(chol, AtWX[:, j]) for j in range(p)])
            AE = np.column_stack([self.re.times(A, HinvAtWX[:, j]) for j in range(p)])
            AtWr = self.re.transpose_times(A, w * r)
            S = X.T @ (w[:, None] * X) - AtWX.T @ HinvAtWX
            rhs = X.T @ (w * r) - HinvAtWX.T @ AtWr
        else:
            A, chol, HinvAtWX, AE = np.zeros((m.nobs, 0)), [], None, np.zeros_like(X)
            S = X.T @ (w[:, None] * X)
            rhs = X.T @ (w * r)
        try:
            s_chol = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            raise InnerModeError("X'V^-1X is not positive definite") from None
        beta = np.linalg.solve(S, rhs)
        if self.re.q:
            b = self.blocks.solve(chol, self.re.transpose_times(A, w * (r - X @ beta)))
            eta = X @ beta + self.re.times(A, b) + m.offset
            logdet_h = self.blocks.logdet(chol)
        else:
            b, eta, logdet_h = np.zeros(0), X @ beta + m.offset, 0.0
        d = self._derivs(eta, aux, need_all=True)
        value = (np.sum(d.loglik) + self.constant - 0.5 * b @ b - 0.5 * logdet_h
                 - np.sum(np.log(np.diag(s_chol))) + 0.5 * p * np.log(2 * np.pi))
        beta_cov = np.linalg.inv(S)
        state = REMLState(params, b, eta, aux, A, chol, float(value), True, 1, d,
                          beta=beta, beta_cov=beta_cov)
        state.gls = (w, HinvAtWX, w[:, None] * (X - AE))     # W, E and C = V^-1 X
        return state

    def gradient(self, state):
        m, lay = self.model, self.layout
        d = state.derivs
        w, E, C = state.gls
        CS = C @ state.beta_cov                               # C S^-1
        out = np.zeros(lay.size)
        # the ML part at (beta_hat, theta): the Laplace gradient with w3 = 0 (gaussian)
        lev = np.zeros(m.nobs)
        if self.re.q:
            Ma, lev = self._leverages(state)
            Q = d.g[:, None] * state.b[self.re.cols] - d.w[:, None] * Ma
            # minus half d log det S: + sum_il (D_k)_il (C S^-1)_i . E_c(i,l)
            Q += np.einsum("ip,ilp->il", CS, E[self.re.cols])
            out[lay.theta] = self.re.theta_gradient(state.params[lay.theta], Q)
        diag_csc = np.einsum("ip,ip->i", CS, C)               # (C S^-1 C')_ii
        for name, design in m.aux_designs.items():
            la, _, wa = d.aux[name]
            out[lay.aux(name)] = design.T @ (la - 0.5 * lev * wa + 0.5 * diag_csc / w)
        return out
