"""The Laplace objective for a Poisson (log link) model with one random intercept,
computed from per-group sufficient statistics.

With eta_i = f_i + lambda b_j (f = X beta + offset) and the canonical log link, the
log density of group j depends on b_j only through Y_j = sum of y and
S_j = sum of exp(f_i) over the group's rows:

    sum_i y_i eta_i - mu_i = sum_i y_i f_i + Y_j lambda b_j - S_j exp(lambda b_j).

So one evaluation is a few passes over the rows (exp(f), a group sum, X'v) and the
inner Newton iterations run over the groups only.  The gradient is the general one
of ``LaplaceObjective.gradient`` with every per-row factor written per group:
dL/dbeta = X'(y - exp(f_i) kappa_j), kappa_j = c_j (1 + lev_j / 2 - lambda r_j / 2),
c_j = exp(lambda b_j).  This is what makes a million-row Poisson fit take seconds.
"""
from __future__ import annotations

import numpy as np

from .laplace import InnerModeError, LaplaceObjective, ModeState


def applies(model) -> bool:
    """True for a Poisson-log model whose only random term is (1 | g), unweighted."""
    re = model.random_effects
    if not model.family.is_poisson_log or model.aux_designs:
        return False
    if len(re.terms) != 1 or re.terms[0].size != 1 or model.weighted:
        return False
    return bool(np.all(re.terms[0].design.X[:, 0] == 1.0))


class GroupedPoissonObjective(LaplaceObjective):
    def __init__(self, model):
        super().__init__(model)
        self.groups = self.re.terms[0].codes
        self.n_groups = self.re.q
        self.group_y = np.bincount(self.groups, weights=model.y, minlength=self.n_groups)

    def _group_sums(self, fixed_eta):
        e = np.exp(fixed_eta)
        return e, np.bincount(self.groups, weights=e, minlength=self.n_groups)

    def mode(self, params, b_start=None, max_iter=100, tol=1e-9) -> ModeState:
        m = self.model
        self.n_evaluations += 1
        beta = params[self.layout.beta]
        lam = float(np.exp(params[self.layout.theta][0]))
        fixed_eta = m.X @ beta + m.offset
        e, S = self._group_sums(fixed_eta)
        Y = self.group_y
        b = (self._b_cache if b_start is None else b_start).copy()
        converged = False
        with np.errstate(over="ignore"):
            for iteration in range(1, max_iter + 1):
                c = np.exp(lam * b)
                grad = lam * (Y - S * c) - b
                hess = lam * lam * S * c + 1.0
                step = grad / hess
                largest = np.max(np.abs(step))
                if largest < tol * max(1.0, float(np.max(np.abs(b)))):
                    converged = True
                    break
                # each group's objective is concave: a full Newton step, halved while it overshoots
                b_new = b + step
                obj = lam * Y * b - S * c - 0.5 * b * b
                for _ in range(50):
                    obj_new = lam * Y * b_new - S * np.exp(lam * b_new) - 0.5 * b_new * b_new
                    worse = ~(obj_new >= obj - 1e-12 * np.abs(obj))
                    if not worse.any():
                        break
                    b_new = np.where(worse, 0.5 * (b + b_new), b_new)
                b = b_new
        if not converged and largest < 1e-7:
            converged = True     # stalled at round-off, far below what the gradient can see
        c = np.exp(lam * b)
        h = lam * lam * S * c + 1.0
        kernel = float(m.y @ fixed_eta + np.sum(lam * Y * b - S * c))
        value = kernel - 0.5 * b @ b - 0.5 * float(np.sum(np.log(h))) + self.constant
        if not np.isfinite(value):
            raise InnerModeError("the log-likelihood is not finite at these parameters")
        self._b_cache = b.copy()
        state = ModeState(params, b, None, {}, None, [np.sqrt(h).reshape(-1, 1, 1)], value,
                          converged, iteration)
        state.group_terms = (e, S, c, h, lam)
        return state

    def gradient(self, state) -> np.ndarray:
        m, lay = self.model, self.layout
        e, S, c, h, lam = state.group_terms
        b = state.b
        lev = lam * lam / h                       # a_i' H^-1 a_i, the same for a group's rows
        r = lam * lev * S * c / h                 # H^-1 A'(lev * w3), w3 = mu
        kappa = c * (1 + 0.5 * lev - 0.5 * lam * r)
        out = np.empty(lay.size)
        out[lay.beta] = m.X.T @ (m.y - e * kappa[self.groups])
        # theta = log lambda, so dA/dtheta = A: D b = lam b_j, D r = lam r_j per group
        mu_sum = S * c                             # sum of mu over the group's rows
        g_sum = self.group_y - mu_sum              # sum of g = y - mu
        Db, Dr = lam * b, lam * r
        trace = np.sum(mu_sum * lam * lam / h)
        out[lay.theta.start] = (g_sum @ Db - 0.5 * (2 * trace + (lev * mu_sum) @ Db + g_sum @ Dr
                                                    - (mu_sum * lam * r) @ Db))
        return out

    def final_state(self, params, b_start=None) -> ModeState:
        """The state with eta and A filled in, for predictions and residuals."""
        state = self.mode(params, b_start=b_start)
        lam = state.group_terms[4]
        m = self.model
        state.A = np.full((m.nobs, 1), lam)
        state.eta = m.X @ params[self.layout.beta] + m.offset + lam * state.b[self.groups]
        return state
