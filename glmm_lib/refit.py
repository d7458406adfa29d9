"""Refitting a model to new responses: the engine under the parametric bootstrap, the
bootstrap likelihood-ratio test, power simulations and refit-based residual tests.

The design of a model (X, the random-effect terms, weights, offset, trials, the
auxiliary designs) does not depend on the response, so a refit swaps the response
into a copy of the built ``GLMMModel`` instead of building it again from the data:
formula parsing and design construction cost more than fitting a small model.  The
copy gets a fresh distinct-row collapse, which depends on the response.

A refit that raises or ends without a finite log-likelihood or with the gradient
not at zero is a *failure*; one that ends at a maximum but with other convergence
problems (typically a variance estimated at zero, common and legitimate in
simulated data) is kept and flagged.  Nothing is dropped without being counted.
"""
from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import GLMMInputError

# the optimizer's own threshold for "the gradient is at zero" (optimizer.optimize)
GRADIENT_TOLERANCE = 1e-3


@dataclass
class RefitOutcome:
    """What one refit left: the fit (None on an error), and how it ended."""
    fit: object
    status: str                     # "ok", "warning" (kept, with problems) or "failed"
    problems: list = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.status != "failed"

    @property
    def message(self) -> str:
        return "; ".join(self.problems)


def with_response(model, y):
    """A copy of ``model`` (a GLMMModel) whose response is ``y``; the design is shared.

    ``y`` is checked by the family as a response given to a fit would be (counts for
    count families, successes out of the model's trials for binomial)."""
    y = np.asarray(y, dtype=float)
    frame = model.frame
    if y.shape != frame.y.shape:
        raise GLMMInputError(f"the simulated response has {y.size} values; the model has "
                             f"{frame.nobs} rows")
    model.family.check_response(y, frame.trials, frame.data.index, frame.response_name)
    new = copy.copy(model)
    new.frame = dataclasses.replace(frame, y=y)
    new.__dict__.pop("distinct_rows", None)       # cached on the old response
    return new


def refit(model, y, start=None) -> RefitOutcome:
    """Fit ``model`` to the response ``y`` from ``start`` (the optimizer's parameter
    vector of a fit of the same model), capturing errors and warnings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # reported through the outcome instead
            fit = with_response(model, y).fit(start=start)
    except Exception as err:       # any failure of one replicate is recorded, not raised
        return RefitOutcome(None, "failed", [f"{type(err).__name__}: {err}"])
    problems = fit.convergence_problems
    gradient = np.max(np.abs(fit.optimizer.final_gradient), initial=0.0)
    reached_maximum = np.isfinite(fit.llf) and gradient <= GRADIENT_TOLERANCE
    if not reached_maximum:
        return RefitOutcome(fit, "failed", problems or ["no maximum reached"])
    return RefitOutcome(fit, "ok" if not problems else "warning", problems)


def refit_all(fit, responses, summarize, start="fit"):
    """Refit ``fit``'s model to each column of ``responses`` (nobs x nsim).

    ``summarize(outcome)`` turns each RefitOutcome into a dict of results (called also
    for failed refits, whose ``fit`` may be None); the list of dicts comes back in
    column order.  ``start="fit"`` starts every refit at the fit's estimates, ``None``
    at the default starting values."""
    responses = np.asarray(responses, dtype=float)
    if responses.ndim != 2:
        raise GLMMInputError("responses must be a matrix with one simulated response per column")
    p0 = fit.optimizer.end if start == "fit" else start
    return [summarize(refit(fit.model, responses[:, k], p0)) for k in range(responses.shape[1])]
