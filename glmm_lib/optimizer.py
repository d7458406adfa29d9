"""Outer optimization of the Laplace log-likelihood (the fourth stage of a fit) and
the summary it leaves.

L-BFGS-B on the exact gradient (with a jump for variances running to zero), then
Newton steps on a Hessian from forward differences of that gradient: the Newton
polish drives the gradient to round-off, and the same Hessian gives the standard
errors (as TMB's sdreport inverts the Hessian of the objective over all outer
parameters).  Whether the end point is a maximum is judged apart (``convergence``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from . import boundary
from .differences import central_jacobian
from .laplace import InnerModeError
from .parameters import Kind, ParameterTable


@dataclass(frozen=True)
class OptSummary:
    """What the optimizer did, as plain data (so a fit can be explained or repeated)."""
    start: np.ndarray
    end: np.ndarray
    parameter_names: list
    bounds: list                    # (lower, upper) of each parameter on the optimizer's scale
    final_value: float              # the log-likelihood at ``end``
    final_gradient: np.ndarray      # dL/dp at ``end``
    n_evaluations: int              # inner modes solved
    n_gradients: int
    message: str                    # L-BFGS-B's
    at_limit: tuple = ()            # positions of variance parameters at a limit (boundary)

    def __str__(self):
        return "\n".join([f"message: {self.message}",
                          f"evaluations: {self.n_evaluations} (gradients {self.n_gradients})",
                          f"log-likelihood: {self.final_value:.6f}",
                          f"max |gradient|: {np.max(np.abs(self.final_gradient), initial=0):.3g}"])


def numeric_hessian(gradient, params, center_gradient, step=1e-5):
    """Forward differences of an exact gradient from its value at ``params``, symmetrized.

    One gradient per parameter: the gradient is exact to ~1e-10 (the inner mode is
    solved to round-off), so the truncation error h/2 |d3L| dominates and stays near
    1e-5 relative, well inside the agreement with TMB's own Hessian (R's optimHess:
    central differences with steps of 1e-3)."""
    hess = forward_columns(gradient, params, center_gradient, range(params.size), step)
    return 0.5 * (hess + hess.T)


def forward_columns(gradient, params, center_gradient, columns, step=1e-5):
    """The Hessian's ``columns`` (positions in ``params``) by forward differences, unsymmetrized."""
    out = np.empty((params.size, len(columns)))
    for i, j in enumerate(columns):
        h = step * max(1.0, abs(params[j]))
        up = params.copy()
        up[j] += h
        out[:, i] = (gradient(up) - center_gradient) / h
    return out


def central_hessian(gradient, params, step=1e-4):
    """Central differences of an exact gradient, symmetrized: two gradients per parameter.

    For a point on the flat stretch of a boundary (``boundary.retreat``), where a residual
    variance near zero weighs the rows by up to e^20 and the gradient carries that much
    more rounding: forward differences with steps of 1e-5 multiply it by 1e5, enough to
    break the symmetry of a balanced design by 1e-4, differently under each BLAS kernel.
    A step ten times larger divides the rounding by ten, and central differences keep
    the truncation error at h^2 (1e-8 relative)."""
    hess = central_jacobian(gradient, params, step)
    return 0.5 * (hess + hess.T)


def newton_polish(negative, hessian_at, p, value, grad, hessian, max_steps):
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
            hessian = hessian_at(p, grad)
    return p, value, grad, hessian


# A gradient this large after the Newton polish means the search stalled on a badly
# scaled problem (``rescaled``), not that it reached a maximum.
STALLED_GRADIENT = 1e-3
FRESH_STARTS = 3      # L-BFGS runs started again from an end point that is not a maximum
FTOL = 1e-12          # L-BFGS-B stops where an iteration reduces -L by less than FTOL |L|

CRAWL_WINDOW = 10     # iterations over which a log SD is watched for crawling to zero


def quasi_newton(negative, p0, parameters: ParameterTable, max_iter, scale=None, gtol=1e-9):
    """L-BFGS-B on the exact gradient, with a shortcut for variances that go to zero.

    When a variance's maximum is at zero, its log SD crawls towards minus infinity: the
    gradient fades like SD^2, so every iteration gains less (hundreds of iterations on
    the swine us() model).  A log SD that keeps falling (by over 0.2 in CRAWL_WINDOW
    iterations, below -2.5) while the likelihood gains under 0.01 is sent 12 units lower
    in one jump, and the search restarts.  The jump is kept only if the likelihood rises
    all the way along it (checked 1, 3 and 12 units down): a maximum at a small positive
    SD is then not jumped over.  A dispersion running to zero (an NB1 or gaussian model
    whose data show no variation beyond the mean's) crawls the same way and takes the
    same shortcut.

    L-BFGS can also declare convergence where the gradient is still large: its line
    search meets a point the objective cannot be evaluated at (a step from its curvature
    memory far outside the parameters' range) and no decrease is left.  Which path runs
    into such a point depends on round-off (the BLAS kernel, the thread count), so the
    search is started again from there with an empty memory, FRESH_STARTS times at most.
    Not with ``scale``, though, where the gain a fresh start could find is below the
    relative reduction L-BFGS-B itself stops at (ftol |L|): the search moves p / scale, on
    which the curvature is about one, so the gain left is about |gradient|^2 / 2 there.
    On 10^6 rows a gradient of 1e-3 is round-off in L, and three fresh starts doubled
    the fit's evaluations without moving it (the Newton polish of ``finish`` ends it).

    With ``scale``, L-BFGS-B moves p / scale (see ``rescaled``); the result is on p's scale.
    Its first step has length one in the variables it moves, a small part of the Newton
    step |gradient| long that the unit curvature there predicts (VerbAgg, binary crossed
    designs: 1/40), and its line search took three evaluations to reach that; so each
    search moves p / (scale * |gradient at its start|), longer by that factor (rounded to
    a power of two, so that p / search * search is p again) and otherwise the same to
    L-BFGS-B, which is invariant to a common scale of its variables.
    ``gtol`` bounds the projected gradient in p / scale at the end (whatever the stretch)."""
    curvature_scaled = scale is not None
    scale = np.ones_like(p0) if scale is None else scale
    search = scale          # the scale of the current search: ``scale`` stretched

    def scaled(q):
        value, grad = negative(q * search)
        return value, grad * search

    options = {"maxiter": max_iter, "ftol": FTOL, "maxcor": 20}
    # log-scale parameters whose limit of zero is at minus infinity on the optimizer's scale
    log_sds = [k for k in boundary.candidates(parameters)
               if parameters[k].kind in (Kind.LOG_SD, Kind.DISPERSION)]
    tried, p, fresh_starts = set(), p0, 0
    while True:
        history, crawling = [], []
        stretch = 1.0
        if curvature_scaled:
            start_value, start_gradient = negative(p)
            if np.isfinite(start_value):
                stretch = 2.0 ** max(0, round(np.log2(max(1.0, float(
                    np.linalg.norm(start_gradient * scale))))))
        search = scale * stretch
        options["gtol"] = gtol * stretch        # the gradient in p / search is stretch x

        def watch(intermediate_result):
            history.append((intermediate_result.x * search, intermediate_result.fun))
            if len(history) <= CRAWL_WINDOW:
                return
            (x_then, f_then), (x_now, f_now) = history[-1 - CRAWL_WINDOW], history[-1]
            for k in log_sds:
                if (k not in tried and x_now[k] < -2.5 and x_now[k] < x_then[k] - 0.2
                        and f_then - f_now < 1e-2):
                    crawling.append(k)
                    raise StopIteration

        result = scipy.optimize.minimize(scaled, p / search, jac=True, method="L-BFGS-B",
                                         bounds=[(lo / s, hi / s) for (lo, hi), s
                                                 in zip(parameters.bounds, search)],
                                         callback=watch if log_sds else None, options=options)
        result.x = result.x * search
        if not crawling:
            stopped_short = (result.status != 1        # 1: the iteration limit, as asked
                             and np.max(np.abs(result.jac / search), initial=0.0)
                             > STALLED_GRADIENT)
            gain_left = 0.5 * np.sum((result.jac / stretch) ** 2)
            if curvature_scaled and gain_left <= FTOL * max(1.0, abs(result.fun)):
                stopped_short = False
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


def rescaled(hessian):
    """Scales that give the Hessian a unit diagonal (Jacobi preconditioning).

    L-BFGS-B starts from an identity Hessian and cannot recover from a problem whose
    curvatures differ by orders of magnitude: with lme4's ``(Time | Rat)`` on days 1 to 64,
    the slope's coefficients are 10^3 times as curved as the intercept's, and the line
    search stalls with a gradient of 30.  Rescaled by the curvature at that point, the
    same search converges."""
    curvature = np.abs(np.diag(hessian))
    usable = np.isfinite(curvature) & (curvature > 0)
    reference = np.median(curvature[usable]) if usable.any() else 1.0
    curvature = np.where(usable, np.clip(curvature, 1e-8 * reference, None), reference)
    return 1 / np.sqrt(curvature)


def optimize(objective, start, max_iter=1000, newton_steps=10, scale=None):
    """Maximize the objective's log-likelihood from ``start`` (the first quasi-Newton search
    moving p / ``scale`` when given: see ``rescaled``).

    Returns the optimizer's summary and the Hessian (of -L) at the end point; the
    objective is left at its last mode (``objective.last_mode``)."""
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
        counts["grad"] += 1
        g = objective.gradient(state)
        if not np.isfinite(state.value) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(p)
        return -state.value, -g

    def gradient_only(p):
        return negative(p)[1]

    table = objective.parameters
    with np.errstate(all="ignore"):
        result = quasi_newton(negative, start, table, max_iter, scale=scale)
        p, value, grad, hessian, at_limit, result = finish(negative, gradient_only, result,
                                                           table, max_iter, newton_steps)
    summary = OptSummary(start, p, table.names, table.bounds, -value, -grad,
                         objective.n_evaluations, counts["grad"], str(result.message), at_limit)
    return summary, hessian


def finish(negative, gradient_only, result, table, max_iter, newton_steps, hessian_at=None):
    """From the quasi-Newton ``result`` on the full parameter vector: the Newton polish and
    the Hessian; a second, rescaled search when the polish stalled; the variance
    parameters at a limit and the Hessian a little way back along their flat stretch
    (``boundary``).  ``hessian_at(p, gradient at p)`` gives the Hessian (of -L) near the
    optimum, by default forward differences of ``gradient_only``.
    Returns (p, value, gradient, Hessian, at_limit, the last result)."""
    if hessian_at is None:
        def hessian_at(q, grad):
            return numeric_hessian(gradient_only, q, grad)
    p = result.x
    value, grad = negative(p)
    hessian = hessian_at(p, grad)
    p, value, grad, hessian = newton_polish(negative, hessian_at, p, value, grad, hessian,
                                            newton_steps)
    if np.max(np.abs(grad), initial=0.0) > STALLED_GRADIENT:
        result = quasi_newton(negative, p, table, max_iter, scale=rescaled(hessian))
        p = result.x
        value, grad = negative(p)
        hessian = hessian_at(p, grad)
        p, value, grad, hessian = newton_polish(negative, hessian_at, p, value, grad,
                                                hessian, newton_steps)
    at_limit = boundary.parameters_at_limit(table, p, hessian)
    if at_limit:
        back = boundary.retreat(lambda q: -negative(q)[0], p, at_limit)
        if not np.array_equal(back, p):
            hessian = central_hessian(gradient_only, back)
    return p, value, grad, hessian, at_limit, result
