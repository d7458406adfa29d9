"""Which objective computes a model's likelihood (the second stage of a fit).

Every objective returns the same L(p) and gradient for the models it accepts; the
specialised ones are faster or better conditioned there:
  gaussian, identity link, one residual variance (ML or REML)
                                        -> lmm_profiled.ProfiledGaussianObjective (on the
                                           cross-products, beta and sigma profiled out)
  REML with dispformula = ~0           -> marginal.GaussianMarginalREMLObjective (via V)
  REML otherwise (a dispersion model)   -> reml.REMLObjective (fixed effects integrated out)
  Poisson-log with one (1 | g), unweighted -> grouped.GroupedPoissonObjective (per-group sums)
  gaussian with dispformula = ~0        -> marginal.GaussianMarginalObjective (exact, via V)
  anything else                         -> laplace.LaplaceObjective, on the model's distinct
                                           rows when asked and when rows repeat enough.
An objective remembers its last mode, so each user (a fit, a profile, a Jacobian of the
modes) makes its own.
"""
from __future__ import annotations

from . import grouped, lmm_profiled, marginal
from .grouped import GroupedPoissonObjective
from .laplace import LaplaceObjective
from .lmm_profiled import ProfiledGaussianObjective
from .marginal import GaussianMarginalObjective, GaussianMarginalREMLObjective
from .reml import REMLObjective


def make_objective(model, on_distinct_rows=False, profiled=True) -> LaplaceObjective:
    """The objective for ``model``; with ``on_distinct_rows`` it may work on the distinct
    rows only (the same likelihood), whose states then hold those rows, not the model's.
    The cross-products of the profiled gaussian objective already summarize the rows;
    ``profiled=False`` skips that objective (``fitting.fit`` falls back from it)."""
    if profiled and lmm_profiled.applies(model):
        return ProfiledGaussianObjective(model)
    if model.REML:
        if marginal.applies(model):
            return GaussianMarginalREMLObjective(model)
        return REMLObjective(model)
    if grouped.applies(model):
        return GroupedPoissonObjective(model)
    if marginal.applies(model):
        return GaussianMarginalObjective(model)
    collapsed = model.distinct_rows if on_distinct_rows else None
    return LaplaceObjective(model if collapsed is None else collapsed)
