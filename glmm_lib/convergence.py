"""Is the optimizer's end point a maximum?  The fifth stage of a fit: the problems
found, as plain data, and the warnings that report them."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConvergenceWarning, SingularFitWarning
from .parameters import Kind

# where the warnings point: at the caller of glmm() (check_convergence <- fitting.fit <-
# GLMMModel.fit <- glmm)
_STACKLEVEL = 4


@dataclass(frozen=True)
class Convergence:
    converged: bool
    problems: tuple
    hessian_positive_definite: bool
    singular_terms: tuple         # random-effect SDs estimated at (nearly) zero

    def __str__(self):
        return "\n".join([f"converged: {self.converged}"]
                         + [f"problem: {p}" for p in self.problems])


def check_convergence(model, summary, state) -> Convergence:
    """Judge the end point from the optimizer's ``summary`` and the final ``state``
    (its Hessian and inner mode); warn about every problem found."""
    table, p, hessian = state.parameters, summary.end, state.hessian
    names = table.names
    problems = []
    max_grad = float(np.max(np.abs(summary.final_gradient), initial=0.0))
    if not np.isfinite(summary.final_value):
        problems.append("the log-likelihood is not finite at the end point")
    if max_grad > 1e-3:
        worst = names[int(np.argmax(np.abs(summary.final_gradient)))]
        problems.append(f"large gradient at the end: max |dL/dp| = {max_grad:.3g} (at {worst})")
    if not state.inner_converged:
        problems.append("the inner mode of the random effects did not converge")
    pd_hessian = _positive_definite(hessian)
    if pd_hessian:
        eig = np.linalg.eigvalsh(hessian)
        if eig[0] < 1e-10 * eig[-1]:
            weakest = int(np.argmax(np.abs(np.linalg.eigh(hessian)[1][:, 0])))
            if table[weakest].kind is Kind.LOG_SD and p[weakest] < np.log(1e-4):
                problems.append(f"singular fit: {names[weakest]} runs to zero (SD "
                                f"{np.exp(p[weakest]):.2g}); the model is simpler than written, "
                                "consider dropping that random term")
            else:
                problems.append(f"near-singular Hessian (condition number "
                                f"{eig[-1] / eig[0]:.2g}): {names[weakest]} is not identified by "
                                "the data (an estimate running off to a boundary, e.g. a "
                                "zero-inflation probability of 0)")
    else:
        problems.append("non-positive-definite Hessian: the standard errors are not reliable "
                        "(often a variance estimated at zero or a parameter not identified)")
    singular = _singular_terms(model, p[table.layout.theta])
    for s in singular:
        warnings.warn(f"singular fit: the {s} is estimated at (nearly) zero", SingularFitWarning,
                      stacklevel=_STACKLEVEL)
    if problems:
        warnings.warn("model fit did not converge: " + "; ".join(problems), ConvergenceWarning,
                      stacklevel=_STACKLEVEL)
    return Convergence(not problems, tuple(problems), pd_hessian, tuple(singular))


def _positive_definite(hessian) -> bool:
    if not np.all(np.isfinite(hessian)):
        return False
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return False
    return True


def _singular_terms(model, theta):
    out = []
    for term, sl in zip(model.random_effects.terms, model.random_effects.theta_slices):
        report = term.structure.report(theta[sl])
        for name, sd in zip(term.term_names, np.atleast_1d(report["sd"])):
            if sd < 1e-4:
                out.append(f"standard deviation of {name} in ({term.spec.lhs} | {term.group_name})")
    return out
