"""Two-sided probabilities of the multivariate t (and normal) distribution, for the "mvt"
p-value adjustment and simultaneous intervals of a family of correlated contrasts.

``box_probability(x, R, df)`` is P(|T_i| < x for every i) for T multivariate t with
correlation R and ``df`` degrees of freedom (``np.inf``: multivariate normal).

Method (Genz 1992; Genz and Bretz 2002): write T = Z / S with Z ~ N(0, R) and S =
sqrt(chi2_df / df) independent, and R = C C' (Cholesky).  Drawing S by its quantile at u_0
and Z one coordinate at a time, each conditional on the earlier ones, turns the probability
into the mean over the unit cube of a product of one-dimensional normal probabilities
("separation of variables").  That mean is taken with a rank-1 lattice rule (Richtmyer's
generator: square roots of primes), periodized by the baker's transform, averaged over
shifts drawn from a generator with a fixed seed: the result does not change from one call
to the next, and the spread over the shifts bounds its error, which is driven below
``abs_error`` by doubling the lattice.  Tail probabilities (1 - box probability) are
accurate to that absolute error (1e-6 by default), not relatively: a p-value below 1e-5
is only known to be that small -- as with R's mvtnorm, which emmeans' "mvt" uses.

A singular R (linearly dependent contrasts) is handled: a coordinate determined by the
earlier ones contributes the indicator of its interval instead of a probability.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import special, stats
from scipy.optimize import brentq

__all__ = ["box_probability", "box_quantile"]

_PRIMES = np.array([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
                    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
                    157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227, 229])
_SHIFTS = 12
_SEED = 20261125
_SINGULAR = 1e-10


def _cholesky(R):
    """Lower-triangular C with C C' = R; a column whose pivot vanishes (a coordinate
    determined by the earlier ones) is left zero below a zero diagonal."""
    m = R.shape[0]
    C = np.zeros_like(R)
    for j in range(m):
        pivot = R[j, j] - C[j, :j] @ C[j, :j]
        if pivot <= _SINGULAR * R[j, j]:
            continue
        C[j, j] = np.sqrt(pivot)
        C[j + 1:, j] = (R[j + 1:, j] - C[j + 1:, :j] @ C[j, :j]) / C[j, j]
    return C


def _lattice(dim, n_points, shift):
    """The lattice points with shift number ``shift``, periodized: (n_points, dim).  The
    first coordinate does not depend on ``dim``, so the chi-square quantiles made from it
    serve families of every size (:func:`_chi_scale`)."""
    generator = np.sqrt(_PRIMES[:dim].astype(float)) % 1.0
    offset = np.random.default_rng(_SEED).random((_SHIFTS, len(_PRIMES)))[shift, :dim]
    k = np.arange(1, n_points + 1)[:, None]
    return np.abs(2.0 * ((k * generator + offset) % 1.0) - 1.0)


@functools.lru_cache(maxsize=2 * 7 * _SHIFTS)    # two df, lattices 1024 ... 65536
def _chi_scale(df, n_points, shift):
    """S = sqrt(chi2_df / df) at the first coordinate of a lattice (2 x a gamma(df/2)
    quantile): the costly part, the same for all p-values of a family and every step of
    the search for a critical value."""
    u = _lattice(1, n_points, shift)[:, 0]
    return np.sqrt(2.0 * special.gammaincinv(df / 2.0, u) / df)


def _lattice_mean(integrand, dim, n_points):
    """Mean of ``integrand`` over the unit cube, and the standard error of that mean over
    the shifts."""
    means = np.array([integrand(_lattice(dim, n_points, s), s).mean() for s in range(_SHIFTS)])
    return means.mean(), means.std(ddof=1) / np.sqrt(_SHIFTS)


def _integrand(x, C, df):
    m = C.shape[0]
    diag = np.diag(C)
    free = np.flatnonzero(diag > 0)

    def f(u, shift):
        n = u.shape[0]
        if np.isinf(df):
            scale, w = np.ones(n), u
        else:
            scale, w = _chi_scale(float(df), n, shift), u[:, 1:]
        limit = x * scale
        value = np.ones(n)
        y = np.zeros((n, m))
        used = 0
        for i in range(m):
            centre = y[:, :i] @ C[i, :i]
            if diag[i] == 0:
                value *= np.abs(centre) < limit
                continue
            lo = special.ndtr((-limit - centre) / diag[i])
            hi = special.ndtr((limit - centre) / diag[i])
            value *= hi - lo
            if i != free[-1]:
                y[:, i] = special.ndtri(np.clip(lo + w[:, used] * (hi - lo), 1e-300, 1 - 1e-16))
                used += 1
        return value

    n_uniform = len(free) - 1 + (0 if np.isinf(df) else 1)
    return f, n_uniform


def _prepared(R, df):
    R = np.atleast_2d(np.asarray(R, float))
    return R, (None if R.shape[0] == 1 else _cholesky(R))


def _probability(x, R, C, df, n_points):
    """(estimate, standard error) of the box probability with a lattice of ``n_points``."""
    if x <= 0:
        return 0.0, 0.0
    if C is None:
        return float(1.0 - 2.0 * (stats.norm.sf(x) if np.isinf(df) else stats.t.sf(x, df))), 0.0
    f, dim = _integrand(x, C, df)
    if dim == 0:
        return float(f(np.zeros((1, 1)), 0)[0]), 0.0
    return _lattice_mean(f, dim, n_points)


def box_probability(x, R, df, abs_error=1e-6, rel_error=1e-3, max_points=2 ** 16) -> float:
    """P(max_i |T_i| < x) for T multivariate t with correlation matrix ``R`` and ``df``
    degrees of freedom (``np.inf``: normal).  The lattice is doubled (from 1024 points)
    until three standard errors are below ``abs_error`` or below ``rel_error`` times the
    tail probability 1 - P (the p-value it gives), or the lattice has ``max_points``."""
    R, C = _prepared(R, df)
    n = 1024
    while True:
        mean, error = _probability(float(x), R, C, df, n)
        if 3.0 * error < max(abs_error, rel_error * (1.0 - mean)) or 2 * n > max_points:
            return float(min(max(mean, 0.0), 1.0))
        n *= 2


def box_quantile(level, R, df, n_points=4096) -> float:
    """The x with P(max_i |T_i| < x) = ``level``: the multiplier of simultaneous intervals
    of the family.  One lattice for the whole search, so the probability it solves for is a
    smooth function of x."""
    R, C = _prepared(R, df)
    m = R.shape[0]
    single = (lambda p: stats.norm.isf(p)) if np.isinf(df) else (lambda p: stats.t.isf(p, df))
    lo = single((1.0 - level) / 2.0)                 # one interval: no adjustment
    hi = single((1.0 - level) / (2.0 * m)) * 1.01    # Bonferroni's is wider
    if m == 1:
        return float(lo)
    return float(brentq(lambda c: _probability(c, R, C, df, n_points)[0] - level, lo, hi,
                        xtol=1e-7))
