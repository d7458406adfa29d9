"""A fit, stage by stage (docs/ARCHITECTURE.md):

  GLMMModel (model.py)          formula and data -> arrays and the parameter table
  make_objective (objectives)   which likelihood computation, on which rows
  start_vector (start)          starting values
  optimize (optimizer)          -> OptSummary and the Hessian
  final_state (state)           -> FinalState on every row
  check_convergence             -> Convergence, with the warnings
  GLMMResults (results)         immutable, from the model and those three
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import ThreadpoolController

from .convergence import check_convergence
from .lmm_profiled import ProfiledGaussianObjective
from .objectives import make_objective
from .optimizer import STALLED_GRADIENT, optimize
from .results import GLMMResults
from .start import search_scale, start_vector
from .state import final_state

_threadpools = None


def one_blas_thread():
    """A context limiting BLAS to one thread.  The controller is made once: finding the
    loaded libraries reads /proc and took longer than fitting a small model."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


def fit(model, start=None, **optimizer_options) -> GLMMResults:
    objective = make_objective(model, on_distinct_rows=True)
    # The blocks of H are small; BLAS threads only contend for the cores there
    # (measured: a batched 101x101 solve 100x slower with OpenBLAS threads on a busy machine).
    with one_blas_thread():
        if isinstance(objective, ProfiledGaussianObjective):
            # starting values and optimization in one: theta alone, beta and sigma profiled
            summary, hessian = objective.optimize(start, **optimizer_options)
            if not _reached_a_maximum(summary, hessian) or (
                    summary.message.startswith("ABNORMAL")
                    and objective.residual_vanishing(summary.end)):
                # a residual variance running to zero sends the profiled criterion's relative
                # covariance parameters to infinity (no maximum, or a search stopped somewhere
                # on that flat stretch); the general objective works on the absolute scale
                # and reaches the boundary
                objective = make_objective(model, on_distinct_rows=True, profiled=False)
                summary, hessian = _optimize(model, objective, start, optimizer_options)
        else:
            summary, hessian = _optimize(model, objective, start, optimizer_options)
        if objective.model is model:
            state = final_state(objective, summary.end, hessian, at_limit=summary.at_limit)
        else:   # fitted on the distinct rows: the results need every row, and the last
            last = objective.last_mode       # mode, at a point near the end, starts theirs
            state = final_state(make_objective(model), summary.end, hessian,
                                b_start=None if last is None else last.b,
                                at_limit=summary.at_limit)
    convergence = check_convergence(model, summary, state)
    return GLMMResults(model, state, summary, convergence)


def _optimize(model, objective, start, optimizer_options):
    p0 = start_vector(model, objective, start)
    return optimize(objective, p0, scale=search_scale(model, objective, p0), **optimizer_options)


def _reached_a_maximum(summary, hessian) -> bool:
    """A small gradient and a Hessian (of -L) that is positive definite."""
    if not np.max(np.abs(summary.final_gradient), initial=0.0) <= STALLED_GRADIENT:
        return False
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.isfinite(hessian)))
