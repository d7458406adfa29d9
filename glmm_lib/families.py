"""Response distributions as small objects.

A family knows its link, its log density and the derivatives of that density
in the mean and in its auxiliary parameters (dispersion, on the scale the
optimizer sees), how to simulate from itself, and what glmmTMB's ``sigma()``
reports for it.  Everything else in the library asks the family; nothing
branches on a family's name.

Derivatives are with respect to the mean ``mu``; ``eta_derivatives`` turns
them into derivatives in the linear predictor by the chain rule through the
link, unless a family supplies closed forms for its canonical link.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from statsmodels.genmod import families as sm_families

from .errors import GLMMInputError, first_rows
from .links import LINKS


@dataclass(frozen=True)
class AuxParameter:
    """A per-observation parameter of the density besides the mean.

    ``name`` is used for labels ("dispersion"), ``start`` is the optimizer's
    starting value on the internal scale, ``kind`` one of ``glmm_lib.parameters.Kind``'s.
    """
    name: str
    start: float = 0.0
    kind: str = "dispersion"


@dataclass
class EtaDerivatives:
    """log f and its derivatives in eta (g, w = -d2, w3 = -d3) and in the aux parameters."""
    loglik: np.ndarray
    g: np.ndarray
    w: np.ndarray
    w3: np.ndarray
    aux: dict            # name -> (dl/da, dg/da, dw/da)


class Family:
    name = "family"
    links = ("identity",)
    default_link = "identity"
    aux_parameters: tuple = ()
    integer_response = False
    has_trials = False

    @property
    def quadratic_in_eta(self) -> bool:
        """True if log f is quadratic in eta (so one Newton step finds the inner mode)."""
        return False

    def __init__(self, link: str | None = None):
        link = link or self.default_link
        if link not in self.links:
            raise GLMMInputError(
                f"family {self.name!r} has no link {link!r}; available links: "
                + ", ".join(self.links))
        self.link = LINKS[link]

    def __repr__(self):
        return f"{self.name}(link={self.link.name!r})"

    # ---- response checks -------------------------------------------------
    def check_response(self, y, trials, index, column):
        bad = ~np.isfinite(y)
        if bad.any():
            raise GLMMInputError(
                f"response {column!r} has non-finite values at rows {first_rows(bad, index)}")

    # ---- density and derivatives in mu ------------------------------------
    def loglik(self, y, mu, aux, trials):
        """Log density (mass) of each observation."""
        return self.kernel(y, mu, aux, trials) + self.normalizer(y, trials)

    def normalizer(self, y, trials):
        """The part of log f that depends on no parameter (computed once per fit)."""
        return np.zeros_like(y, dtype=float)

    def kernel(self, y, mu, aux, trials):
        """log f minus ``normalizer``."""
        raise NotImplementedError

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        """Return (dl/dmu, d2l/dmu2, d3l/dmu3); the third may be None if not ``third``."""
        raise NotImplementedError

    def aux_derivatives(self, y, mu, aux, trials):
        """Return {name: (dl/da, d2l/da dmu, d3l/da dmu2)}."""
        return {}

    def variance(self, mu, aux, trials):
        raise NotImplementedError

    def mean(self, mu, aux):
        """E(y) from the conditional mean mu (differs from mu for zero inflation)."""
        return mu

    #: value of the dispersion parameter when dispformula = ~0 (None: not allowed)
    fixed_dispersion = None

    def simulate(self, mu, aux, trials, rng):
        raise NotImplementedError

    def sigma(self, aux_values: dict) -> float:
        """What glmmTMB's sigma() returns for this family (1.0 when there is none)."""
        return 1.0

    def start_aux(self, y, mu, trials) -> dict:
        return {p.name: p.start for p in self.aux_parameters}

    def glm_family(self):
        """The statsmodels GLM family used for starting values."""
        return self._glm_family_class()(link=_statsmodels_link(self.link.name))

    @staticmethod
    def _glm_family_class():
        return sm_families.Poisson

    # ---- derivatives in eta ------------------------------------------------
    def eta_derivatives(self, y, eta, aux, trials, need_aux=True) -> EtaDerivatives:
        """Kernel of log f and its eta-derivatives; third order and aux only if ``need_aux``."""
        mu, m1, m2, m3 = self.link.derivs(eta)
        l1, l2, l3 = self.mu_derivatives(y, mu, aux, trials, third=need_aux)
        g = l1 * m1
        w = -(l2 * m1 * m1 + l1 * m2)
        w3 = -(l3 * m1 * m1 * m1 + 3 * l2 * m1 * m2 + l1 * m3) if need_aux else None
        aux_d = {}
        if need_aux:
            for name, (la, lam, lamm) in self.aux_derivatives(y, mu, aux, trials).items():
                aux_d[name] = (la, lam * m1, -(lamm * m1 * m1 + lam * m2))
        return EtaDerivatives(self.kernel(y, mu, aux, trials), g, w, w3, aux_d)

    def fisher_weights(self, eta, aux, trials):
        """Expected information in eta per observation: (dmu/deta)^2 / Var(y)."""
        mu, m1, _, _ = self.link.derivs(eta)
        return m1 * m1 / self.variance(mu, aux, trials)


_SHIFT = 15   # recurrence steps before the asymptotic series (truncation error < 1e-14)


def _trigamma(x):
    """psi'(x) for x > 0: recurrence psi'(x) = psi'(x+1) + 1/x^2, then the asymptotic series.

    scipy's polygamma/zeta route is two orders of magnitude slower per element and was
    the largest cost of a negative binomial fit."""
    x = np.asarray(x, dtype=float)
    acc = np.zeros_like(x)
    for i in range(_SHIFT):
        acc += 1.0 / (x + i) ** 2
    z = 1.0 / (x + _SHIFT)
    z2 = z * z
    series = z + z2 / 2 + z * z2 * (1 / 6 - z2 * (1 / 30 - z2 * (1 / 42 - z2 / 30)))
    return acc + series


def _tetragamma(x):
    """psi''(x) for x > 0, as ``_trigamma``."""
    x = np.asarray(x, dtype=float)
    acc = np.zeros_like(x)
    for i in range(_SHIFT):
        acc -= 2.0 / (x + i) ** 3
    z = 1.0 / (x + _SHIFT)
    z2 = z * z
    series = -z2 - z2 * z - z2 * z2 * (0.5 - z2 * (1 / 6 - z2 * (1 / 6 - z2 * 3 / 10)))
    return acc + series


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
            psi1[self.large] = _trigamma(yl + sl) - _trigamma(sl)
            psi2[self.large] = _tetragamma(yl + sl) - _tetragamma(sl)
        return lg, psi0, psi1, psi2


def _statsmodels_link(name):
    links = sm_families.links
    return {"identity": links.Identity, "log": links.Log, "logit": links.Logit,
            "probit": links.Probit, "cloglog": links.CLogLog,
            "inverse": links.InversePower}[name]()


def _check_counts(y, index, column, family):
    bad = (y < 0) | (np.abs(y - np.round(y)) > 1e-8) | ~np.isfinite(y)
    if bad.any():
        raise GLMMInputError(
            f"response {column!r} must hold non-negative whole numbers for the {family} "
            f"family; rows {first_rows(bad, index)} do not "
            f"(values: {', '.join(map(str, np.asarray(y)[bad][:5]))})")


class CountFamily(Family):
    """Families of whole counts: the response check and the -log(y!) normalizer."""
    integer_response = True

    def check_response(self, y, trials, index, column):
        _check_counts(y, index, column, self.name)

    def normalizer(self, y, trials):
        return -special.gammaln(y + 1)


class Gaussian(Family):
    """Normal with variance sigma^2; the auxiliary parameter is log(sigma^2), the scale on
    which glmmTMB reports a gaussian dispersion model."""
    name = "gaussian"
    links = ("identity", "log", "inverse")
    default_link = "identity"
    aux_parameters = (AuxParameter("log_sigma2"),)
    _glm_family_class = staticmethod(lambda: sm_families.Gaussian)
    fixed_dispersion = 0.5 * np.log(np.finfo(float).eps)   # dispformula = ~0, as glmmTMB

    @property
    def quadratic_in_eta(self):
        return self.link.name == "identity"

    def normalizer(self, y, trials):
        return np.full_like(y, -0.5 * np.log(2 * np.pi), dtype=float)

    def kernel(self, y, mu, aux, trials):
        a = aux["log_sigma2"]
        return -0.5 * a - 0.5 * (y - mu) ** 2 * np.exp(-a)

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        prec = np.exp(-aux["log_sigma2"])
        return (y - mu) * prec, -prec * np.ones_like(mu), np.zeros_like(mu)

    def aux_derivatives(self, y, mu, aux, trials):
        prec = np.exp(-aux["log_sigma2"])
        r = y - mu
        return {"log_sigma2": (0.5 * r * r * prec - 0.5, -r * prec, prec * np.ones_like(mu))}

    def variance(self, mu, aux, trials):
        return np.exp(aux["log_sigma2"]) * np.ones_like(mu)

    def simulate(self, mu, aux, trials, rng):
        return rng.normal(mu, np.exp(0.5 * aux["log_sigma2"]))

    def sigma(self, aux_values):
        return float(np.exp(0.5 * aux_values["log_sigma2"]))

    def start_aux(self, y, mu, trials):
        return {"log_sigma2": float(np.log(max(np.var(y - mu), 1e-12)))}


class Poisson(CountFamily):
    name = "poisson"
    links = ("log", "identity")
    default_link = "log"

    def kernel(self, y, mu, aux, trials):
        return special.xlogy(y, mu) - mu

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        return y / mu - 1, -y / mu**2, 2 * y / mu**3

    def eta_derivatives(self, y, eta, aux, trials, need_aux=True):
        if self.link.name != "log":
            return super().eta_derivatives(y, eta, aux, trials, need_aux)
        mu = np.exp(eta)
        return EtaDerivatives(y * eta - mu, y - mu, mu, mu, {})

    def variance(self, mu, aux, trials):
        return mu

    def simulate(self, mu, aux, trials, rng):
        return rng.poisson(mu).astype(float)


class Binomial(Family):
    """Binomial: y successes out of ``trials`` (1 for a 0/1 response)."""
    name = "binomial"
    links = ("logit", "probit", "cloglog", "log")
    _glm_family_class = staticmethod(lambda: sm_families.Binomial)
    default_link = "logit"
    integer_response = True
    has_trials = True

    def check_response(self, y, trials, index, column):
        bad = ~np.isfinite(y) | (y < 0)
        if bad.any():
            raise GLMMInputError(
                f"binomial response {column!r} has negative or missing successes at rows "
                f"{first_rows(bad, index)}")
        bad = trials <= 0
        if bad.any():
            raise GLMMInputError(
                f"binomial response {column!r}: the number of trials must be positive; rows "
                f"{first_rows(bad, index)} have {trials[bad][:5].tolist()}")
        bad = y > trials + 1e-8
        if bad.any():
            raise GLMMInputError(
                f"binomial response {column!r}: successes exceed trials at rows "
                f"{first_rows(bad, index)}")
        bad = np.abs(y - np.round(y)) > 1e-6
        if bad.any():
            raise GLMMInputError(
                f"binomial response {column!r}: the number of successes must be whole; rows "
                f"{first_rows(bad, index)} are not (a proportion needs weights= the number of "
                "trials)")

    def normalizer(self, y, trials):
        return special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)

    def kernel(self, y, mu, aux, trials):
        return special.xlogy(y, mu) + special.xlog1py(trials - y, -mu)

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        f = trials - y
        return (y / mu - f / (1 - mu), -y / mu**2 - f / (1 - mu) ** 2,
                2 * y / mu**3 - 2 * f / (1 - mu) ** 3 if third else None)

    def eta_derivatives(self, y, eta, aux, trials, need_aux=True):
        if self.link.name != "logit":
            return super().eta_derivatives(y, eta, aux, trials, need_aux)
        mu = special.expit(eta)
        v = trials * mu * (1 - mu)
        kernel = y * eta - trials * np.logaddexp(0, eta)
        return EtaDerivatives(kernel, y - trials * mu, v, v * (1 - 2 * mu), {})

    def variance(self, mu, aux, trials):
        return trials * mu * (1 - mu)

    def fisher_weights(self, eta, aux, trials):
        """Expected information in eta for y successes of n: n (dmu/deta)^2 / (mu (1 - mu))."""
        mu, m1, _, _ = self.link.derivs(eta)
        return trials * m1 * m1 / (mu * (1 - mu))

    def simulate(self, mu, aux, trials, rng):
        return rng.binomial(trials.astype(np.int64), mu).astype(float)


class NegativeBinomial2(CountFamily):
    """NB2: Var(y) = mu + mu^2/theta; glmmTMB's sigma() is theta."""
    name = "nbinom2"
    links = ("log",)
    default_link = "log"
    aux_parameters = (AuxParameter("log_theta"),)

    def kernel(self, y, mu, aux, trials):
        th = np.exp(aux["log_theta"])
        return (special.gammaln(y + th) - special.gammaln(th)
                + th * np.log(th) + special.xlogy(y, mu) - (y + th) * np.log(mu + th))

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        th = np.exp(aux["log_theta"])
        s = mu + th
        return (y / mu - (y + th) / s, -y / mu**2 + (y + th) / s**2,
                2 * y / mu**3 - 2 * (y + th) / s**3 if third else None)

    def aux_derivatives(self, y, mu, aux, trials):
        th = np.exp(aux["log_theta"])
        s = mu + th
        l_th = (special.digamma(y + th) - special.digamma(th) + np.log(th) + 1
                - np.log(s) - (y + th) / s)
        l_thmu = -1 / s + (y + th) / s**2
        l_thmumu = 1 / s**2 - 2 * (y + th) / s**3
        return {"log_theta": (th * l_th, th * l_thmu, th * l_thmumu)}

    def variance(self, mu, aux, trials):
        return mu + mu * mu / np.exp(aux["log_theta"])

    def simulate(self, mu, aux, trials, rng):
        th = np.exp(aux["log_theta"]) * np.ones_like(mu)
        return rng.poisson(rng.gamma(th, mu / th)).astype(float)

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_theta"]))


class NegativeBinomial1(CountFamily):
    """NB1: Var(y) = mu (1 + phi), size mu/phi; glmmTMB's sigma() is phi."""
    name = "nbinom1"
    links = ("log",)
    default_link = "log"
    aux_parameters = (AuxParameter("log_phi"),)

    def __init__(self, link=None):
        super().__init__(link)
        self._sums = None

    def _differences(self, y, s):
        if self._sums is None or self._sums.y is not y:
            self._sums = AscendingSums(y)
            self._last = (None, None)
        # kernel, mu- and aux-derivatives ask for the same s in turn: compute once
        last_s, last_value = self._last
        if last_s is not None and np.array_equal(last_s, s):
            return last_value
        value = self._sums(s)
        self._last = (s, value)
        return value

    def kernel(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        s = mu / phi
        lg = self._differences(y, s)[0]
        return lg - s * np.log1p(phi) + y * (aux["log_phi"] - np.log1p(phi))

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        phi = np.exp(aux["log_phi"])
        _, d0, d1, d2 = self._differences(y, mu / phi)
        return (d0 - np.log1p(phi)) / phi, d1 / phi**2, d2 / phi**3 if third else None

    def aux_derivatives(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        s = mu / phi
        q = phi / (1 + phi)
        _, d0, d1, d2 = self._differences(y, s)
        l_a = -s * d0 + s * np.log1p(phi) - s * q + y - y * q
        l_amu = -(d0 - np.log1p(phi)) / phi + (-s * d1 - q) / phi
        l_amumu = -2 * d1 / phi**2 - s * d2 / phi**2
        return {"log_phi": (l_a, l_amu, l_amumu)}

    def variance(self, mu, aux, trials):
        return mu * (1 + np.exp(aux["log_phi"]))

    def simulate(self, mu, aux, trials, rng):
        phi = np.exp(aux["log_phi"]) * np.ones_like(mu)
        return rng.poisson(rng.gamma(mu / phi, phi)).astype(float)

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_phi"]))


class Gamma(Family):
    """Gamma with shape k = 1/sigma^2 and mean mu; glmmTMB's sigma() is the CV, sigma."""
    name = "Gamma"
    links = ("log", "inverse", "identity")
    default_link = "inverse"
    aux_parameters = (AuxParameter("log_sigma"),)
    _glm_family_class = staticmethod(lambda: sm_families.Gamma)

    def check_response(self, y, trials, index, column):
        bad = ~np.isfinite(y) | (y <= 0)
        if bad.any():
            raise GLMMInputError(f"the Gamma family needs a positive response; {column!r} is not "
                                 f"positive at rows {first_rows(bad, index)}")

    def normalizer(self, y, trials):
        return -np.log(y)

    def kernel(self, y, mu, aux, trials):
        k = np.exp(-2 * aux["log_sigma"])
        return -special.gammaln(k) + k * np.log(k) - k * np.log(mu) + k * np.log(y) - k * y / mu

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        k = np.exp(-2 * aux["log_sigma"])
        return (k * (y - mu) / mu**2, k / mu**2 - 2 * k * y / mu**3,
                -2 * k / mu**3 + 6 * k * y / mu**4 if third else None)

    def aux_derivatives(self, y, mu, aux, trials):
        k = np.exp(-2 * aux["log_sigma"])
        l_k = np.log(k) + 1 - special.digamma(k) - np.log(mu) + np.log(y) - y / mu
        return {"log_sigma": (-2 * k * l_k, -2 * k * (y - mu) / mu**2,
                              -2 * k * (1 / mu**2 - 2 * y / mu**3))}

    def variance(self, mu, aux, trials):
        return mu * mu * np.exp(2 * aux["log_sigma"])

    def simulate(self, mu, aux, trials, rng):
        k = np.exp(-2 * aux["log_sigma"]) * np.ones_like(mu)
        return rng.gamma(k, mu / k)

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_sigma"]))

    def start_aux(self, y, mu, trials):
        cv = np.sqrt(np.mean(((y - mu) / mu) ** 2))
        return {"log_sigma": float(np.log(max(cv, 1e-3)))}


class Beta(Family):
    """Beta in mean-precision form: shapes mu*phi and (1-mu)*phi, Var = mu(1-mu)/(1+phi);
    glmmTMB's sigma() is phi."""
    name = "beta"
    links = ("logit", "probit", "cloglog")
    default_link = "logit"
    aux_parameters = (AuxParameter("log_phi", 1.0),)
    _glm_family_class = staticmethod(lambda: sm_families.Binomial)

    def check_response(self, y, trials, index, column):
        bad = ~np.isfinite(y) | (y <= 0) | (y >= 1)
        if bad.any():
            raise GLMMInputError(
                f"the beta family needs a response strictly between 0 and 1; {column!r} is "
                f"outside (0, 1) at rows {first_rows(bad, index)} (values: "
                f"{', '.join(map(str, np.asarray(y)[bad][:5]))}). Percentages must be divided by "
                "100; exact 0s and 1s can be squeezed with (y * (n - 1) + 0.5) / n "
                "(Smithson & Verkuilen 2006)")

    def normalizer(self, y, trials):
        return -np.log(y) - np.log1p(-y)

    def kernel(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        a, b = mu * phi, (1 - mu) * phi
        return (special.gammaln(phi) - special.gammaln(a) - special.gammaln(b)
                + a * np.log(y) + b * np.log1p(-y))

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        phi = np.exp(aux["log_phi"])
        a, b = mu * phi, (1 - mu) * phi
        logit_y = np.log(y) - np.log1p(-y)
        l1 = phi * (special.digamma(b) - special.digamma(a) + logit_y)
        l2 = -phi**2 * (_trigamma(a) + _trigamma(b))
        l3 = phi**3 * (_tetragamma(b) - _tetragamma(a)) if third else None
        return l1, l2, l3

    def aux_derivatives(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        a, b = mu * phi, (1 - mu) * phi
        logit_y = np.log(y) - np.log1p(-y)
        t1a, t1b = _trigamma(a), _trigamma(b)
        l_phi = (special.digamma(phi) - mu * special.digamma(a) - (1 - mu) * special.digamma(b)
                 + mu * np.log(y) + (1 - mu) * np.log1p(-y))
        dl1 = (special.digamma(b) - special.digamma(a) + logit_y) + phi * ((1 - mu) * t1b - mu * t1a)
        dl2 = -2 * phi * (t1a + t1b) - phi**2 * (mu * _tetragamma(a) + (1 - mu) * _tetragamma(b))
        return {"log_phi": (phi * l_phi, phi * dl1, phi * dl2)}

    def variance(self, mu, aux, trials):
        return mu * (1 - mu) / (1 + np.exp(aux["log_phi"]))

    def simulate(self, mu, aux, trials, rng):
        phi = np.exp(aux["log_phi"])
        return rng.beta(mu * phi, (1 - mu) * phi)

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_phi"]))

    def start_aux(self, y, mu, trials):
        v = np.mean((y - mu) ** 2)
        phi = np.mean(mu * (1 - mu)) / max(v, 1e-8) - 1
        return {"log_phi": float(np.log(max(phi, 1.0)))}


class StudentT(Family):
    """Student t with location mu, scale sigma and df nu (estimated unless given);
    glmmTMB's sigma() is the scale."""
    name = "t"
    links = ("identity", "log")
    default_link = "identity"
    _glm_family_class = staticmethod(lambda: sm_families.Gaussian)

    def __init__(self, link=None, df=None):
        super().__init__(link)
        if df is not None and not df > 0:
            raise GLMMInputError(f"the t family's df must be positive, got {df!r}")
        self.df = df
        self.aux_parameters = (AuxParameter("log_sigma"),) if df is not None else \
            (AuxParameter("log_sigma"), AuxParameter("log_df", np.log(5.0), "shape"))

    def __repr__(self):
        return f"t(link={self.link.name!r}, df={'estimated' if self.df is None else self.df})"

    def _nu(self, aux):
        return np.exp(aux["log_df"]) if self.df is None else self.df

    def kernel(self, y, mu, aux, trials):
        nu, s = self._nu(aux), np.exp(2 * aux["log_sigma"])
        return (special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
                - aux["log_sigma"] - (nu + 1) / 2 * np.log1p((y - mu) ** 2 / (nu * s)))

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        nu, s = self._nu(aux), np.exp(2 * aux["log_sigma"])
        r = y - mu
        D = nu * s + r * r
        return ((nu + 1) * r / D, (nu + 1) * (r * r - nu * s) / D**2,
                (nu + 1) * (2 * r**3 - 6 * r * nu * s) / D**3 if third else None)

    def aux_derivatives(self, y, mu, aux, trials):
        nu, s = self._nu(aux), np.exp(2 * aux["log_sigma"])
        r = y - mu
        D = nu * s + r * r
        out = {"log_sigma": (-1 + (nu + 1) * r * r / D, -2 * (nu + 1) * r * nu * s / D**2,
                             2 * (nu + 1) * nu * s * (D - 4 * r * r) / D**3)}
        if self.df is None:
            l_nu = (0.5 * special.digamma((nu + 1) / 2) - 0.5 * special.digamma(nu / 2)
                    - 1 / (2 * nu) - 0.5 * np.log(D / (nu * s)) - (nu + 1) / 2 * (s / D - 1 / nu))
            l_numu = r / D - (nu + 1) * s * r / D**2
            l_numumu = (2 * r * r - D) / D**2 - (nu + 1) * s * (4 * r * r - D) / D**3
            out["log_df"] = (nu * l_nu, nu * l_numu, nu * l_numumu)
        return out

    def variance(self, mu, aux, trials):
        nu = self._nu(aux)
        return np.exp(2 * aux["log_sigma"]) * np.where(nu > 2, nu / np.maximum(nu - 2, 1e-12), np.inf) \
            * np.ones_like(mu)

    def fisher_weights(self, eta, aux, trials):
        mu, m1, _, _ = self.link.derivs(eta)
        nu = self._nu(aux)
        return m1 * m1 * (nu + 1) / ((nu + 3) * np.exp(2 * aux["log_sigma"]))

    def simulate(self, mu, aux, trials, rng):
        nu = self._nu(aux) * np.ones_like(mu)
        return mu + np.exp(aux["log_sigma"]) * rng.standard_t(nu)

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_sigma"]))

    def start_aux(self, y, mu, trials):
        out = {"log_sigma": float(np.log(max(np.std(y - mu), 1e-8)))}
        if self.df is None:
            out["log_df"] = float(np.log(5.0))
        return out


class ZeroInflated(Family):
    """Mixture of structural zeros (probability pi, logit link) and a count family.

    A family object like the others: log f = log(pi [y = 0] + (1 - pi) f_base(y)),
    with its eta- and aux-derivatives from the base family's by the mixture rule.
    The extra auxiliary parameter "zi" is logit(pi), modelled by ``ziformula``.
    """
    integer_response = True

    def __init__(self, base: Family):
        self.base = base
        self.link = base.link
        self.name = base.name
        self.links = base.links
        self.aux_parameters = tuple(base.aux_parameters) + (
            AuxParameter("zi", -1.0, "zero_inflation"),)

    def __repr__(self):
        return f"ZeroInflated({self.base!r})"

    @property
    def has_trials(self):
        return self.base.has_trials

    def check_response(self, y, trials, index, column):
        self.base.check_response(y, trials, index, column)

    def normalizer(self, y, trials):
        return np.zeros_like(y, dtype=float)

    def kernel(self, y, mu, aux, trials):
        return self.loglik(y, mu, aux, trials)

    def loglik(self, y, mu, aux, trials):
        zeta = aux["zi"]
        base = self.base.loglik(y, mu, aux, trials)
        log_pi, log_1mpi = -np.logaddexp(0, -zeta), -np.logaddexp(0, zeta)
        return np.where(y == 0, np.logaddexp(log_pi, log_1mpi + base), log_1mpi + base)

    def eta_derivatives(self, y, eta, aux, trials, need_aux=True):
        base = self.base.eta_derivatives(y, eta, aux, trials, need_aux=need_aux)
        zeta = aux["zi"]
        mu = self.link.inverse(eta)
        log_pi, log_1mpi = -np.logaddexp(0, -zeta), -np.logaddexp(0, zeta)
        full = base.loglik + self.base.normalizer(y, trials)
        zero = y == 0
        # rho: probability that a zero came from the count distribution
        rho = np.where(zero, np.exp(log_1mpi + full - np.logaddexp(log_pi, log_1mpi + full)), 1.0)
        h1, h2 = base.g, -base.w
        c = rho * (1 - rho)
        loglik = np.where(zero, np.logaddexp(log_pi, log_1mpi + full), log_1mpi + full)
        g = rho * h1
        w = -(rho * h2 + c * h1 * h1)
        w3 = None
        aux_d = {}
        if need_aux:
            h3 = -base.w3
            w3 = -(rho * h3 + 3 * c * h1 * h2 + c * (1 - 2 * rho) * h1**3)
            for name, (la, ga, wa) in base.aux.items():
                h2a = -wa
                aux_d[name] = (rho * la, rho * ga + c * la * h1,
                               -(c * la * h2 + rho * h2a + c * (1 - 2 * rho) * la * h1 * h1
                                 + 2 * c * h1 * ga))
            pi = np.exp(log_pi)
            dl_dzeta = np.where(zero, (1 - rho) - pi, -pi)
            aux_d["zi"] = (dl_dzeta, -c * h1, c * (h2 + (1 - 2 * rho) * h1 * h1))
        return EtaDerivatives(loglik, g, w, w3, aux_d)

    def fisher_weights(self, eta, aux, trials):
        pi = special.expit(aux["zi"])
        return (1 - pi) * self.base.fisher_weights(eta, aux, trials)

    def mean(self, mu, aux):
        return (1 - special.expit(aux["zi"])) * mu

    def variance(self, mu, aux, trials):
        pi = special.expit(aux["zi"])
        vb = self.base.variance(mu, aux, trials)
        return (1 - pi) * (vb + mu * mu) - ((1 - pi) * mu) ** 2

    def simulate(self, mu, aux, trials, rng):
        pi = special.expit(aux["zi"]) * np.ones_like(mu)
        draw = self.base.simulate(mu, aux, trials, rng)
        return np.where(rng.random(mu.shape) < pi, 0.0, draw)

    def sigma(self, aux_values):
        return self.base.sigma(aux_values)

    def start_aux(self, y, mu, trials):
        out = self.base.start_aux(y, mu, trials)
        out["zi"] = -1.0
        return out

    def glm_family(self):
        return self.base.glm_family()


FAMILIES = {
    "gaussian": Gaussian,
    "poisson": Poisson,
    "binomial": Binomial,
    "nbinom1": NegativeBinomial1,
    "nbinom2": NegativeBinomial2,
    "gamma": Gamma,
    "beta": Beta,
    "beta_family": Beta,
    "t": StudentT,
    "t_family": StudentT,
    "student_t": StudentT,
}


def get_family(family, link=None) -> Family:
    """Family object from a name (``"nbinom1"``) or pass through an instance."""
    if isinstance(family, Family):
        if link is not None and link != family.link.name:
            raise GLMMInputError(f"link={link!r} conflicts with the family object {family!r}; "
                                 f"give the link to the family: {type(family).__name__}(link={link!r})")
        return family
    if isinstance(family, type) and issubclass(family, Family):
        return family(link)
    key = str(family).lower()
    if key not in FAMILIES:
        raise GLMMInputError(
            f"unknown family {family!r}; available families: "
            f"{', '.join(sorted(set(c.name for c in FAMILIES.values())))}")
    return FAMILIES[key](link)
