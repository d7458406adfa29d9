"""The Laplace approximation to the marginal log-likelihood and its exact gradient.

With spherical random effects b ~ N(0, I), u = Lambda(theta) b and
A = Z Lambda, the joint log density is

    l(b, p) = sum_i w_i log f(y_i | eta_i, aux_i) - b'b / 2,   eta = X beta + A b + offset,

and the Laplace approximation is L(p) = l(b_hat, p) - log det H / 2 with
H = A' W A + I at the mode b_hat (W the observed information in eta).  It is
the same number as glmmTMB's (the approximation does not depend on a linear
reparameterization of the random effects), and the unit prior keeps H well
conditioned when a variance goes to zero.

The gradient is exact: the envelope theorem for l and the implicit-function
theorem for b_hat inside log det H (derived in the docstring of
``LaplaceObjective.gradient``).  Each evaluation is a few
vectorized passes over the rows plus batched algebra on the blocks of H.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# the chord steps of ``LaplaceObjective._chord``: each smaller than the last by CHORD_RATE
# at least, no more than CHORD_LEFT of them foreseen, the mode reached once the distance
# left is under CHORD_DONE (the Newton iterations end within about 1e-10 too)
CHORD_RATE = 0.25
CHORD_LEFT = 4
CHORD_DONE = 1e-10


@dataclass
class ModeState:
    """Everything known at the inner mode for one parameter vector."""
    params: np.ndarray
    b: np.ndarray
    eta: np.ndarray
    aux: dict
    A: np.ndarray
    chol: list
    value: float            # L(p), the Laplace log-likelihood
    inner_converged: bool
    inner_iterations: int
    derivs: object = None   # EtaDerivatives at the mode (with w3 and aux once the gradient ran)


class InnerModeError(ArithmeticError):
    pass


class LaplaceObjective:
    """L(p) and its gradient for one model (or its distinct rows).  It remembers its last
    mode to start the next one from: each fit, profile or Jacobian makes its own."""

    def __init__(self, model):
        self.model = model
        self.family = model.family
        self.re = model.random_effects
        self.parameters = model.parameters
        self.layout = self.parameters.layout
        self.blocks = self.re.blocks
        self._b_cache = np.zeros(self.re.q)
        self._last_state = None     # the previous mode, the base of the next starting point
        self.n_evaluations = 0
        # an auxiliary parameter whose linear predictor is an intercept (or fixed) is one
        # number for every row: kept as a scalar, the families skip per-row exp and log
        self._constant_aux = {name for name, d in model.aux_designs.items()
                              if d.shape[1] == 0 or (d.shape[1] == 1 and np.all(d == 1.0))}
        # the parameter-free part of the log density, summed once
        self.constant = float(np.sum(model.weights * self.family.normalizer(model.y, model.trials)))

    # ---- the outer parameter vector -----------------------------------------
    def start(self, full_start):
        """Starting point from one laid out as (beta, theta, aux)."""
        return full_start

    # ---- pieces ------------------------------------------------------------
    def aux_values(self, params, per_row=False):
        """Each auxiliary linear predictor: a scalar where it is constant, unless ``per_row``."""
        m = self.model
        out = {}
        for name, design in m.aux_designs.items():
            coefs = params[self.layout.aux(name)]
            if name in self._constant_aux:
                value = np.float64(np.sum(coefs) + m.aux_offsets[name])
                out[name] = np.full(m.nobs, value) if per_row else value
            else:
                out[name] = design @ coefs + m.aux_offsets[name]
        return out

    def _derivs(self, eta, aux, need_all):
        m = self.model
        d = self.family.eta_derivatives(m.y, eta, aux, m.trials, need_aux=need_all)
        if m.weighted:
            wt = m.weights
            d.loglik, d.g, d.w = d.loglik * wt, d.g * wt, d.w * wt
            d.w3 = None if d.w3 is None else d.w3 * wt
            d.aux = {k: tuple(x * wt for x in v) for k, v in d.aux.items()}
        return d

    # ---- the inner problem -------------------------------------------------
    def mode(self, params, b_start=None, max_iter=100, tol=1e-9) -> ModeState:
        m = self.model
        self.n_evaluations += 1
        beta = params[self.layout.beta]
        theta = params[self.layout.theta]
        aux = self.aux_values(params)
        fixed_eta = m.X @ beta + m.offset
        if self.re.q == 0:
            d = self._derivs(fixed_eta, aux, need_all=False)
            value = float(np.sum(d.loglik)) + self.constant
            return ModeState(params, np.zeros(0), fixed_eta, aux, np.zeros((m.nobs, 0)), [],
                             value, True, 0)
        A = self.re.values(theta)
        if b_start is not None:
            b = b_start.copy()
        elif self._last_state is not None:
            b = self._predicted_mode(params)
        else:
            b = self._b_cache.copy()
        eta = fixed_eta + self.re.times(A, b)
        d = self._derivs(eta, aux, need_all=False)
        objective = np.sum(d.loglik) - 0.5 * b @ b
        if not np.isfinite(objective) and b_start is None:   # try the last mode itself
            b = self._b_cache.copy()
            eta = fixed_eta + self.re.times(A, b)
            d = self._derivs(eta, aux, need_all=False)
            objective = np.sum(d.loglik) - 0.5 * b @ b
        if not np.isfinite(objective):  # the previous mode is no start here: begin at zero
            b = np.zeros(self.re.q)
            eta = fixed_eta.copy()
            d = self._derivs(eta, aux, need_all=False)
            objective = np.sum(d.loglik)
            if not np.isfinite(objective):
                raise InnerModeError("the log-likelihood is not finite at these parameters "
                                     "(for example a mean outside the family's range)")
        converged, iteration = False, 0
        if self.blocks.coupled and b_start is None and self._last_state is not None:
            b, eta, d, objective, iteration, converged = self._chord(A, fixed_eta, aux, b, eta,
                                                                     d, objective)
            if converged:
                chol = self.blocks.cholesky(self.blocks.assemble(A, d.w))
                observed = converged = chol is not None
        # Newton's method, unless the chord steps reached the mode
        for iteration in range(iteration + 1, iteration + 1 if converged else max_iter + 1):
            gradient = self.re.transpose_times(A, d.g) - b
            chol = self.blocks.cholesky(self.blocks.assemble(A, d.w))
            observed = chol is not None
            if not observed:  # observed information not positive: a Fisher scoring step
                fisher = self.family.fisher_weights(eta, aux, m.trials) * m.weights
                chol = self.blocks.cholesky(self.blocks.assemble(A, fisher))
                if chol is None:
                    raise InnerModeError("the inner Hessian is not positive definite")
            step = self.blocks.solve(chol, gradient)
            # Even a step below ``tol`` is taken: log det H moves to first order with b, so
            # a mode off by 1e-10 shifts L by ~1e-7 on 10^5 rows, enough to mislead the
            # outer line search.  A full step this small is the last one (Newton converges
            # quadratically): the gradient's derivatives are taken with it.
            # A log density quadratic in eta (gaussian, identity link) is maximized by this
            # one step, and H does not depend on b: the factor in hand is the final one.
            exact = self.family.quadratic_in_eta and observed
            last_step = exact or np.max(np.abs(step)) < 1e-5
            scale = 1.0
            while True:
                b_new = b + scale * step
                eta_new = fixed_eta + self.re.times(A, b_new)
                d_new = self._derivs(eta_new, aux, need_all=last_step and scale == 1.0)
                objective_new = np.sum(d_new.loglik) - 0.5 * b_new @ b_new
                if np.isfinite(objective_new) and objective_new >= objective - 1e-12 * abs(objective):
                    break
                scale /= 2
                if scale < 1e-12:
                    break
            if scale < 1e-12:   # no ascent at all: b is the mode to round-off if the step was
                converged = observed and np.max(np.abs(step)) < tol
                break
            b, eta, d, objective = b_new, eta_new, d_new, objective_new
            if exact and scale == 1.0:
                converged = True
                break
            if scale == 1.0 and last_step:
                chol = self.blocks.cholesky(self.blocks.assemble(A, d.w))
                observed = chol is not None
                converged = observed
                break
        if not np.isfinite(objective):
            raise InnerModeError("the log-likelihood is not finite at the inner mode")
        self._b_cache = b.copy()
        if not observed:
            raise InnerModeError("the Hessian of the joint density is not positive definite at "
                                 "the mode of the random effects")
        value = float(objective - 0.5 * self.blocks.logdet(chol)) + self.constant
        state = ModeState(params, b, eta, aux, A, chol, value, converged, iteration, d)
        self._last_state = state
        return state

    def _chord(self, A, fixed_eta, aux, b, eta, d, objective):
        """Steps towards the mode with the last mode's factor of H in place of a new one.

        A coupled block's factorization (the Schur complement and its Cholesky factor)
        costs several passes over the rows; between nearby parameter vectors H changes
        little, and the chord method's steps H_last^-1 (A'g - b) shrink at each step by
        a rate near the relative change of H.  The distance left after a step is about
        the step times that rate; the mode is reached once it is below CHORD_DONE.  The
        steps stop, for Newton's method to go on, where they would need more than
        CHORD_LEFT further ones, or contract by less than CHORD_RATE, or the joint density
        would fall.  Returns (b, eta, d, objective, the steps taken, whether at the mode)."""
        factor = self._last_state.chol
        previous, steps = np.inf, 0
        while True:
            step = self.blocks.solve(factor, self.re.transpose_times(A, d.g) - b)
            size = np.max(np.abs(step))
            rate = size / previous
            if not rate <= CHORD_RATE:
                return b, eta, d, objective, steps, False
            left = size * (rate if steps else CHORD_RATE)
            b_new = b + step
            eta_new = fixed_eta + self.re.times(A, b_new)
            d_new = self._derivs(eta_new, aux, need_all=left < CHORD_DONE)
            objective_new = np.sum(d_new.loglik) - 0.5 * b_new @ b_new
            if not (np.isfinite(objective_new)
                    and objective_new >= objective - 1e-12 * abs(objective)):
                return b, eta, d, objective, steps, False
            b, eta, d, objective, steps = b_new, eta_new, d_new, objective_new, steps + 1
            if left < CHORD_DONE:
                return b, eta, d, objective, steps, True
            if steps > 1 and np.log(CHORD_DONE / left) / np.log(rate) > CHORD_LEFT:
                return b, eta, d, objective, steps, False
            previous = size

    def _predicted_mode(self, params):
        """The mode at ``params`` to first order from the last one.

        Differentiating the mode condition A'g - b = 0 (implicit-function theorem):
        H db = A'(g_a dgamma - W deta) + dA'g, with deta = X dbeta + dA b and dA =
        sum_k D_k dtheta_k, all at the last mode.  From there the Newton iterations
        usually need one step instead of three."""
        last, lay, m = self._last_state, self.layout, self.model
        d = last.derivs
        dp = params - last.params
        deta = m.X @ dp[lay.beta]
        rhs = np.zeros(self.re.q)
        dtheta = dp[lay.theta]
        if np.any(dtheta):
            dA = self.re.values_change(last.params[lay.theta], dtheta)
            deta += self.re.times(dA, last.b)
            rhs += self.re.transpose_times(dA, d.g)
        v = -d.w * deta
        for name, (_, g_a, _) in d.aux.items():
            v += g_a * (m.aux_designs[name] @ dp[lay.aux(name)])
        predicted = last.b + self.blocks.solve(last.chol, rhs + self.re.transpose_times(last.A, v))
        return predicted if np.all(np.isfinite(predicted)) else last.b.copy()

    @property
    def last_mode(self) -> ModeState | None:
        """The last mode found (its b starts the mode of another objective nearby)."""
        return self._last_state

    def final_state(self, params, b_start=None) -> ModeState:
        """The state at the optimum handed to the results, auxiliary values per row."""
        last = self._last_state
        if last is not None and np.array_equal(last.params, params):
            state = last
        else:
            state = self.mode(params, b_start=b_start)
        state.aux = self.aux_values(params, per_row=True)
        return state

    def fixed_effects(self, state, cov):
        """beta and its covariance, from p at the optimum and the inverse Hessian."""
        return state.params[self.layout.beta], cov[self.layout.beta, self.layout.beta]

    # ---- objective and gradient --------------------------------------------
    def value(self, params):
        return self.mode(params).value

    def _leverages(self, state):
        """Rows of A H^-1 (n, K) and the leverages l_i = a_i' H^-1 a_i at the mode."""
        A = state.A
        inverse = self.blocks.inverse(state.chol)
        if self.blocks.single_scalar:
            hinv = self.blocks.unit_variances(inverse)[self.re.cols[:, 0]]
            Ma = (hinv * A[:, 0])[:, None]
        else:
            Ma = self.blocks.row_products(inverse, A)
        return Ma, np.einsum("ik,ik->i", A, Ma)

    def gradient(self, state: ModeState) -> np.ndarray:
        """dL/dp at the mode.

        With g, w, w3 the first three eta-derivatives of the weighted log density
        (w = -d2, w3 = -d3), l_i = a_i' H^-1 a_i, r = H^-1 A'(l w3) and Ar = A r:
          dL/dbeta  = X'(g - l w3 / 2 + w Ar / 2)
          dL/dtheta_k = g'D_k b - [2 sum_i w_i a_i'H^-1 d_ik + (l w3)'D_k b + g'D_k r
                                   - (w Ar)'D_k b] / 2,   D_k = dA/dtheta_k
          dL/dgamma_a = X_a'(l_a - l w_a / 2 - Ar g_a / 2)
        where l_a, g_a, w_a are the derivatives of log f, g and w in aux parameter a.
        """
        m, lay = self.model, self.layout
        d = state.derivs
        if d is None or d.w3 is None:
            d = state.derivs = self._derivs(state.eta, state.aux, need_all=True)
        out = np.zeros(lay.size)
        if self.re.q == 0:
            out[lay.beta] = m.X.T @ d.g
            for name, design in m.aux_designs.items():
                out[lay.aux(name)] = design.T @ d.aux[name][0]
            return out
        A, b, cols = state.A, state.b, self.re.cols
        Ma, lev = self._leverages(state)
        r = self.blocks.solve(state.chol, self.re.transpose_times(A, lev * d.w3))
        Ar = self.re.times(A, r)
        score = d.g - 0.5 * lev * d.w3 + 0.5 * d.w * Ar
        out[lay.beta] = m.X.T @ score
        # every dL/dtheta_k above is sum_il (D_k)_il Q_il for this one row-wise Q
        Q = score[:, None] * b[cols] - d.w[:, None] * Ma - 0.5 * d.g[:, None] * r[cols]
        out[lay.theta] = self.re.theta_gradient(state.params[lay.theta], Q)
        for name, design in m.aux_designs.items():
            la, ga, wa = d.aux[name]
            out[lay.aux(name)] = design.T @ (la - 0.5 * lev * wa - 0.5 * Ar * ga)
        return out
