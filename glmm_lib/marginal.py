"""The exact marginal likelihood of a gaussian (identity-link) model with a fixed,
near-zero residual variance, computed from V = Z Sigma Z' + sigma^2 I.

glmmTMB's ``dispformula = ~0`` fixes sigma^2 at sqrt(machine epsilon) so that a
covariance structure on the random effects (ar1, cs, us over time) carries all of
the within-subject variation.  The Laplace form works with H = A'WA + I, whose
entries are then of order 1/sigma^2 = 7e7: solving with it loses eight digits and
the gradient drowns in that noise.  V, in contrast, stays well conditioned, so
for this case the likelihood (exact for a gaussian model) is

    L = -1/2 sum_c [n_c log(2 pi) + log det V_c + r_c' V_c^-1 r_c],  r = y - X beta - offset,

summed over the groups c of observations that share random effects, with
dL/dbeta = X' alpha (alpha = V^-1 r) and, for D_k = dA/dtheta_k,
dL/dtheta_k = (D_k' alpha)'(A' alpha) - sum((V^-1 A) * D_k).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

from . import memory
from .errors import GLMMInputError
from .laplace import InnerModeError, LaplaceObjective, ModeState


def applies(model) -> bool:
    return (model.family.is_normal_linear and not model.REML
            and model.random_effects.q > 0
            and all(d.shape[1] == 0 for d in model.aux_designs.values()))


class GaussianMarginalObjective(LaplaceObjective):
    def __init__(self, model):
        super().__init__(model)
        if model.weighted:
            raise GLMMInputError("prior weights with a fixed residual variance (dispformula = ~0) "
                                 "are not supported")
        # observation groups: rows whose random effects share a block of H; V is dense
        # over each group's rows
        self.components = list(self.blocks.components())
        largest = max(rows.size for rows, _, _ in self.components)
        memory.require(8.0 * 3 * largest ** 2,
                       f"the marginal covariance of {largest} observations that share random effects")

    @staticmethod
    def _dense(values, local, size):
        """Rows of a row-wise (n_c, k) array laid out over the component's ``size`` columns
        (a row's columns are distinct, so plain assignment places them)."""
        out = np.zeros((values.shape[0], size))
        out[np.arange(values.shape[0])[:, None], local] = values
        return out

    def mode(self, params, b_start=None, max_iter=None, tol=None) -> ModeState:
        m = self.model
        self.n_evaluations += 1
        beta = params[self.layout.beta]
        theta = params[self.layout.theta]
        aux = self.aux_values(params)
        sigma2 = np.broadcast_to(np.exp(aux["log_sigma2"]), m.nobs)
        A = self.re.values(theta)
        r = m.y - m.X @ beta - m.offset
        value = -0.5 * m.nobs * np.log(2 * np.pi)
        b = np.zeros(self.re.q)
        pieces = []
        for rows, local, size in self.components:
            Ac = self._dense(A[rows], local, size)
            V = Ac @ Ac.T + np.diag(sigma2[rows])
            try:
                chol = np.linalg.cholesky(V)
            except np.linalg.LinAlgError:
                raise InnerModeError("the marginal covariance V is not positive definite") from None
            # V^-1 r and V^-1 A in one triangular solve pair (the gradient needs both)
            solved = cho_solve((chol, True), np.column_stack([r[rows], Ac]))
            alpha, vinv_a = solved[:, 0], solved[:, 1:]
            value -= np.sum(np.log(np.diag(chol))) + 0.5 * r[rows] @ alpha
            bc = Ac.T @ alpha                      # E(b | y) for spherical b
            pieces.append((rows, local, size, vinv_a, alpha, bc))
        for rows, local, size, vinv_a, alpha, bc in pieces:   # scatter E(b|y) back
            b[self.re.cols[rows].ravel()] = bc[local.ravel()]
        eta = m.X @ beta + self.re.times(A, b) + m.offset
        state = ModeState(params, b, eta, aux, A, [], float(value), True, 1)
        state.pieces = pieces
        return state

    def gradient(self, state) -> np.ndarray:
        m, lay = self.model, self.layout
        out = np.zeros(lay.size)
        alpha_full = np.zeros(m.nobs)
        # dL/dtheta_k = sum_i sum_l dA_il/dtheta_k * G_il with
        # G_il = alpha_i (A'alpha)_{col il} - (V^-1 A)_{i, col il}: one row-wise array for all k
        G = np.zeros((m.nobs, self.re.K))
        for rows, local, size, vinv_a, alpha, bc in state.pieces:
            alpha_full[rows] = alpha
            G[rows] = alpha[:, None] * bc[local] - vinv_a[np.arange(rows.size)[:, None], local]
        out[lay.theta] = self.re.theta_gradient(state.params[lay.theta], G)
        out[lay.beta] = m.X.T @ alpha_full
        return out

    def final_state(self, params, b_start=None) -> ModeState:
        state = self.mode(params, b_start=b_start)
        state.aux = self.aux_values(params, per_row=True)
        w = 1.0 / np.exp(state.aux["log_sigma2"])
        state.chol = self.blocks.cholesky(self.blocks.assemble(state.A, w))
        return state
