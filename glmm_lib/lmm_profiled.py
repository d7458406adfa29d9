"""Gaussian (identity-link) mixed models on their cross-products, the fixed effects and the
residual variance profiled out: lme4's and MixedModels.jl's formulation (Bates, Maechler,
Bolker and Walker 2015, J. Stat. Softw. 67(1), section 3).

With Lambda relative to sigma (Var(u) = sigma^2 Lambda Lambda'), a theta gives

    L L' = Lambda' Z'WZ Lambda + I                  (block diagonal, ``lmm_crossprod``;
                                                     crossed blocks ``lmm_crossed``)
    R_ZX = L^-1 Lambda' Z'WX,   c_u = L^-1 Lambda' Z'Wy
    R_X R_X' = X'WX - R_ZX' R_ZX,  c_X = R_X^-1 (X'Wy - R_ZX' c_u),  beta = R_X^-T c_X
    r^2 = y'Wy - |c_u|^2 - |c_X|^2                   (the penalized residual sum of squares)

and, N the sum of the prior weights (glmm_lib multiplies each row's log density by its
weight, as glmmTMB), the profiled log-likelihoods

    ML:   -N/2 (1 + log(2 pi r^2 / N)) - log det L,                       sigma^2 = r^2 / N
    REML: -(N-p)/2 (1 + log(2 pi r^2 / (N-p))) - log det L - log det R_X, sigma^2 = r^2/(N-p).

One evaluation costs O(components x m^3), whatever the number of rows.  Their gradient in
the entries of Lambda is exact (envelope theorem for beta, sigma and u): with u the modes,
v = Z'W(y - X beta) - Z'WZ Lambda u and E = H^-1 Lambda' Z'WX,

    dL/dLambda = v u' / sigma^2 - Z'WZ Lambda H^-1  [+ (Z'WX - Z'WZ Lambda E) S^-1 E'  (REML)],

summed over each term's levels and chained through the structure's d Lambda / d theta.

The optimizer moves theta alone (``optimize``), on one crossed component of scalar terms
from moment estimates and on a curvature scale (``lmm_crossed_start``).  The standard
errors stay glmmTMB's: the same quantities give the likelihood and its exact gradient at
any full parameter vector (beta, theta, log sigma^2; without beta under REML), so the
Hessian over all parameters is taken by differences of that gradient as for every other
objective, except that under ML its beta block is exact (``_hessian``); under REML the
fixed effects' covariance reads d beta / d p in closed form (``lmm_reml_beta``).  The
final state needs no pass over the rows until the results read eta or the factors of H
(``final_state``).  A refit with a new response recomputes only the response's products
(``with_response``).

Where this path does not apply (``applies``), the general objectives stay:
  - ``dispformula = ~0`` (sigma^2 fixed near zero, the covariance structure carrying all the
    within-group variation, the ``ar1``/``cs``/``us`` residual structures): the normal
    equations square the condition number of [Z Lambda / sigma; I], about 1e15 there, so the
    likelihood is computed from V instead (``marginal.py``);
  - a dispersion model (``dispformula = ~x``): sigma^2 varies by row and is not profiled out
    (``laplace.py``, ``reml.py``).
``ar1``, ``cs`` and ``us`` residual structures with a nugget (sigma^2 estimated) take this
path: they are ordinary random terms.
"""
from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field

import numpy as np

from . import stacked
from .blocks import ELIMINATE_FROM
from .errors import GLMMInputError
from .laplace import InnerModeError, LaplaceObjective, ModeState
from .lmm_crossed_start import SCALED_GTOL, crossed_moments, scale_at, start_and_scale
from .lmm_crossprod import CrossProducts
from .lmm_reml_beta import beta_jacobian
from .optimizer import OptSummary, finish, forward_columns, numeric_hessian, quasi_newton
from .parameters import Kind, ParameterLayout, ParameterTable
from .reml import reml_beta_covariance


def applies(model) -> bool:
    """Gaussian identity link, random effects, one residual variance, and covariance
    structures whose factor scales with its SDs (so Lambda can be taken relative to sigma)."""
    if not model.family.is_normal_linear or model.random_effects.q == 0:
        return False
    designs = model.aux_designs
    if len(designs) != 1 or not all(d.shape[1] == 1 and np.all(d == 1.0) for d in designs.values()):
        return False
    if not _blocks_handled(model.random_effects):
        return False
    return all(_scales_with_sds(model, k) for k in range(len(model.random_effects.terms)))


def _blocks_handled(re) -> bool:
    """Every connected block of Z'Z is small or crossed (``lmm_crossed``), and a crossed
    one has terms whose factors are invertible (its gradient divides by them)."""
    if len(re.terms) == 1:
        return re.terms[0].size < ELIMINATE_FROM
    comp_of_col, _ = CrossProducts._components(re)
    crossed = CrossProducts.crossed_components(re, comp_of_col)
    if crossed is None:
        return False
    return not crossed or all(np.linalg.cond(t.structure.factor(t.structure.start())) < 1e8
                              for t in re.terms)


def _scales_with_sds(model, k):
    """factor(theta + c on every log SD) == exp(c) factor(theta): checked, not assumed."""
    re = model.random_effects
    table = model.parameters[model.layout.theta][re.theta_slices[k]]
    log_sd = np.array([p.kind is Kind.LOG_SD for p in table], float)
    theta = re.terms[k].structure.start() + 0.3
    factor = re.terms[k].structure.factor
    return bool(np.allclose(factor(theta + 0.7 * log_sd), np.exp(0.7) * factor(theta),
                            rtol=1e-12, atol=0.0))


# The cross-products of each model alive: a model that ``gl.glmm`` reuses (``model_cache``)
# or that is fitted again is fitted without a pass over its rows.  A model with another
# response is another object (``refit.with_response`` copies it), so the model is the key.
_crossproducts = weakref.WeakKeyDictionary()


def _model_crossproducts(model) -> CrossProducts:
    cross = _crossproducts.get(model)
    if cross is None:
        cross = _crossproducts[model] = CrossProducts(model.random_effects, model.X,
                                                      model.y - model.offset, model.weights)
    return cross


# A residual SD below 1/100 of a random-effect SD is taken as running to zero
# (``residual_vanishing``): its variance is then under 1e-4 of that component's.
RESIDUAL_NEGLIGIBLE = 100.0


@dataclass
class Factorization:
    """What one theta (Lambda relative to sigma) gives, before beta and sigma are chosen."""
    factors: list         # each term's relative factor (s x s)
    blocks: list          # per bucket: (Lambda, Z'WZ Lambda, L^-1, L^-1 Lambda' Z'W[X y])
    logdet_L: float
    schur: np.ndarray     # [X y]'W[X y] - R'R: the penalized sums of squares, (p+1) x (p+1)
    R: np.ndarray         # its Cholesky factor [[R_X, 0], [c_X', r]]
    crossed: list = field(default_factory=list)   # a ``CrossedPart`` per crossed component


class ProfiledGaussianObjective(LaplaceObjective):
    def __init__(self, model, crossproducts=None):
        # not LaplaceObjective.__init__: its block structure of H and constant term cost a
        # pass over the rows, which this objective never needs to make
        self.model, self.family, self.re = model, model.family, model.random_effects
        self.parameters, self.layout = model.parameters, model.parameters.layout
        self._constant_aux = set(model.aux_designs)     # one residual variance (``applies``)
        self._last_state = None
        self.n_evaluations = 0
        self.REML = model.REML
        if self.REML:
            self.parameters = model.parameters.without_fixed_effects()
            self.layout = self.parameters.layout
        self.n_beta = model.X.shape[1]
        self.sigma_slot = self.layout.aux(next(iter(model.aux_designs)))
        self.cross = crossproducts or _model_crossproducts(model)
        lay = model.layout
        self.theta_table = ParameterTable(tuple(model.parameters[lay.theta]),
                                          ParameterLayout(0, lay.n_theta, {}))
        self.log_sd = np.array([p.kind is Kind.LOG_SD for p in self.theta_table], float)
        self.residual_df = self.cross.total_weight - (self.n_beta if self.REML else 0)
        self._last_profiled = self._last_factorization = (None, None)     # (key, result, ...)

    def with_response(self, y) -> ProfiledGaussianObjective:
        """The same model with response ``y`` (same rows, offset included): only the
        products with y are formed again, O(rows x coefficients per row)."""
        y = np.asarray(y, float)
        if y.shape != (self.model.nobs,):
            raise GLMMInputError(f"a new response needs {self.model.nobs} values, "
                                 f"not an array of shape {y.shape}")
        return ProfiledGaussianObjective(self.model,
                                         self.cross.with_response(y - self.model.offset))

    def start(self, full_start):
        return full_start[self.n_beta:] if self.REML else full_start

    # ---- the algebra of one theta ------------------------------------------
    def factorize(self, factors) -> Factorization:
        cross = self.cross
        gram, logdet, blocks = np.zeros_like(cross.XyWXy), 0.0, []
        for bucket in cross.buckets:
            lam = bucket.factor_blocks(factors)
            m_lam = stacked.matmul(bucket.ZtWZ, lam)
            H = stacked.matmul(stacked.transpose(lam), m_lam) + np.eye(bucket.size)
            try:
                logdet_block, l_inv = stacked.cholesky_inverse(H)
            except np.linalg.LinAlgError:
                raise InnerModeError("Lambda'Z'WZ Lambda + I is not positive definite") from None
            R = stacked.matmul(l_inv, stacked.matmul(stacked.transpose(lam), bucket.ZtWXy))
            flat = R.reshape(-1, R.shape[-1])
            gram += flat.T @ flat
            logdet += logdet_block
            blocks.append((lam, m_lam, l_inv, R))
        crossed = [component.factorize(factors) for component in cross.crossed]
        for part in crossed:
            gram += part.gram
            logdet += part.logdet_L
        schur = cross.XyWXy - gram
        try:
            R = np.linalg.cholesky(schur)
        except np.linalg.LinAlgError:
            raise InnerModeError("X'V^-1X is not positive definite") from None
        return Factorization(factors, blocks, logdet, schur, R, crossed)

    def gls_beta(self, fac):
        p = self.n_beta
        return np.linalg.solve(fac.R[:p, :p].T, fac.R[p, :p])

    def logdet_R_X(self, fac):
        return float(np.sum(np.log(np.diag(fac.R)[:self.n_beta])))

    @staticmethod
    def modes(fac, beta):
        """The relative modes u (per bucket, then per crossed component) given beta:
        L^-T L^-1 Lambda'Z'W(y - X beta)."""
        gamma = np.append(-beta, 1.0)
        return ([np.einsum("cjm,cj->cm", l_inv, R @ gamma) for _, _, l_inv, R in fac.blocks]
                + [part.modes(gamma) for part in fac.crossed])

    def _relative_gradient(self, fac, beta, modes, sigma2):
        """dL/dLambda per term (Lambda relative), and what the sigma^2 derivative reuses:
        sum u'u, tr H^-1 and (REML) <Lambda, F> summed over the terms."""
        cross, p = self.cross, self.n_beta
        grads = [np.zeros((s, s)) for s in cross.sizes]
        gamma = np.append(-beta, 1.0)
        uu = trace = lam_f = 0.0
        S_inv = np.linalg.inv(fac.schur[:p, :p]) if self.REML else None
        for bucket, (lam, m_lam, l_inv, R), u in zip(cross.buckets, fac.blocks, modes):
            h_inv = stacked.matmul(stacked.transpose(l_inv), l_inv)
            v = bucket.ZtWXy @ gamma - np.einsum("cij,cj->ci", m_lam, u)
            G = v[:, :, None] * u[:, None, :] / sigma2 - stacked.matmul(m_lam, h_inv)
            uu += float(np.sum(u * u))
            trace += float(np.sum(l_inv * l_inv))
            if self.REML:
                E = stacked.matmul(stacked.transpose(l_inv), R[..., :p])
                F = stacked.matmul(stacked.matmul(bucket.ZtWXy[..., :p] - stacked.matmul(m_lam, E),
                                                  S_inv), stacked.transpose(E))
                G = G + F
                for k, part in enumerate(bucket.term_sums(F, cross.n_terms)):
                    if part is not None:
                        lam_f += float(np.sum(fac.factors[k] * part))
            for k, part in enumerate(bucket.term_sums(G, cross.n_terms)):
                if part is not None:
                    grads[k] += part
        for part, u in zip(fac.crossed, modes[len(cross.buckets):]):
            sums, uu_part, trace_part, lam_f_part = part.gradient_sums(u, sigma2, p, S_inv)
            for k, g in enumerate(sums):
                if g is not None:
                    grads[k] += g
            uu, trace, lam_f = uu + uu_part, trace + trace_part, lam_f + lam_f_part
        return grads, uu, trace, lam_f

    def _theta_gradient(self, theta, grads, scale=1.0):
        out = np.empty(self.re.n_theta)
        for term, sl, g in zip(self.re.terms, self.re.theta_slices, grads):
            out[sl] = np.einsum("kij,ij->k", np.asarray(term.structure.jacobian(theta[sl])),
                                g) / scale
        return out

    # ---- the profiled criterion (theta alone) -------------------------------
    def profiled(self, theta):
        """The profiled log-likelihood at relative theta, its gradient, beta and sigma^2."""
        key = theta.tobytes()       # the start and the optimum are asked for again
        if self._last_profiled[0] == key:
            return self._last_profiled[1]
        self.n_evaluations += 1
        fac = self.factorize(self.re.factors(theta))
        beta = self.gls_beta(fac)
        rss = fac.R[-1, -1] ** 2
        df = self.residual_df
        sigma2 = rss / df
        value = -0.5 * df * (1 + np.log(2 * np.pi * sigma2)) - fac.logdet_L
        if self.REML:
            value -= self.logdet_R_X(fac)
        grads = self._relative_gradient(fac, beta, self.modes(fac, beta), sigma2)[0]
        self._last_profiled = (key, (value, self._theta_gradient(theta, grads), beta, sigma2),
                               fac)
        return self._last_profiled[1]

    def full_parameters(self, theta, beta, sigma2):
        """The optimizer's p (absolute theta, log sigma^2) for a relative theta."""
        p = np.empty(self.layout.size)
        p[self.layout.beta] = beta if not self.REML else beta[:0]
        p[self.layout.theta] = theta + 0.5 * np.log(sigma2) * self.log_sd
        p[self.sigma_slot] = np.log(sigma2)
        return p

    # ---- the likelihood at any full parameter vector -----------------------
    def mode(self, params, b_start=None, max_iter=None, tol=None) -> ModeState:
        """L(p) with the modes (exact: the inner problem is linear).  eta and A are left out
        (they cost a pass over the rows): ``final_state`` adds them."""
        self.n_evaluations += 1
        lay = self.layout
        theta = params[lay.theta]
        sigma2 = float(np.exp(params[self.sigma_slot][0]))
        sigma = np.sqrt(sigma2)
        # a step in beta alone (the Hessian's differences) keeps Lambda / sigma: reuse its factors
        key = self._factorization_key(params)
        if self._last_factorization[0] != key:
            self._last_factorization = (key, self.factorize([f / sigma for f in
                                                              self.re.factors(theta)]))
        fac = self._last_factorization[1]
        beta = self.gls_beta(fac) if self.REML else params[lay.beta]
        gamma = np.append(-beta, 1.0)
        rss = float(gamma @ fac.schur @ gamma)
        modes = self.modes(fac, beta)
        N = self.cross.total_weight
        value = -0.5 * N * np.log(2 * np.pi * sigma2) - 0.5 * rss / sigma2 - fac.logdet_L
        if self.REML:
            value += (-self.logdet_R_X(fac) + 0.5 * self.n_beta * np.log(2 * np.pi * sigma2))
        b = np.empty(self.re.q)
        for bucket, u in zip(self.cross.buckets, modes):
            b[bucket.global_cols] = u / sigma                    # spherical b = u / sigma
        for component, u in zip(self.cross.crossed, modes[len(self.cross.buckets):]):
            b[component.columns] = u / sigma
        state = ModeState(params, b, None, self.aux_values(params), None, None, float(value),
                          True, 1)
        state.profiled = (fac, beta, modes, sigma2, rss)
        return state

    def _factorization_key(self, params):
        return params[self.layout.theta].tobytes() + params[self.sigma_slot].tobytes()

    def gradient(self, state) -> np.ndarray:
        lay, cross = self.layout, self.cross
        fac, beta, modes, sigma2, rss = state.profiled
        grads, uu, trace, lam_f = self._relative_gradient(fac, beta, modes, sigma2)
        out = np.zeros(lay.size)
        out[lay.theta] = self._theta_gradient(state.params[lay.theta], grads,
                                              scale=np.sqrt(sigma2))
        d_log_sigma2 = (-0.5 * cross.total_weight + 0.5 * (rss - uu) / sigma2
                        + 0.5 * (cross.q - trace))
        if self.REML:
            d_log_sigma2 += 0.5 * self.n_beta - 0.5 * lam_f
        else:       # d(-rss / 2 sigma^2) / d beta, rss = gamma' schur gamma, gamma = (-beta, 1)
            out[lay.beta] = fac.schur[:self.n_beta] @ np.append(-beta, 1.0) / sigma2
        out[self.sigma_slot] = d_log_sigma2
        return out

    def final_state(self, params, b_start=None) -> ModeState:
        """The state at the optimum; what needs a pass over the rows (eta, A = Z Lambda and
        the factors of H as the results read them) is left to ``row_pass``, made when read."""
        last = self._last_state
        state = (last if last is not None and np.array_equal(last.params, params)
                 else self.mode(params))
        state.aux = self.aux_values(params, per_row=True)
        state.row_pass = functools.partial(self._row_pass, params, state.profiled[1], state.b,
                                           state.aux)
        return state

    def _row_pass(self, params, beta, b, aux):
        m, re = self.model, self.re
        A = re.values(params[self.layout.theta])
        eta = m.X @ beta + np.sum(A * b[re.cols], axis=1) + m.offset
        w = m.weights / np.exp(aux[next(iter(m.aux_designs))])
        return eta, A, re.blocks.cholesky(re.blocks.assemble(A, w))

    def fixed_effects(self, state, cov):
        if not self.REML:
            return super().fixed_effects(state, cov)
        fac, beta, _, sigma2, _ = state.profiled
        beta_cov = sigma2 * np.linalg.inv(fac.schur[:self.n_beta, :self.n_beta])
        return beta, reml_beta_covariance(functools.partial(beta_jacobian, self, state),
                                          beta_cov, cov)

    # ---- the fit -----------------------------------------------------------
    @functools.cached_property
    def _crossed_moments(self):
        """``lmm_crossed_start.CrossedMoments`` where they apply, else None."""
        return crossed_moments(self.cross, self.re, self.theta_table)

    def theta_start(self, start=None):
        """Relative theta to start from: on one crossed component of scalar terms the
        moment estimates (``lmm_crossed_start``), else each term's own start (SDs equal to
        sigma); or a full parameter vector given by the user, made relative to its sigma."""
        if start is None:
            moments = self._crossed_moments
            found = moments and start_and_scale(moments, self.re, self.cross.XyWXy)
            return found[0] if found else self.re.theta_start()
        return self._relative_theta(np.asarray(start, float))

    def _relative_theta(self, p):
        """theta relative to sigma (the profiled criterion's) of a full parameter vector."""
        return p[self.layout.theta] - 0.5 * p[self.sigma_slot][0] * self.log_sd

    def residual_vanishing(self, p) -> bool:
        """A random-effect SD over RESIDUAL_NEGLIGIBLE times the residual SD at ``p``: the
        residual variance running to zero, where the profiled criterion is flat to 1e-6
        and a search that stops there stops where the BLAS kernel's rounding sends it."""
        relative_log_sds = self._relative_theta(p)[self.log_sd == 1.0]
        return bool(relative_log_sds.size
                    and relative_log_sds.max() > np.log(RESIDUAL_NEGLIGIBLE))

    def optimize_theta(self, theta0, max_iter=1000, seen=None):
        """The maximum of the profiled log-likelihood over relative theta.  ``seen`` keeps
        each evaluation by theta: (value, gradient, beta, sigma^2), None where it failed."""
        seen = {} if seen is None else seen

        def negative(theta):
            key = theta.tobytes()
            if key not in seen:
                try:
                    seen[key] = self.profiled(theta)
                except (InnerModeError, np.linalg.LinAlgError, FloatingPointError):
                    seen[key] = None
            out = seen[key]
            if out is None or not np.isfinite(out[0]) or not np.all(np.isfinite(out[1])):
                return np.inf, np.zeros_like(theta)
            return -out[0], -out[1]

        moments = self._crossed_moments
        with np.errstate(all="ignore"):
            if moments is None:
                result = quasi_newton(negative, theta0, self.theta_table, max_iter)
            else:
                result = quasi_newton(negative, theta0, self.theta_table, max_iter,
                                      scale=scale_at(moments, self.re, theta0),
                                      gtol=SCALED_GTOL)
        # profiled() keeps its last evaluation: usually the optimum, then not evaluated again
        _, _, beta, sigma2 = self.profiled(result.x)
        p = self.full_parameters(result.x, beta, sigma2)
        # the likelihood at p (where the Newton polish starts) has the same Lambda / sigma
        self._last_factorization = (self._factorization_key(p), self._last_profiled[2])
        return p, result

    def refit(self, Y, theta0=None):
        """Maximum-likelihood (or REML) estimates for each column of ``Y`` (rows, k), the
        model otherwise unchanged: what a parametric bootstrap or a power analysis needs.
        Each refit forms only its response's products and optimizes theta alone.
        Returns (k, parameters) estimates in the layout of p and the k log-likelihoods."""
        from .fitting import one_blas_thread      # fitting imports this module
        Y = np.asarray(Y, float)
        Y = Y[:, None] if Y.ndim == 1 else Y
        theta0 = self.re.theta_start() if theta0 is None else theta0
        estimates = np.empty((Y.shape[1], self.layout.size))
        logliks = np.empty(Y.shape[1])
        with one_blas_thread():
            for k in range(Y.shape[1]):
                objective = self.with_response(Y[:, k])
                p, result = objective.optimize_theta(theta0)
                estimates[k], logliks[k] = p, -result.fun
        return estimates, logliks

    def optimize(self, start=None, max_iter=1000, newton_steps=10):
        """Stages 3 and 4 for this objective: theta alone by L-BFGS-B on the profiled
        criterion, then, on the full parameter vector, the Newton polish and the Hessian the
        standard errors come from (``optimizer``).  Returns (OptSummary, Hessian of -L)."""
        theta0 = self.theta_start(start)
        seen = {}
        p, result = self.optimize_theta(theta0, max_iter, seen)
        _, _, beta0, sigma2_0 = seen.get(theta0.tobytes()) or self.profiled(theta0)
        p_start = self.full_parameters(theta0, beta0, sigma2_0)
        states, cache = {}, {}

        def negative(params):
            key = params.tobytes()
            if key not in cache:
                try:
                    state = states[key] = self.mode(params)
                    cache[key] = (-state.value, -self.gradient(state))
                except (InnerModeError, np.linalg.LinAlgError, FloatingPointError):
                    cache[key] = (np.inf, np.zeros_like(params))
            return cache[key]

        def gradient_only(params):
            return negative(params)[1]

        def hessian_at(params, grad):
            state = states.get(params.tobytes())
            if state is None:       # L could not be evaluated there: no exact beta block
                return numeric_hessian(gradient_only, params, grad)
            return self._hessian(gradient_only, params, grad, state)

        table = self.parameters
        result.x = p        # the profiled optimum on the full parameter vector
        with np.errstate(all="ignore"):
            p, value, grad, hessian, at_limit, result = finish(
                negative, gradient_only, result, table, max_iter, newton_steps, hessian_at)
        self._last_state = states.get(p.tobytes())       # the final state starts from it
        summary = OptSummary(p_start, p, table.names, table.bounds, -value, -grad,
                             self.n_evaluations, self.n_evaluations, str(result.message),
                             at_limit)
        return summary, hessian

    def _hessian(self, gradient, params, grad, state):
        """The Hessian of -L at ``params`` (``state`` there), by forward differences of the
        exact gradient in the variance parameters: along each theta, and, in place of log
        sigma^2 alone (which moves every relative SD), along log sigma^2 with each log SD
        by half as much, which keeps Lambda / sigma and so reuses the factorization at
        ``params``: one factorization fewer; the log sigma^2 column follows by linearity.
        Under ML, beta enters L quadratically: its block is exact, X'V^-1X = S_XX / sigma^2
        (S the penalized sums of squares), and its cross block is read from the other
        parameters' columns."""
        lay = self.layout
        index = np.arange(lay.size)
        beta, thetas = index[lay.beta], index[lay.theta]
        log_sigma2 = int(index[self.sigma_slot][0])
        others = np.setdiff1d(index, np.append(beta, log_sigma2))      # theta first
        fac, _, _, sigma2, _ = state.profiled
        hess = np.empty((lay.size, lay.size))
        hess[:, others] = forward_columns(gradient, params, grad, others)
        direction = np.zeros(lay.size)
        direction[log_sigma2], direction[thetas] = 1.0, 0.5 * self.log_sd
        up = params + 1e-5 * max(1.0, abs(params[log_sigma2])) * direction
        self._last_factorization = (self._factorization_key(up), fac)
        along = (gradient(up) - grad) / (up[log_sigma2] - params[log_sigma2])
        hess[:, log_sigma2] = along - hess[:, thetas] @ direction[thetas]
        others = np.append(others, log_sigma2)
        if beta.size:
            hess[np.ix_(beta, beta)] = fac.schur[:self.n_beta, :self.n_beta] / sigma2
            hess[np.ix_(others, beta)] = hess[np.ix_(beta, others)].T
        block = hess[np.ix_(others, others)]
        hess[np.ix_(others, others)] = 0.5 * (block + block.T)
        return hess
