"""Satterthwaite's degrees of freedom for linear contrasts of beta, as lmerTest.

For one contrast l:  df = 2 (l Phi l')^2 / (g' A g), g_k = d(l Phi l')/dphi_k and A the
asymptotic covariance of the variance parameters, twice the inverse of the observed
Hessian of the deviance (REML, or ML profiled over beta, whichever the fit used).
Directions in which the Hessian is not positive (a variance on its boundary) are left out
of the inverse, as lmerTest does.

For several rows (an F test): the rows are rotated to independent contrasts (eigenvectors
of L Phi L'), each gets its own df nu_m, and the F statistic's df is 2E / (E - q) with
E = sum nu_m / (nu_m - 2) (Fai and Cornelius 1996), 2 if any nu_m <= 2.
"""
from __future__ import annotations

import numpy as np

# lmerTest's tolerances: Hessian eigenvalues (here of the Hessian in parameters scaled to
# their size), contrast-covariance eigenvalues (relative), equal df.
_HESSIAN_TOL = 1e-8
_RANK_TOL = np.sqrt(np.finfo(float).eps)
_EQUAL_DF_TOL = 1e-8


class Satterthwaite:
    def __init__(self, algebra):
        self.algebra = algebra
        scale = np.array([p.scale for p in algebra.parameters])
        hessian = algebra.deviance_hessian() * np.outer(scale, scale)
        values, vectors = np.linalg.eigh(hessian)
        keep = values > _HESSIAN_TOL
        inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
        self.vcov_varpar = 2 * inverse * np.outer(scale, scale)

    @property
    def covariance(self):
        return self.algebra.Phi

    def row_df(self, L):
        """df of each row of L (each a single contrast)."""
        L = np.atleast_2d(L)
        var = np.einsum("ij,jk,ik->i", L, self.algebra.Phi, L)
        grads = np.stack([np.diagonal(g) for g in self.algebra.covariance_gradient(L)], axis=1)
        denominator = np.einsum("ik,kl,il->i", grads, self.vcov_varpar, grads)
        return 2 * var ** 2 / denominator

    def f_test(self, L, beta):
        """(F, numerator df, denominator df) for L beta = 0."""
        L = np.atleast_2d(L)
        values, vectors = np.linalg.eigh(L @ self.algebra.Phi @ L.T)
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        q = int(np.sum(values > max(_RANK_TOL * values[0], 0)))
        rotated = (vectors.T @ L)[:q]
        F = float(np.sum((rotated @ beta) ** 2 / values[:q]) / q)
        nu = self.row_df(rotated)
        return F, q, _combined_df(nu)


def _combined_df(nu):
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < _EQUAL_DF_TOL):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = np.sum(nu / (nu - 2))
    return float(2 * E / (E - nu.size))
