"""Where the profiled criterion starts on crossed scalar terms, and the scale it is searched on.

From every SD equal to sigma (the terms' own starts), L-BFGS spent 18 evaluations of the
profiled criterion on lme4's InstEval: eight of them walking the department SD (0.07 sigma)
down from sigma, and the first steps were lost to curvatures of the three log SDs that
differ 200-fold (2163, 1595 and 10 at the optimum).  When the random effects are one
crossed component of scalar terms (``lmm_crossed``), both have cheap estimates from the
cross-products it already holds, and from them the search takes about 7 evaluations.

The variances, by moments (Henderson's method 1 on the ordinary least-squares residuals
r): for term k, with level sums b_j = sum w z r and n_j = sum w z^2 over its levels j,

    E[sum_j b_j^2 / n_j] = sum_l M_kl sigma_l^2 + J_k sigma^2,
                           M_kl = sum_{j in k, m in l} (Z_j'W Z_m)^2 / n_j,
    E[r'Wr]              = sum_l T_l sigma_l^2 + n sigma^2,     T_l = sum_{j in l} n_j,

(J_k levels, n rows), K + 1 linear equations, ignoring what the fixed effects absorb: only a
start, the optimum is the profiled criterion's.  M_kl counts how much of factor l's
variance shows between the levels of k: a department's mean carries its lecturers'.

The scale: the curvature of each relative log SD as if its factor were alone, the expected
information of a one-way layout at the start, 2 sum_j (n_j l^2 / (n_j l^2 + 1))^2 with l the
relative SD; the search moves theta / sqrt of it (``optimizer.quasi_newton``'s scale).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .parameters import Kind

# The search stops once the gradient in theta / scale is below this.  On that scale the
# curvature is near one, so the Newton step left is about as small and the log-likelihood
# it would gain about its square (~1e-10); the Newton polish on the full parameter vector
# (``optimizer.finish``) takes it from there.  1e-9, the general objectives' bound, is below
# the round-off of the criterion of 10^5 rows: the line search then spends evaluations on
# points that differ in the last bits.
SCALED_GTOL = 1e-5

# relative variances the start is kept within: a moment estimate at or below zero starts
# the term small but not so small that its gradient (which fades like the variance) is lost
RELATIVE_VARIANCE_RANGE = (1e-3, 1e4)


@dataclass(frozen=True)
class CrossedMoments:
    """The design sums of one crossed component of scalar terms, by term (K of them)."""
    M: np.ndarray                 # (K, K)
    levels: np.ndarray            # J_k
    n_levels: list                # n_j of each term's levels
    level_sums: list              # b_j as a function of [X y]: (levels, p + 1) per term
    n_rows: int

    @classmethod
    def of(cls, component, n_terms):
        """From a ``lmm_crossed.CrossedComponent`` whose slots are all scalar terms."""
        c = component
        nE = c.N.diagonal(axis1=1, axis2=2)                  # (levels, s)
        nR = np.diag(c.ZRZR).copy()
        if np.any(nE <= 0) or np.any(nR <= 0):       # a level whose z are all zero
            return None
        # the term of each row of C (level, E slot) and of each R column, one-hot
        E_terms = sp.csr_matrix((np.ones(c.n_levels * c.s), (np.arange(c.n_levels * c.s),
                                 np.tile(c.E_term, c.n_levels))),
                                shape=(c.n_levels * c.s, n_terms))
        R_terms = np.zeros((c.q2, n_terms))
        R_terms[np.arange(c.q2), c.R_term] = 1.0
        M = np.zeros((n_terms, n_terms))
        # E with E: the same level, slots e and f
        EE = np.sum(c.N ** 2 / nE[:, :, None], axis=0)
        M[np.ix_(c.E_term, c.E_term)] += EE
        # E with R and R with E: the entries of C, over n_j of the row's or the column's level
        C2 = c.C.multiply(c.C).tocsr()
        M += E_terms.T @ (sp.diags(1 / nE.ravel()) @ C2 @ R_terms)
        M += (E_terms.T @ (C2 @ (R_terms / nR[:, None]))).T
        # R with R
        M += R_terms.T @ (c.ZRZR ** 2 / nR[:, None]) @ R_terms
        n_levels = [nE[:, np.flatnonzero(c.E_term == k)].ravel() if k in c.E_term
                    else nR[c.R_term == k] for k in range(n_terms)]
        level_sums = [c.bE[:, np.flatnonzero(c.E_term == k)].reshape(-1, c.bE.shape[-1])
                      if k in c.E_term else c.bR[c.R_term == k] for k in range(n_terms)]
        return cls(M, np.array([n.size for n in n_levels], float), n_levels, level_sums,
                   c.rows.size)

    def relative_variances(self, XyWXy):
        """sigma_k^2 / sigma^2 by moments, within ``RELATIVE_VARIANCE_RANGE``; None where
        the equations give no positive residual variance."""
        p = XyWXy.shape[0] - 1
        try:
            beta = np.linalg.solve(XyWXy[:p, :p], XyWXy[:p, p])
        except np.linalg.LinAlgError:
            return None
        gamma = np.append(-beta, 1.0)
        K = self.M.shape[0]
        A = np.zeros((K + 1, K + 1))
        A[:K, :K], A[:K, K] = self.M, self.levels
        A[K, :K], A[K, K] = [n.sum() for n in self.n_levels], self.n_rows
        rhs = np.append([np.sum((b @ gamma) ** 2 / n) for b, n in zip(self.level_sums,
                                                                      self.n_levels)],
                        gamma @ XyWXy @ gamma)
        try:
            variances = np.linalg.solve(A, rhs)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(variances)) or variances[K] <= 0:
            return None
        return np.clip(variances[:K] / variances[K], *RELATIVE_VARIANCE_RANGE)

    def curvatures(self, relative_variances):
        """The one-way expected information of each term's relative log SD."""
        return np.array([2 * np.sum((n * v / (n * v + 1)) ** 2)
                         for n, v in zip(self.n_levels, relative_variances)])


def crossed_moments(cross, re, theta_table):
    """``CrossedMoments`` when the random effects are one crossed component (of
    ``lmm_crossprod.CrossProducts`` ``cross``) whose terms are scalar, each with one log-SD
    parameter; otherwise None (the terms' own starts serve)."""
    if len(cross.crossed) != 1 or cross.buckets:
        return None
    if not all(t.size == 1 and t.structure.n_params == 1 for t in re.terms):
        return None
    if not all(p.kind is Kind.LOG_SD for p in theta_table):
        return None
    moments = CrossedMoments.of(cross.crossed[0], len(re.terms))
    return moments if moments is not None and np.all(np.isfinite(moments.M)) else None


def start_and_scale(moments, re, XyWXy):
    """Relative theta at the moment estimates and the search scale there, or None."""
    variances = moments.relative_variances(XyWXy)
    if variances is None:
        return None
    theta = re.theta_start()
    # each scalar factor scales with exp(theta) (``lmm_profiled._scales_with_sds``)
    unit = np.array([abs(f[0, 0]) for f in re.factors(theta)])
    theta = theta + 0.5 * np.log(variances) - np.log(unit)
    return theta, scale_at(moments, re, theta)


def scale_at(moments, re, theta):
    """The search scale at relative theta: 1 / sqrt(one-way curvature), rounded to a
    power of two so that theta / scale * scale is theta again to the last bit (the start is
    then not evaluated twice)."""
    variances = np.array([f[0, 0] ** 2 for f in re.factors(theta)])
    curvature = moments.curvatures(variances)
    reference = np.median(curvature[curvature > 0]) if np.any(curvature > 0) else 1.0
    return np.exp2(np.round(-0.5 * np.log2(np.clip(curvature, 1e-8 * reference, None))))
