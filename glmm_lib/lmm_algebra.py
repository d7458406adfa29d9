"""The marginal covariance V of a linear mixed model and its derivatives in the variance
parameters: what Satterthwaite's and Kenward-Roger's degrees of freedom are made of.

Notation (Kenward and Roger 1997; pbkrtest): Phi = (X' V^-1 X)^-1, the GLS covariance of
beta_hat at the estimated variances; G_k = dV/dphi_k; and, with the REML projection
Pm = V^-1 - V^-1 X Phi X' V^-1,

    P_k  = -X' V^-1 G_k V^-1 X                          (so dPhi/dphi_k = -Phi P_k Phi)
    Q_kl =  X' V^-1 G_k V^-1 G_l V^-1 X.

G_k = U_b C_k U_b' has low rank for a random term (U_b = Z_t, C_k = I x D_k), so every
trace and product is taken through the small matrices U_b' V^-1 U_c and U_b' V^-1 X;
only V^-1 itself is n x n (see ``lmm_parts.MAX_DENSE_ROWS``).
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.linalg

from .errors import GLMMInputError
from .variance_parameters import parametrize


class LMMAlgebra:
    def __init__(self, parts, native_parameters=False):
        self.parts = parts
        self.param = parametrize(parts, native=native_parameters)
        n = parts.nobs
        V = np.diag(parts.sigma2 * parts.residual_scale)
        for term in parts.terms:
            cov = term.structure.covariance(term.theta)
            ZG = (term.Z.reshape(n, term.n_levels, term.size) @ cov).reshape(n, -1)
            V += ZG @ term.Z.T
        try:
            factor = scipy.linalg.cho_factor(V, lower=True)
        except np.linalg.LinAlgError:
            raise GLMMInputError("the fitted marginal covariance V is not positive definite; "
                                 "the fit is degenerate (check its convergence)") from None
        self.Vinv = scipy.linalg.cho_solve(factor, np.eye(n))
        X = parts.X
        self.VinvX = self.Vinv @ X
        self.Phi = np.linalg.inv(X.T @ self.VinvX)
        self.Phi = 0.5 * (self.Phi + self.Phi.T)
        # beta_hat is the GLS estimate at the fitted variances (under REML and ML alike);
        # solved here from V, which stays well conditioned when sigma is fixed near zero
        # (dispformula = ~0) and the penalized system of the fit is not
        self.beta = self.Phi @ (self.VinvX.T @ parts.y)
        # U_b' V^-1 for every block b (terms, then the residual with U = I)
        self._UtVinv = [term.Z.T @ self.Vinv for term in parts.terms] + [self.Vinv]
        self._Us = [term.Z for term in parts.terms]
        self.M = [u @ X for u in self._UtVinv]                     # U_b' V^-1 X

    # ---- blocks and parameters ----------------------------------------------
    @property
    def parameters(self):
        return self.param.parameters

    def _block(self, k):
        b = self.parameters[k].block
        return len(self.parts.terms) if b < 0 else b

    def _apply(self, k, A, D=None):
        """C_k A for A with the block's rows (C_k = I x D_k, or D diag(scale) for sigma^2)."""
        p = self.parameters[k]
        D = p.derivative if D is None else D
        if p.block < 0:
            return (D[0, 0] * self.parts.residual_scale).reshape(-1, *([1] * (A.ndim - 1))) * A
        term = self.parts.terms[p.block]
        shaped = A.reshape(term.n_levels, term.size, -1)
        return np.einsum("ij,ljc->lic", D, shaped).reshape(A.shape)

    def _UtVinvU(self, b, c):
        """U_b' V^-1 U_c."""
        if c == len(self.parts.terms):
            return self._UtVinv[b]
        return self._UtVinv[b] @ self._Us[c]

    # ---- the quantities of KR and Satterthwaite ------------------------------
    @functools.cached_property
    def P(self):
        return [-self.M[self._block(k)].T @ self._apply(k, self.M[self._block(k)])
                for k in range(len(self.parameters))]

    @functools.cached_property
    def _K(self):
        blocks = range(len(self.parts.terms) + 1)
        return {(b, c): self._UtVinvU(b, c) for b in blocks for c in blocks if b <= c}

    def K(self, b, c):
        return self._K[(b, c)] if b <= c else self._K[(c, b)].T

    def Q(self, k, l):
        b, c = self._block(k), self._block(l)
        left = self._apply(k, self.M[b]).T                         # (C_k M_b)'
        return left @ self.K(b, c) @ self._apply(l, self.M[c])

    def trace_GVinvGVinv(self, k, l):
        """tr(G_k V^-1 G_l V^-1) = tr(C_k K_bc C_l K_cb)."""
        b, c = self._block(k), self._block(l)
        left = self._apply(k, self.K(b, c))
        right = self._apply(l, self.K(c, b))
        return float(np.sum(left * right.T))

    def expected_information(self):
        """tr(Pm G_k Pm G_l) (twice REML's expected information; pbkrtest's IE2)."""
        n = len(self.parameters)
        out = np.empty((n, n))
        PhiP = [self.Phi @ p for p in self.P]
        for k in range(n):
            for l in range(k, n):
                out[k, l] = out[l, k] = (self.trace_GVinvGVinv(k, l)
                                         - 2 * np.sum(self.Phi * self.Q(k, l))
                                         + np.sum(PhiP[k] * PhiP[l].T))
        return out

    def deviance_hessian(self):
        """Hessian of the REML (or ML, profiled over beta) deviance -2 log L in the
        parameters, observed:
          REML: tr(Pm G_kl) - tr(Pm G_k Pm G_l) - y'Pm G_kl Pm y + 2 y'Pm G_k Pm G_l Pm y
          ML:   the same with V^-1 in place of Pm in the two traces."""
        n_par = len(self.parameters)
        n_blocks = len(self.parts.terms) + 1
        Vinv_y = self.Vinv @ self.parts.y
        resid_proj = Vinv_y - self.VinvX @ (self.Phi @ (self.VinvX.T @ self.parts.y))   # Pm y
        a = [self._Ut(b, resid_proj) for b in range(n_blocks)]        # U_b' Pm y
        reml = self.parts.REML

        def kp(b, c):                                               # U_b' Pm U_c
            return self.K(b, c) - self.M[b] @ self.Phi @ self.M[c].T

        Kp = {(b, c): kp(b, c) for b in range(n_blocks) for c in range(n_blocks)}
        trace_K = Kp if reml else {bc: self.K(*bc) for bc in Kp}
        out = np.empty((n_par, n_par))
        for k in range(n_par):
            b = self._block(k)
            for l in range(k, n_par):
                c = self._block(l)
                quad = a[b] @ self._apply(k, Kp[(b, c)] @ self._apply(l, a[c]))
                trace = np.sum(self._apply(k, trace_K[(b, c)]) * self._apply(l, trace_K[(c, b)]).T)
                value = 2 * quad - trace
                second = self.param.second_derivative(k, l)
                if second is not None and b == c:
                    value += (np.trace(self._apply(k, trace_K[(b, b)], D=second))
                              - a[b] @ self._apply(k, a[b], D=second))
                out[k, l] = out[l, k] = value
        return out

    def _Ut(self, b, v):
        return v if b == len(self.parts.terms) else self._Us[b].T @ v

    def covariance_gradient(self, L):
        """d (L Phi L') / d phi_k for each k: (k, r, r) array."""
        LPhi = L @ self.Phi
        return np.array([-LPhi @ p @ LPhi.T for p in self.P])
