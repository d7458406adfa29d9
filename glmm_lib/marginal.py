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

Under REML (``GaussianMarginalREMLObjective``) beta is integrated out the same way:
with C = V^-1 X and S = X'V^-1 X (summed over the groups), beta_hat = S^-1 C'(y - offset),

    L_REML = L(beta_hat) - 1/2 log det S + (p / 2) log(2 pi),

and, beta_hat maximizing L for the given theta, only log det S adds to the gradient:
-1/2 d log det S / dtheta_k = sum((C S^-1 C' A) * D_k), the block of C S^-1 C' A on a
group's rows being C_c S^-1 (C_c' A_c) since a random effect belongs to one group.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

from . import memory
from .errors import GLMMInputError
from .laplace import InnerModeError, LaplaceObjective, ModeState
from .reml import BetaIntegratedOut, REMLState


def applies(model) -> bool:
    """A gaussian model with random effects and its residual variance fixed (ML or REML)."""
    return (model.family.is_normal_linear and model.random_effects.q > 0
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
        out, alpha_full = self._variance_gradient(state)
        out[self.layout.beta] = self.model.X.T @ alpha_full
        return out

    def _variance_gradient(self, state):
        """The gradient with its beta part left at zero, and V^-1 r on every row."""
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
        return out, alpha_full

    def final_state(self, params, b_start=None) -> ModeState:
        state = self.mode(params, b_start=b_start)
        state.aux = self.aux_values(params, per_row=True)
        w = 1.0 / np.exp(state.aux["log_sigma2"])
        state.chol = self.blocks.cholesky(self.blocks.assemble(state.A, w))
        return state


class GaussianMarginalREMLObjective(BetaIntegratedOut, GaussianMarginalObjective):
    """REML from V, for the same models (see the module's docstring): the Laplace form of
    REML (``reml.py``) solves with H, whose entries of order 1/sigma^2 leave its gradient
    to round-off, and the search then ends where the BLAS kernel's rounding sends it."""

    def __init__(self, model):
        super().__init__(model)
        self._integrate_out_beta(model)

    def mode(self, params, b_start=None, max_iter=None, tol=None) -> REMLState:
        m, p = self.model, self.n_beta
        self.n_evaluations += 1
        theta = params[self.layout.theta]
        aux = self.aux_values(params)
        sigma2 = np.broadcast_to(np.exp(aux["log_sigma2"]), m.nobs)
        A = self.re.values(theta)
        r0 = m.y - m.offset
        groups, S, rhs, value = [], np.zeros((p, p)), np.zeros(p), 0.0
        for rows, local, size in self.components:
            Ac = self._dense(A[rows], local, size)
            try:
                chol = np.linalg.cholesky(Ac @ Ac.T + np.diag(sigma2[rows]))
            except np.linalg.LinAlgError:
                raise InnerModeError("the marginal covariance V is not positive definite") from None
            # V^-1 (y - offset), V^-1 X and V^-1 A in one pair of triangular solves
            solved = cho_solve((chol, True), np.column_stack([r0[rows], m.X[rows], Ac]))
            vinv_r0, C, vinv_a = solved[:, 0], solved[:, 1:p + 1], solved[:, p + 1:]
            S += m.X[rows].T @ C
            rhs += m.X[rows].T @ vinv_r0
            value -= np.sum(np.log(np.diag(chol)))
            groups.append((rows, local, size, Ac, vinv_r0, C, vinv_a))
        try:
            s_chol = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            raise InnerModeError("X'V^-1X is not positive definite") from None
        beta_cov = cho_solve((s_chol, True), np.eye(p))
        beta = beta_cov @ rhs
        b = np.zeros(self.re.q)
        pieces = []
        for rows, local, size, Ac, vinv_r0, C, vinv_a in groups:
            alpha = vinv_r0 - C @ beta                # V^-1 (y - X beta_hat - offset)
            value -= 0.5 * (r0[rows] - m.X[rows] @ beta) @ alpha
            bc = Ac.T @ alpha
            b[self.re.cols[rows].ravel()] = bc[local.ravel()]
            # V^-1 A less its REML correction C S^-1 C'A: the gradient's only use of either
            pieces.append((rows, local, size, vinv_a - C @ (beta_cov @ (C.T @ Ac)), alpha, bc))
        value += (-0.5 * m.nobs * np.log(2 * np.pi) - np.sum(np.log(np.diag(s_chol)))
                  + 0.5 * p * np.log(2 * np.pi))
        eta = m.X @ beta + self.re.times(A, b) + m.offset
        state = REMLState(params, b, eta, aux, A, [], float(value), True, 1,
                          beta=beta, beta_cov=beta_cov)
        state.pieces = pieces
        return state

    def gradient(self, state) -> np.ndarray:
        # the ML gradient's theta part, V^-1 A replaced by V^-1 A - C S^-1 C'A (``mode``)
        return self._variance_gradient(state)[0]
