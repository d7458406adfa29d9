"""Outer optimization of the Laplace log-likelihood and the record it leaves.

L-BFGS-B on the exact gradient (with a jump for variances running to zero), then
Newton steps on a Hessian from forward differences of that gradient: the Newton
polish drives the gradient to round-off, and the same Hessian gives the standard
errors (as TMB's sdreport inverts the Hessian of the objective over all outer
parameters).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import statsmodels.api as sm

from .errors import ConvergenceWarning, SingularFitWarning
from .laplace import InnerModeError


@dataclass
class OptimizerRecord:
    """What the optimizer did, as plain data (so a failed fit can be explained)."""
    start: np.ndarray
    end: np.ndarray
    parameter_names: list
    n_evaluations: int
    n_gradients: int
    final_gradient: np.ndarray
    message: str
    converged: bool
    problems: list = field(default_factory=list)
    hessian_positive_definite: bool = True

    def __str__(self):
        lines = [f"converged: {self.converged}", f"message: {self.message}",
                 f"evaluations: {self.n_evaluations} (gradients {self.n_gradients})",
                 f"max |gradient|: {np.max(np.abs(self.final_gradient), initial=0):.3g}"]
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


GLM_START_ROWS = 5_000


def starting_values(model, glm_rows=None) -> np.ndarray:
    """beta from a GLM without the random effects (statsmodels), variance parameters from
    ``_theta_start``.

    Both are computed on ``glm_rows`` when given: the model's distinct rows with their
    weights give the same estimates.  On large data the GLM is fitted to a seeded random
    subset of the rows: starting values need to be close, not exact, and the full GLM
    would cost more than the mixed model's own iterations."""
    fam = model.family
    lay = model.layout
    data = model if glm_rows is None else glm_rows
    start = np.zeros(lay.size)
    mu = None
    if lay.n_beta:
        glm_family = fam.glm_family()
        rows = np.arange(data.nobs)
        if data.nobs > GLM_START_ROWS:
            rows = np.sort(np.random.default_rng(0).choice(data.nobs, GLM_START_ROWS, replace=False))
        if fam.has_trials:
            endog = np.column_stack([data.y[rows], data.trials[rows] - data.y[rows]])
        else:
            endog = data.y[rows]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.GLM(endog, data.X[rows], family=glm_family, offset=data.offset[rows],
                             var_weights=data.weights[rows]).fit()
            if np.all(np.isfinite(res.params)):
                start[lay.beta] = res.params
                mu = fam.link.inverse(model.X @ res.params + model.offset)
        except Exception:  # a failed GLM start is not fatal: start at zero
            pass
    if mu is None:
        mu = fam.link.inverse(model.X @ start[lay.beta] + model.offset)
    aux = fam.start_aux(model.y, mu, model.trials)
    for name, value in aux.items():
        if lay.aux_sizes[name]:
            start[lay.aux(name)][0] = value
    start[lay.theta] = _theta_start(data, start[lay.beta], aux)
    return start


def _theta_start(model, beta, aux):
    """Variance parameters to start from: SD 1, except a random intercept's SD, which is
    estimated by moments from the GLM fit.

    One Fisher-scoring step from b = 0 estimates each group's effect on the link scale,
    d_j = sum(g) / sum(w) over the group's rows (g the score, w the expected information
    at the GLM fit), with sampling variance 1 / sum(w); so sigma^2 is about
    mean(d_j^2 - 1 / sum(w)).  Starting near it spares the optimizer its longest
    stretch, the walk of log(sigma) from 0."""
    re = model.random_effects
    theta = re.theta_start()
    intercepts = [k for k, t in enumerate(re.terms)
                  if t.size == 1 and t.structure.name in ("us", "diag")
                  and np.all(t.design.X[:, 0] == 1.0)]
    if not intercepts:
        return theta
    fam = model.family
    eta = model.X @ beta + model.offset
    with np.errstate(all="ignore"):
        score = fam.eta_derivatives(model.y, eta, aux, model.trials, need_aux=False).g
        info = fam.fisher_weights(eta, aux, model.trials)
    score, info = score * model.weights, info * model.weights
    if not (np.all(np.isfinite(score)) and np.all(np.isfinite(info))):
        return theta
    for k in intercepts:
        term = re.terms[k]
        total_info = np.bincount(term.codes, weights=info, minlength=term.n_levels)
        total_score = np.bincount(term.codes, weights=score, minlength=term.n_levels)
        seen = total_info > 0
        if seen.sum() < 2:
            continue
        variance = np.mean(total_score[seen] ** 2 / total_info[seen] ** 2 - 1 / total_info[seen])
        sd = np.sqrt(variance) if variance > 0 else 0.1
        theta[re.theta_slices[k]] = np.log(np.clip(sd, 0.1, 5.0))
    return theta


def numeric_hessian(gradient, params, center_gradient, step=1e-5):
    """Forward differences of an exact gradient from its value at ``params``, symmetrized.

    One gradient per parameter: the gradient is exact to ~1e-10 (the inner mode is
    solved to round-off), so the truncation error h/2 |d3L| dominates and stays near
    1e-5 relative, well inside the agreement with TMB's own Hessian (R's optimHess:
    central differences with steps of 1e-3)."""
    k = params.size
    hess = np.empty((k, k))
    for j in range(k):
        h = step * max(1.0, abs(params[j]))
        up = params.copy()
        up[j] += h
        hess[:, j] = (gradient(up) - center_gradient) / h
    return 0.5 * (hess + hess.T)


def newton_polish(negative, gradient_only, p, value, grad, hessian, max_steps):
    """Newton steps with backtracking from the quasi-Newton end point.

    L-BFGS can stop on a flat stretch with the gradient not yet at zero (badly scaled
    problems: a residual variance fixed near zero, REML); Newton on the finite-difference
    Hessian of the exact gradient finishes the job.  Stops once the predicted gain in
    log-likelihood (half the Newton decrement) is below 1e-10, or where the quadratic
    model does not hold: a step that had to be shortened, or one of more than 10 units
    (a nearly singular Hessian: a variance or correlation running to its boundary).
    More Hessians would not bring the quadratic convergence they are paid for there."""
    for _ in range(max_steps):
        try:
            step = np.linalg.solve(hessian, grad)
        except np.linalg.LinAlgError:
            break
        decrement = float(grad @ step)
        if not np.isfinite(decrement) or decrement <= 0:
            break                                   # Hessian not positive definite here
        if np.max(np.abs(step)) > 10:
            break       # nearly singular Hessian: the step would send a parameter off to infinity
        if decrement < 2e-10 and np.max(np.abs(grad)) < 1e-3:
            break
        scale, moved = 1.0, False
        while scale > 1e-4:
            trial = p - scale * step
            trial_value, trial_grad = negative(trial)
            # Near the maximum of a sum over 10^6 rows the predicted gain (~1e-10) is below
            # the round-off of the value itself (~1e-16 |L|): there a step that keeps the
            # value to round-off and shrinks the gradient is progress too.
            within_round_off = trial_value <= value + 1e-13 * max(1.0, abs(value))
            if trial_value <= value + 1e-12 or (
                    within_round_off and np.max(np.abs(trial_grad)) < 0.5 * np.max(np.abs(grad))):
                p, value, grad, moved = trial, trial_value, trial_grad, True
                break
            scale /= 2
        if not moved or scale < 1.0:
            break
        if decrement > 1e-6:     # far from the end: the Hessian is worth recomputing
            hessian = numeric_hessian(gradient_only, p, grad)
    return p, value, grad, hessian


CRAWL_WINDOW = 10     # iterations over which a log SD is watched for crawling to zero
LARGE_GRADIENT = 1e-3  # max |dL/dp| above which an end point is not a maximum
FRESH_STARTS = 3      # L-BFGS runs started again from an end point that is not a maximum


def quasi_newton(negative, p0, names, max_iter):
    """L-BFGS-B on the exact gradient, with a shortcut for variances that go to zero.

    When a variance's maximum is at zero, its log SD crawls towards minus infinity: the
    gradient fades like SD^2, so every iteration gains less (hundreds of iterations on
    the swine us() model).  A log SD that keeps falling (by over 0.2 in CRAWL_WINDOW
    iterations, below -2.5) while the likelihood gains under 0.01 is sent 12 units lower
    in one jump, and the search restarts.  The jump is kept only if the likelihood rises
    all the way along it (checked 1, 3 and 12 units down): a maximum at a small positive
    SD is then not jumped over.

    L-BFGS can also declare convergence where the gradient is still large: its line
    search meets a point the objective cannot be evaluated at (a step from its curvature
    memory far outside the parameters' range) and no decrease is left.  Which path runs
    into such a point depends on round-off (the BLAS kernel, the thread count), so the
    search is started again from there with an empty memory, a few times at most."""
    options = {"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-9, "maxcor": 20}
    log_sds = [k for k, name in enumerate(names) if "log_sd(" in name]
    tried, p, fresh_starts = set(), p0, 0
    while True:
        history, crawling = [], []

        def watch(intermediate_result):
            history.append((intermediate_result.x.copy(), intermediate_result.fun))
            if len(history) <= CRAWL_WINDOW:
                return
            (x_then, f_then), (x_now, f_now) = history[-1 - CRAWL_WINDOW], history[-1]
            for k in log_sds:
                if (k not in tried and x_now[k] < -2.5 and x_now[k] < x_then[k] - 0.2
                        and f_then - f_now < 1e-2):
                    crawling.append(k)
                    raise StopIteration

        result = scipy.optimize.minimize(negative, p, jac=True, method="L-BFGS-B",
                                         callback=watch if log_sds else None, options=options)
        if not crawling:
            stopped_short = (result.status != 1        # 1: the iteration limit, as asked
                             and np.max(np.abs(result.jac), initial=0.0) > LARGE_GRADIENT)
            if not stopped_short or fresh_starts == FRESH_STARTS:
                return result
            fresh_starts += 1
            p = result.x.copy()
            continue
        k = crawling[0]
        tried.add(k)
        p = result.x.copy()
        value = result.fun
        for drop in (1.0, 3.0, 12.0):
            trial = p.copy()
            trial[k] -= drop
            trial_value = negative(trial)[0]
            if trial_value > value + 1e-12 * max(1.0, abs(value)):
                break
            value = trial_value
        else:
            p = trial


def optimize(model, objective, start=None, max_iter=1000, newton_steps=10, final_objective=None):
    """Maximize the objective's log-likelihood from ``start`` (default: ``starting_values``).

    Returns the optimizer's record, the state at the optimum, from ``final_objective``
    when given (the model on all its rows when ``objective`` works on its distinct rows),
    and the Hessian."""
    names = objective.parameter_names()
    if start is None:
        p0 = objective.start(starting_values(model, glm_rows=model.distinct_rows))
    else:
        p0 = np.asarray(start, float)
    if p0.size != len(names):
        from .errors import GLMMInputError
        raise GLMMInputError(f"start has {p0.size} values; the model has {len(names)} "
                             f"parameters: {', '.join(names)}")
    counts = {"grad": 0}
    last = {}

    def negative(p):
        # L-BFGS-B's last point is evaluated again below, and a Newton step may land on a
        # point already seen: reuse the value and gradient there
        if last and np.array_equal(last["p"], p):
            return last["result"]
        last["p"], last["result"] = p.copy(), evaluate(p)
        return last["result"]

    def evaluate(p):
        try:
            state = objective.mode(p)
        except (InnerModeError, FloatingPointError, np.linalg.LinAlgError):
            return np.inf, np.zeros_like(p)
        last["b"] = state.b
        counts["grad"] += 1
        g = objective.gradient(state)
        if not np.isfinite(state.value) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(p)
        return -state.value, -g

    def gradient_only(p):
        return negative(p)[1]

    with np.errstate(all="ignore"):
        result = quasi_newton(negative, p0, names, max_iter)
        p = result.x
        value, grad = negative(p)
        hessian = numeric_hessian(gradient_only, p, grad)
        p, value, grad, hessian = newton_polish(negative, gradient_only, p, value, grad, hessian,
                                                newton_steps)
    if final_objective is None:
        state = objective.final_state(p)
    else:       # the last inner mode, at a point near p, starts the one on every row
        state = final_objective.final_state(p, b_start=last.get("b"))
    problems = []
    message = str(result.message)
    max_grad = float(np.max(np.abs(grad), initial=0.0))
    if not np.isfinite(value):
        problems.append("the log-likelihood is not finite at the end point")
    if max_grad > LARGE_GRADIENT:
        worst = names[int(np.argmax(np.abs(grad)))]
        problems.append(f"large gradient at the end: max |dL/dp| = {max_grad:.3g} (at {worst})")
    if not state.inner_converged:
        problems.append("the inner mode of the random effects did not converge")
    pd_hessian = bool(np.all(np.isfinite(hessian)))
    if pd_hessian:
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            pd_hessian = False
    if pd_hessian:
        eig = np.linalg.eigvalsh(hessian)
        if eig[0] < 1e-10 * eig[-1]:
            weakest = int(np.argmax(np.abs(np.linalg.eigh(hessian)[1][:, 0])))
            if "log_sd" in names[weakest] and p[weakest] < np.log(1e-4):
                problems.append(f"singular fit: {names[weakest]} runs to zero (SD "
                                f"{np.exp(p[weakest]):.2g}); the model is simpler than written, "
                                "consider dropping that random term")
            else:
                problems.append(f"near-singular Hessian (condition number "
                                f"{eig[-1] / eig[0]:.2g}): {names[weakest]} is not identified by "
                                "the data (an estimate running off to a boundary, e.g. a "
                                "zero-inflation probability of 0)")
    if not pd_hessian:
        problems.append("non-positive-definite Hessian: the standard errors are not reliable "
                        "(often a variance estimated at zero or a parameter not identified)")
    singular = _singular_terms(model, objective, p)
    for s in singular:
        warnings.warn(f"singular fit: the {s} is estimated at (nearly) zero", SingularFitWarning,
                      stacklevel=3)
    record = OptimizerRecord(p0, p, names, objective.n_evaluations, counts["grad"], -grad,
                             message, not problems, problems, pd_hessian)
    if problems:
        warnings.warn("model fit did not converge: " + "; ".join(problems), ConvergenceWarning,
                      stacklevel=3)
    return record, state, hessian


def _singular_terms(model, objective, params):
    out = []
    theta = params[objective.layout.theta]
    for term, sl in zip(model.random_effects.terms, model.random_effects.theta_slices):
        report = term.structure.report(theta[sl])
        for name, sd in zip(term.term_names, np.atleast_1d(report["sd"])):
            if sd < 1e-4:
                out.append(f"standard deviation of {name} in ({term.spec.lhs} | {term.group_name})")
    return out
