"""Variance parameters at a limit of their range: a variance at zero, a correlation at +-1,
a dispersion at zero or infinity.

There the log-likelihood is flat along the parameter (it has run off towards minus or plus
infinity on the optimizer's scale), so the Hessian over all parameters is singular and its
inverse means nothing.  lme4 and glmmTMB report standard errors that are, in effect, those
of the identified parameters with the boundary one held at its limit; this module finds
the parameters at a limit and the Hessian of the others, and says in words which
variance component is at its limit.
"""
from __future__ import annotations

import numpy as np

from .parameters import Kind

# Curvature of L along a parameter (on the optimizer's scale, where every variance
# parameter is dimensionless) below which the data do not identify it: its standard
# error would exceed 100 units of log SD.  An estimated log SD has a curvature of the
# order of its number of groups; one crawling to zero, of SD^2.
FLAT_CURVATURE = 1e-4

# How far the log-likelihood may fall when a parameter at its limit is brought back to
# where the likelihood can be computed accurately (see ``retreat``).
RETREAT_LOSS = 1e-5


def candidates(table) -> list:
    """Positions of the parameters that have a limit in the model's sense: random-effect
    log SDs, correlation parameters, and the dispersion (or shape) parameter when it is
    a single intercept (a coefficient of a dispersion formula has no such meaning).  A
    zero-inflation probability running to 0 is not one: it is reported as a parameter
    the data do not identify."""
    out = table.where(Kind.LOG_SD, Kind.CORRELATION)
    for kind in (Kind.DISPERSION, Kind.SHAPE):
        positions = table.where(kind)
        if len(positions) == 1 and table[positions[0]].intercept:
            out += positions
    return sorted(out)


def parameters_at_limit(table, params, hessian) -> tuple:
    """Positions of the variance parameters along which the log-likelihood is flat at
    ``params`` (``hessian`` of -L over p), a log SD only when it runs towards zero."""
    held = []
    for k in candidates(table):
        if not abs(hessian[k, k]) < FLAT_CURVATURE:
            continue
        if table[k].kind is Kind.LOG_SD and params[k] > 0:
            continue
        held.append(k)
    return tuple(held)


def retreat(value_at, params, held) -> np.ndarray:
    """``params`` with each parameter at its limit brought back towards zero, to the
    integers, unit by unit, while the log-likelihood ``value_at(p)`` stays within
    RETREAT_LOSS.  On the integers, the point does not depend on where along the flat
    stretch the optimizer stopped (which differs with the BLAS kernel).

    A gaussian model whose residual SD runs to zero (exp(-20)) has H = A'WA + I with
    weights of order e^40: the likelihood is right there but its gradient is not, and a
    Hessian from differences of that gradient breaks the symmetry of a balanced design.
    A point a few units back on the flat stretch has the same likelihood to 1e-5 and a
    well-conditioned H (glmmTMB stops there by itself, at a residual SD near 0.002).

    The loss grows monotonically as the parameter comes back from its limit, so the
    number of unit steps is found by bisection: a handful of likelihoods instead of one
    per unit (a log SD at -24 is 24 units out)."""
    best = value_at(params)
    p = params.copy()
    for k in held:
        direction = np.sign(p[k])
        # the integers towards zero, from the first one inside p[k] down to +-1
        first = np.trunc(p[k]) if np.trunc(p[k]) != p[k] else p[k] - direction
        n_steps = int(abs(first)) if abs(p[k]) > 1.0 else 0

        def position(steps):
            return first - (steps - 1) * direction

        def acceptable(steps):
            trial = p.copy()
            trial[k] = position(steps)
            value = value_at(trial)
            return np.isfinite(value) and value >= best - RETREAT_LOSS

        good, bad = 0, n_steps + 1
        while bad - good > 1:
            middle = (good + bad) // 2
            if acceptable(middle):
                good = middle
            else:
                bad = middle
        if good:
            p[k] = position(good)
    return p


def identified_inverse(hessian, held) -> np.ndarray:
    """The inverse of ``hessian`` over the parameters not held at a limit; the held rows
    and columns are zero (held at its limit, a parameter carries no uncertainty into the
    others' standard errors).  NaN where the identified part has no inverse."""
    keep = np.setdiff1d(np.arange(hessian.shape[0]), np.asarray(held, int))
    out = np.zeros_like(hessian)
    with np.errstate(all="ignore"):
        try:
            out[np.ix_(keep, keep)] = np.linalg.inv(hessian[np.ix_(keep, keep)])
        except np.linalg.LinAlgError:
            out[np.ix_(keep, keep)] = np.nan
    return out


def identified_part(hessian, held) -> np.ndarray:
    keep = np.setdiff1d(np.arange(hessian.shape[0]), np.asarray(held, int))
    return hessian[np.ix_(keep, keep)]


def describe(model, table, params, k) -> str:
    """Parameter ``k`` at its limit, in words a field scientist reads."""
    kind = table[k].kind
    if kind in (Kind.DISPERSION, Kind.SHAPE):
        limit = "zero" if params[k] < 0 else "infinite"
        return f"the residual {kind.value} ({table[k].name} on the log scale) is estimated as {limit}"
    term, structure_theta, position = _term_of(model, table, params, k)
    group = term.group_name
    if kind is Kind.LOG_SD:
        log_sds = [i for i, p in enumerate(term.structure.parameters(term.term_names))
                   if p.kind is Kind.LOG_SD]
        if len(log_sds) < term.size:        # one SD for all the term's coefficients (ar1)
            return f"the {group} variance ({term.structure.name}) is estimated as zero"
        name = term.term_names[log_sds.index(position)]
        if term.size == 1 and name == "(Intercept)":
            return f"the {group} variance is estimated as zero"
        return f"the variance of {name} between {group} levels is estimated as zero"
    report = term.structure.report(structure_theta)
    if report.get("rho") is not None:
        return (f"the correlation within {group} ({term.structure.name}) is estimated as "
                f"{report['rho']:+.2g}")
    corr = report.get("corr")
    pairs = [f"the correlation of {term.term_names[j]} and {term.term_names[i]} within {group} "
             f"is estimated as {corr[i, j]:+.0f}"
             for i in range(term.size) for j in range(i) if abs(corr[i, j]) > 0.99]
    if pairs:
        return "; ".join(pairs)
    return (f"a correlation within {group} is not identified (a variance of that term is "
            "zero)")


def _term_of(model, table, params, k):
    """The random term of parameter ``k`` (a position in ``table``), its theta and k's
    position in it."""
    re = model.random_effects
    theta = params[table.layout.theta]
    offset = k - table.layout.theta.start
    for term, sl in zip(re.terms, re.theta_slices):
        if sl.start <= offset < sl.stop:
            return term, theta[sl], offset - sl.start
    raise IndexError(k)
