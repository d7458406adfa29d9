"""Per-data state of the NB1 density: the ascending sums over a fixed response.

The NB1 log density and its derivatives need log Gamma(y+s) - log Gamma(s) and the
polygamma differences at s = mu/phi.  For whole counts these are finite sums whose
layout depends on y only, so it is built once per response and kept by the family
object (``AscendingSumsCache``) across the optimizer's evaluations.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .special_functions import tetragamma, trigamma


class AscendingSums:
    """For whole counts y and s > 0: log Gamma(y+s) - log Gamma(s) and the differences
    psi^(k)(y+s) - psi^(k)(s), k = 0, 1, 2, which the NB1 density needs.

    For y up to ``cap`` they are the finite sums over j < y of log(s+j), 1/(s+j),
    -1/(s+j)^2 and 2/(s+j)^3: rows sorted by y once, so step j works on a prefix and
    the cost is the total count, not n times a special function.  The logs are taken
    of products of ``LOG_EVERY`` factors (a log costs ten divisions), and the steps
    write into buffers kept between calls (``a[:k] += b`` would copy the prefix back
    onto itself).  Larger counts use the special functions."""

    LOG_EVERY = 16      # (s + 64)^16 stays finite for s below 1e19

    def __init__(self, y, cap=64):
        self.y = y
        counts = np.rint(y).astype(np.int64)
        small = counts <= cap
        self.large = np.flatnonzero(~small)
        rows = np.flatnonzero(small & (counts > 0))
        self.order = rows[np.argsort(-counts[rows], kind="stable")]
        descending = counts[self.order]
        top = int(descending[0]) if descending.size else 0
        # active[j] = number of sorted rows with y > j
        self.active = np.searchsorted(-descending, -np.arange(top), side="left").tolist()
        # buffers in sorted order plus one slot that stays 0 for the rows with y = 0 (and
        # counts above the cap): the results come back to row order by one gather
        m = self.order.size
        self._work = np.empty((7, m + 1))
        self._work[3:, -1] = 0.0
        self._slot = np.full(y.shape[0], m)
        self._slot[self.order] = np.arange(m)
        # few rows and small counts: one (rows x steps) table in a handful of numpy calls
        # beats a Python loop over the steps
        self._table = None
        if top <= self.LOG_EVERY and m * top <= 50_000:
            # term (i, j) is s_i + j where j < y_i and 1 elsewhere: s * used + steps;
            # used / term is then 1/(s_i + j) or 0, and the product ignores the padding
            used = np.arange(top) < descending[:, None]
            self._table = (used.astype(float), np.where(used, np.arange(top, dtype=float), 1.0))

    def __call__(self, s):
        """(log Gamma(y+s) - log Gamma(s), and the psi, psi', psi'' differences)."""
        t, inv, product, logs, d0, d1, d2 = self._work
        np.take(s, self.order, out=t[:-1])
        if self._table is not None:
            used, steps = self._table
            terms = t[:-1, None] * used
            terms += steps
            powers = np.empty((3,) + terms.shape)
            np.divide(used, terms, out=powers[0])
            np.multiply(powers[0], powers[0], out=powers[1])
            np.multiply(powers[1], powers[0], out=powers[2])
            with np.errstate(over="ignore"):
                logs[:-1] = np.log(np.prod(terms, axis=1))
            sums = powers.sum(axis=2)
            d0[:-1] = sums[0]
            np.negative(sums[1], out=d1[:-1])
            d2[:-1] = sums[2]
            return self._finish(s, logs)
        product.fill(1.0)
        self._work[3:].fill(0.0)
        last = len(self.active) - 1
        with np.errstate(over="ignore"):
            for j, k in enumerate(self.active):
                tk, ik, pk = t[:k], inv[:k], product[:k]
                np.multiply(pk, tk, out=pk)
                np.divide(1.0, tk, out=ik)
                np.add(d0[:k], ik, out=d0[:k])
                np.multiply(ik, ik, out=ik)
                np.subtract(d1[:k], ik, out=d1[:k])
                np.divide(ik, tk, out=ik)
                np.add(d2[:k], ik, out=d2[:k])
                np.add(tk, 1.0, out=tk)
                if (j + 1) % self.LOG_EVERY == 0 and j < last:
                    np.add(logs[:k], np.log(pk), out=logs[:k])
                    pk.fill(1.0)
        np.add(logs, np.log(product), out=logs)
        return self._finish(s, logs)

    def _finish(self, s, logs):
        """Sums back in row order; the rows the sums cannot serve."""
        lg, psi0, psi1, psi2 = np.take(self._work[3:], self._slot, axis=1)
        psi2 *= 2.0
        overflow = self.order[np.isposinf(logs[:-1])] if not np.isfinite(logs.sum()) else ()
        if len(overflow):   # huge s: sum the logs one by one (log Gamma would cancel)
            so, yo = s[overflow], self.y[overflow]
            lg[overflow] = sum(np.where(j < yo, np.log(so + j), 0.0) for j in range(int(yo.max())))
        if self.large.size:
            sl, yl = s[self.large], self.y[self.large]
            lg[self.large] = special.gammaln(yl + sl) - special.gammaln(sl)
            psi0[self.large] = special.digamma(yl + sl) - special.digamma(sl)
            psi1[self.large] = trigamma(yl + sl) - trigamma(sl)
            psi2[self.large] = tetragamma(yl + sl) - tetragamma(sl)
        return lg, psi0, psi1, psi2


class AscendingSumsCache:
    """The sums for the response last seen, and their value at the ``s`` last asked for:
    the kernel and the mu- and aux-derivatives of one evaluation ask for the same ``s`` in
    turn, so it is computed once."""

    def __init__(self):
        self._sums = None
        self._last = (None, None)

    def __call__(self, y, s):
        if self._sums is None or self._sums.y is not y:
            self._sums = AscendingSums(y)
            self._last = (None, None)
        last_s, last_value = self._last
        if last_s is not None and np.array_equal(last_s, s):
            return last_value
        value = self._sums(s)
        self._last = (s, value)
        return value
