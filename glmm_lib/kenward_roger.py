"""Kenward and Roger's (1997) small-sample inference for REML fits, as pbkrtest.

The adjusted covariance of beta_hat (pbkrtest's ``vcovAdj``) adds to Phi the bias of
Phi(phi_hat) and the variability of beta_hat from the estimated variances:

    Phi_A = Phi + 2 Phi [ sum_kl W_kl (Q_kl - P_k Phi P_l) ] Phi,

W = 2 I^-1, I_kl = tr(Pm G_k Pm G_l) twice the expected REML information, in the
parametrization where V is linear (the covariance elements and sigma^2), so the second
derivative term of the 1997 paper is zero.  For L beta = 0 with q = rank(L) and
Theta = L'(L Phi L')^-1 L, the Wald statistic on Phi_A is scaled and given a df by
matching the first two moments of an F distribution (A1, A2, B, g, c1..c3, rho).
"""
from __future__ import annotations

import numpy as np

from .errors import GLMMInputError

_SINGULAR_TOL = 1e-10


def row_basis(L):
    """An orthonormal basis of the rows of L: KR's statistics depend on the row space only,
    and need L Phi L' invertible."""
    _, singular, vt = np.linalg.svd(np.atleast_2d(L), full_matrices=False)
    return vt[singular > singular[0] * np.sqrt(np.finfo(float).eps)]


class KenwardRoger:
    def __init__(self, algebra):
        if not algebra.parts.REML:
            raise GLMMInputError("Kenward-Roger's method is for REML fits; refit with "
                                 "REML=True or use ddf='Satterthwaite'")
        if not algebra.param.linear_in_v:
            raise GLMMInputError(
                "Kenward-Roger df are computed, as pbkrtest, for covariances linear in their "
                "parameters (random intercepts, us and diag terms); this model has a cs or "
                "ar1 term: use ddf='Satterthwaite'")
        self.algebra = algebra
        Phi, P = algebra.Phi, algebra.P
        information = algebra.expected_information()
        if np.min(np.abs(np.linalg.eigvalsh(information))) > _SINGULAR_TOL:
            self.W = 2 * np.linalg.inv(information)
        else:
            self.W = 2 * np.linalg.pinv(information)
        n = len(P)
        U = np.zeros_like(Phi)
        for k in range(n):
            for l in range(n):
                U += self.W[k, l] * (algebra.Q(k, l) - P[k] @ Phi @ P[l])
        adjusted = Phi + 2 * Phi @ U @ Phi
        self.covariance = 0.5 * (adjusted + adjusted.T)

    def _moments(self, L):
        """A1, A2 and q for the hypothesis rows L."""
        Phi, P, W = self.algebra.Phi, self.algebra.P, self.W
        Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
        u = [Theta @ Phi @ p @ Phi for p in P]
        traces = np.array([np.trace(x) for x in u])
        A1 = float(traces @ W @ traces)
        A2 = float(sum(W[k, l] * np.sum(u[k] * u[l].T)
                       for k in range(len(u)) for l in range(len(u))))
        return A1, A2

    def _df_and_scaling(self, L, q):
        A1, A2 = self._moments(L)
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        denominator = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / denominator, (q - g) / denominator, (q + 2 - g) / denominator
        V0 = 1 + c1 * B
        V0 = 0.0 if abs(V0) < 1e-10 else V0
        V1, V2 = 1 - c2 * B, 1 - c3 * B
        ratio = 1.0 if abs(1 - A2 / q) < 1e-14 and abs(V1) < 1e-14 else (1 - A2 / q) / V1
        rho = ratio ** 2 * V0 / (q * V2)
        ddf = 4 + (q + 2) / (q * rho - 1)
        scaling = 1.0 if abs(ddf - 2) < 0.01 else ddf * (1 - A2 / q) / (ddf - 2)
        return ddf, scaling

    def row_df(self, L):
        """KR df of each row of L as a one-row hypothesis (pbkrtest's Lb_ddf)."""
        L = np.atleast_2d(L)
        return np.array([self._df_and_scaling(row[None, :], 1)[0] for row in L])

    def f_test(self, L, beta):
        """(F, numerator df, denominator df, unscaled F) for L beta = 0: the Wald statistic
        on Phi_A over q, times KR's scaling."""
        L = row_basis(L)
        q = L.shape[0]
        ddf, scaling = self._df_and_scaling(L, q)
        Lb = L @ beta
        unscaled = float(Lb @ np.linalg.solve(L @ self.covariance @ L.T, Lb)) / q
        return unscaled * scaling, q, ddf, unscaled
