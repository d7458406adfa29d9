"""Is the optimizer's end point a maximum?  The sixth stage of a fit: the problems found,
as plain data, and the warnings that report them.

Two verdicts are kept apart.  A fit that did not converge (a large gradient, an inner mode
that failed, a Hessian of the identified parameters that is not positive definite) gets a
``ConvergenceWarning``: its numbers may be wrong.  A singular fit, a variance estimated as
zero or a correlation at +-1, is a result: the maximum is on the boundary, the fixed
effects and their standard errors hold (computed with that parameter held at its limit,
``boundary``), and it gets a ``SingularFitWarning`` that says which component it is.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import boundary
from .errors import ConvergenceWarning, SingularFitWarning

# where the warnings point: at the caller of glmm() (check_convergence <- fitting.fit <-
# GLMMModel.fit <- glmm <- the caller)
_STACKLEVEL = 5

SINGULAR_MEANING = ("a variance estimated as zero means that the data show no variation "
                    "between those groups beyond the residual variation (a correlation at +1 or "
                    "-1: the two effects vary together as one); the model is simpler than "
                    "written. The fixed effects and their standard errors still hold: they are "
                    "computed with that component held at its limit")


@dataclass(frozen=True)
class Convergence:
    converged: bool               # no problem below; a singular fit can be converged
    problems: tuple               # why the end point may not be the maximum
    hessian_positive_definite: bool   # over the identified parameters
    singular: tuple               # the components at a limit, in words ("the block variance
                                  # is estimated as zero")
    at_limit: tuple = ()          # their parameters' names (held at their limit)

    @property
    def notes(self) -> tuple:
        """The problems, then each singular component as ``singular fit: ...``."""
        return self.problems + tuple(f"singular fit: {s}" for s in self.singular)

    def __str__(self):
        return "\n".join([f"converged: {self.converged}"]
                         + [f"problem: {p}" for p in self.problems]
                         + [f"singular: {s}" for s in self.singular])


def check_convergence(model, summary, state) -> Convergence:
    """Judge the end point from the optimizer's ``summary`` and the final ``state``
    (its Hessian and inner mode); warn about every problem found."""
    table, p = state.parameters, summary.end
    names = table.names
    held = state.at_limit
    keep = [k for k in range(len(names)) if k not in held]
    problems = []
    max_grad = float(np.max(np.abs(summary.final_gradient), initial=0.0))
    if not np.isfinite(summary.final_value):
        problems.append("the log-likelihood is not finite at the end point")
    if max_grad > 1e-3:
        worst = names[int(np.argmax(np.abs(summary.final_gradient)))]
        problems.append(f"large gradient at the end: max |dL/dp| = {max_grad:.3g} (at {worst})")
    if not state.inner_converged:
        problems.append("the inner mode of the random effects did not converge")
    hessian = boundary.identified_part(state.hessian, held)
    pd_hessian = _positive_definite(hessian)
    if pd_hessian and hessian.size:
        eig, vectors = np.linalg.eigh(hessian)
        if eig[0] < 1e-10 * eig[-1]:
            weakest = names[keep[int(np.argmax(np.abs(vectors[:, 0])))]]
            problems.append(f"near-singular Hessian (condition number "
                            f"{eig[-1] / eig[0]:.2g}): {weakest} is not identified by "
                            "the data (an estimate running off to a boundary, e.g. a "
                            "zero-inflation probability of 0)")
    elif not pd_hessian:
        problems.append("non-positive-definite Hessian: the standard errors are not reliable "
                        "(a parameter the data do not identify)")
    singular = tuple(boundary.describe(model, table, p, k) for k in held)
    if singular:
        warnings.warn(singular_message(singular), SingularFitWarning, stacklevel=_STACKLEVEL)
    if problems:
        warnings.warn("model fit did not converge: " + "; ".join(problems), ConvergenceWarning,
                      stacklevel=_STACKLEVEL)
    return Convergence(not problems, tuple(problems), pd_hessian, singular,
                       tuple(names[k] for k in held))


def singular_message(singular) -> str:
    """The singular-fit warning: which components are at a limit, what it means, what holds."""
    return f"singular fit: {'; '.join(singular)}. This is a result, not a failure: {SINGULAR_MEANING}."


def _positive_definite(hessian) -> bool:
    if not np.all(np.isfinite(hessian)):
        return False
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return False
    return True
