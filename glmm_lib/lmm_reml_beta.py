"""How the REML fixed effects of the profiled gaussian criterion (``lmm_profiled``) move with
the variance parameters: d beta_hat / d p, which glmmTMB's REML standard errors read
(``reml.reml_beta_covariance``), in closed form from what one factorization holds.

beta_hat depends on the relative Lambda alone.  Differentiating the mixed-model equations
(r = y - X beta - Z Lambda u;  Lambda'Z'W r = u,  X'W r = 0) in its entries gives

    S_X d beta = -(Y' dLambda u + E' dLambda' v),    Y = Z'WX - Z'WZ Lambda E,

with v = Z'W r and E = H^-1 Lambda'Z'WX as in the gradient and S_X the penalized X'WX;
summed over each term's levels and chained through the structure's d Lambda / d theta.
Central differences of the GLS solution cost two factorizations per parameter instead.
"""
from __future__ import annotations

import numpy as np

from . import stacked


def beta_jacobian(objective, state):
    """d beta_hat / d p at ``state`` (a ``ProfiledGaussianObjective.mode``), p = absolute
    theta and log sigma^2: (n_beta, parameters)."""
    cross, p = objective.cross, objective.n_beta
    fac, beta, modes, sigma2, _ = state.profiled
    gamma = np.append(-beta, 1.0)
    # per term, the sum over its levels of the diagonal blocks of Y u' + v E' (s, s, p)
    sums = [np.zeros((s, s, p)) for s in cross.sizes]
    for bucket, (lam, m_lam, l_inv, R), u in zip(cross.buckets, fac.blocks, modes):
        E = stacked.matmul(stacked.transpose(l_inv), R[..., :p])
        Y = bucket.ZtWXy[..., :p] - stacked.matmul(m_lam, E)
        v = bucket.ZtWXy @ gamma - np.einsum("cij,cj->ci", m_lam, u)
        for c in range(p):
            blocks = Y[:, :, c, None] * u[:, None, :] + v[:, :, None] * E[:, None, :, c]
            for k, part in enumerate(bucket.term_sums(blocks, cross.n_terms)):
                if part is not None:
                    sums[k][:, :, c] += part
    for part, u in zip(fac.crossed, modes[len(cross.buckets):]):
        for k, m in enumerate(part.fixed_effect_sums(u, p)):
            if m is not None:
                sums[k] += m
    re, layout = objective.re, objective.layout
    theta = state.params[layout.theta]
    d_relative = np.empty((p, re.n_theta))
    for term, sl, m in zip(re.terms, re.theta_slices, sums):
        # d (relative Lambda) / d theta: the factor scales with its SDs, so it is the
        # absolute factor's Jacobian over sigma
        jac = np.asarray(term.structure.jacobian(theta[sl])) / np.sqrt(sigma2)
        d_relative[:, sl] = -np.einsum("kab,abc->ck", jac, m)
    d_relative = np.linalg.solve(fac.schur[:p, :p], d_relative)
    out = np.empty((p, layout.size))
    out[:, layout.theta] = d_relative
    # relative theta = theta - log sigma on each log SD
    out[:, objective.sigma_slot] = -0.5 * (d_relative @ objective.log_sd)[:, None]
    return out
