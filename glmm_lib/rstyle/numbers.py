"""R's number formatting: ``round``, ``zapsmall``, ``format``, ``format.pval``, ``formatC``."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

EPS = 2.220446049250313e-16      # .Machine$double.eps
_KP_MAX = 22


def r_round(x, digits):
    """R's ``round(x, digits)`` (R >= 4.0.0): the nearer of the two candidates with
    ``digits`` decimals, computed in double precision; ties to the even last digit.
    ``digits`` may be fractional (rounded to the nearest integer, as R does)."""
    x = float(x)
    if not math.isfinite(x) or x == 0.0:
        return x
    dig = int(math.floor(digits + 0.5))
    if dig == 0:
        return float(round(x))          # Python rounds half to even, as R's nearbyint
    if x < 0:
        return -_positive_round(-x, dig)
    return _positive_round(x, dig)


def _positive_round(x, dig):
    if dig > 308:
        return x
    l10x = math.log10(2.0) * (0.5 + math.frexp(x)[1] - 1)   # M_LOG10_2 * (0.5 + logb(x))
    if l10x + dig > 15:
        return x
    if dig > 0:
        pow10 = 10.0 ** dig
        x10 = pow10 * x
        i10 = math.floor(x10)
        xd, xu = i10 / pow10, math.ceil(x10) / pow10
    else:
        pow10 = 10.0 ** (-dig)
        x10 = x / pow10
        i10 = math.floor(x10)
        xd, xu = i10 * pow10, math.ceil(x10) * pow10
    du, dd = xu - x, x - xd
    return xu if (du < dd or (du == dd and i10 % 2 == 1)) else xd


def zapsmall(values, digits):
    """R 4.2's zapsmall: round to ``digits - log10(max |x|)`` decimals."""
    values = np.asarray(values, float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    mx = np.max(np.abs(finite))
    d = max(0.0, digits - math.log10(mx)) if mx > 0 else digits
    return np.array([r_round(v, d) if np.isfinite(v) else v for v in values])


def _scientific(x, digits):
    """R's scientific(): (negative, exponent, significant digits, rounding widens)."""
    if x == 0:
        return False, 0, 1, False
    neg = x < 0
    r = abs(x)
    kp = int(math.floor(math.log10(r))) - digits + 1
    scaled = Fraction(r) / Fraction(10) ** kp
    if scaled < 10 ** (digits - 1):
        scaled *= 10
        kp -= 1
    alpha = round(scaled)                # nearest integer, ties to even
    nsig = digits
    while nsig > 0 and alpha % 10 == 0:
        alpha //= 10
        nsig -= 1
    if nsig == 0:
        nsig = 1
        kp += 1
    kpower = kp + digits - 1
    rgt = min(max(digits - kpower, 0), _KP_MAX)
    fuzz = 0.5 / 10.0 ** rgt
    widens = 0 < kpower <= _KP_MAX and r < 10.0 ** kpower - fuzz
    return neg, kpower, nsig, widens


def format_r(values, digits=7, nsmall=0, na="NA"):
    """R's ``format(x, digits = digits, nsmall = nsmall)`` of a numeric vector: strings
    of one common width, fixed or scientific notation for all."""
    values = [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]
    finite = [v for v in values if math.isfinite(v)]
    w = d = e = 0
    if finite:
        neg = 0
        rgt = mxl = mxsl = mxns = -(10 ** 9)
        mnl = 10 ** 9
        for v in finite:
            neg_i, kpower, nsig, widens = _scientific(v, digits)
            left = kpower + 1 - (1 if widens else 0)
            sleft = neg_i + (1 if left <= 0 else left)
            right = nsig - left
            neg = neg or neg_i
            rgt, mxl, mnl = max(rgt, right), max(mxl, left), min(mnl, left)
            mxsl, mxns = max(mxsl, sleft), max(mxns, nsig)
        if mxl < 0:
            mxsl = 1 + neg
        rgt = max(rgt, 0)
        w_fixed = mxsl + rgt + (rgt != 0)
        e = 2 if (mxl > 100 or mnl <= -99) else 1
        d = mxns - 1
        w = neg + (d > 0) + d + 4 + e
        if w_fixed <= w:                 # R_print.scipen = 0
            e = 0
            if nsmall > rgt:
                rgt = nsmall
                w_fixed = mxsl + rgt + (rgt != 0)
            d, w = rgt, w_fixed
    if len(finite) < len(values):
        w = max(w, len(na))
    out = []
    for v in values:
        if math.isnan(v):
            out.append(na.rjust(w))
        elif math.isinf(v):
            out.append(("Inf" if v > 0 else "-Inf").rjust(w))
        elif e:
            text = ("%#.*e" if d else "%.*e") % (d, v)
            mantissa, exponent = text.split("e")
            sign, digits_ = exponent[0], exponent[1:].lstrip("0")
            out.append(f"{mantissa}e{sign}{digits_.rjust(e + 1, '0')}".rjust(w))
        else:
            out.append(("%.*f" % (d, v)).rjust(w))
    return out


def format_pval(pvalues, digits, eps=EPS):
    """R's ``format.pval(pv, digits = digits, eps = eps)``."""
    pv = np.asarray(pvalues, float)
    out = ["NA"] * pv.size
    ok = ~np.isnan(pv)
    is0 = ok & (pv < eps)
    rest = np.flatnonzero(ok & ~is0)
    rr = {}
    if rest.size:
        values = pv[rest]
        expo = np.floor(np.log10(np.where(values > 0, values, 1e-50)))
        fixp = (expo >= -3) | ((expo == -4) & (digits > 1))
        for mask in (fixp, ~fixp):
            if mask.any():
                for i, text in zip(rest[mask], format_r(values[mask], digits)):
                    rr[i] = text
        for i, text in rr.items():
            out[i] = text
    if is0.any():
        d = max(1, digits - 2)
        if rr:
            nc = max(len(t) for t in rr.values())
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if (d == 1 and nc <= 6) else " "
        else:
            sep = "" if d == 1 else " "
        text = "<" + sep + format_r([eps], d)[0]
        for i in np.flatnonzero(is0):
            out[i] = text
    return out


def format_c(x, digits=3):
    """R's ``formatC(x, digits = digits)`` ("g" format, width digits + 1)."""
    if x is None or not np.isfinite(x):
        return "NA".rjust(digits + 1)
    return "%*.*g" % (digits + 1, digits, x)
