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
    starting value on the internal scale.
    """
    name: str
    start: float = 0.0


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
        raise NotImplementedError

    def mu_derivatives(self, y, mu, aux, trials):
        """Return (dl/dmu, d2l/dmu2, d3l/dmu3)."""
        raise NotImplementedError

    def aux_derivatives(self, y, mu, aux, trials):
        """Return {name: (dl/da, d2l/da dmu, d3l/da dmu2)}."""
        return {}

    def variance(self, mu, aux, trials):
        raise NotImplementedError

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
        mu, m1, m2, m3 = self.link.derivs(eta)
        l1, l2, l3 = self.mu_derivatives(y, mu, aux, trials)
        g = l1 * m1
        w = -(l2 * m1 * m1 + l1 * m2)
        w3 = -(l3 * m1**3 + 3 * l2 * m1 * m2 + l1 * m3)
        aux_d = {}
        if need_aux:
            for name, (la, lam, lamm) in self.aux_derivatives(y, mu, aux, trials).items():
                aux_d[name] = (la, lam * m1, -(lamm * m1 * m1 + lam * m2))
        return EtaDerivatives(self.loglik(y, mu, aux, trials), g, w, w3, aux_d)

    def fisher_weights(self, eta, aux, trials):
        """Expected information in eta per observation: (dmu/deta)^2 / Var(y)."""
        mu, m1, _, _ = self.link.derivs(eta)
        return m1 * m1 / self.variance(mu, aux, trials)


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


class Gaussian(Family):
    name = "gaussian"
    links = ("identity", "log", "inverse")
    default_link = "identity"
    aux_parameters = (AuxParameter("log_sigma"),)
    _glm_family_class = staticmethod(lambda: sm_families.Gaussian)

    def loglik(self, y, mu, aux, trials):
        ls = aux["log_sigma"]
        return -0.5 * np.log(2 * np.pi) - ls - 0.5 * ((y - mu) * np.exp(-ls)) ** 2

    def mu_derivatives(self, y, mu, aux, trials):
        prec = np.exp(-2 * aux["log_sigma"])
        return (y - mu) * prec, -prec * np.ones_like(mu), np.zeros_like(mu)

    def aux_derivatives(self, y, mu, aux, trials):
        prec = np.exp(-2 * aux["log_sigma"])
        r = y - mu
        return {"log_sigma": (r * r * prec - 1, -2 * r * prec, 2 * prec * np.ones_like(mu))}

    def variance(self, mu, aux, trials):
        return np.exp(2 * aux["log_sigma"]) * np.ones_like(mu)

    def simulate(self, mu, aux, trials, rng):
        return rng.normal(mu, np.exp(aux["log_sigma"]))

    def sigma(self, aux_values):
        return float(np.exp(aux_values["log_sigma"]))

    def start_aux(self, y, mu, trials):
        return {"log_sigma": float(np.log(max(np.std(y - mu), 1e-8)))}


class Poisson(Family):
    name = "poisson"
    links = ("log", "identity")
    default_link = "log"
    integer_response = True

    def check_response(self, y, trials, index, column):
        _check_counts(y, index, column, self.name)

    def loglik(self, y, mu, aux, trials):
        return special.xlogy(y, mu) - mu - special.gammaln(y + 1)

    def mu_derivatives(self, y, mu, aux, trials):
        return y / mu - 1, -y / mu**2, 2 * y / mu**3

    def eta_derivatives(self, y, eta, aux, trials, need_aux=True):
        if self.link.name != "log":
            return super().eta_derivatives(y, eta, aux, trials, need_aux)
        mu = np.exp(eta)
        return EtaDerivatives(y * eta - mu - special.gammaln(y + 1), y - mu, mu, mu, {})

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

    def loglik(self, y, mu, aux, trials):
        return (special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)
                + special.xlogy(y, mu) + special.xlog1py(trials - y, -mu))

    def mu_derivatives(self, y, mu, aux, trials):
        f = trials - y
        return (y / mu - f / (1 - mu), -y / mu**2 - f / (1 - mu) ** 2,
                2 * y / mu**3 - 2 * f / (1 - mu) ** 3)

    def eta_derivatives(self, y, eta, aux, trials, need_aux=True):
        if self.link.name != "logit":
            return super().eta_derivatives(y, eta, aux, trials, need_aux)
        mu = special.expit(eta)
        v = trials * mu * (1 - mu)
        ll = (special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)
              + y * eta - trials * np.logaddexp(0, eta))
        return EtaDerivatives(ll, y - trials * mu, v, v * (1 - 2 * mu), {})

    def variance(self, mu, aux, trials):
        return trials * mu * (1 - mu)

    def simulate(self, mu, aux, trials, rng):
        return rng.binomial(trials.astype(np.int64), mu).astype(float)


class NegativeBinomial2(Family):
    """NB2: Var(y) = mu + mu^2/theta; glmmTMB's sigma() is theta."""
    name = "nbinom2"
    links = ("log",)
    default_link = "log"
    integer_response = True
    aux_parameters = (AuxParameter("log_theta"),)

    def check_response(self, y, trials, index, column):
        _check_counts(y, index, column, self.name)

    def loglik(self, y, mu, aux, trials):
        th = np.exp(aux["log_theta"])
        return (special.gammaln(y + th) - special.gammaln(th) - special.gammaln(y + 1)
                + th * np.log(th) + special.xlogy(y, mu) - (y + th) * np.log(mu + th))

    def mu_derivatives(self, y, mu, aux, trials):
        th = np.exp(aux["log_theta"])
        s = mu + th
        return (y / mu - (y + th) / s, -y / mu**2 + (y + th) / s**2,
                2 * y / mu**3 - 2 * (y + th) / s**3)

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


class NegativeBinomial1(Family):
    """NB1: Var(y) = mu (1 + phi), size mu/phi; glmmTMB's sigma() is phi."""
    name = "nbinom1"
    links = ("log",)
    default_link = "log"
    integer_response = True
    aux_parameters = (AuxParameter("log_phi"),)

    def check_response(self, y, trials, index, column):
        _check_counts(y, index, column, self.name)

    def loglik(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        s = mu / phi
        return (special.gammaln(y + s) - special.gammaln(s) - special.gammaln(y + 1)
                - s * np.log1p(phi) + y * (aux["log_phi"] - np.log1p(phi)))

    def mu_derivatives(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        s = mu / phi
        d0 = special.digamma(y + s) - special.digamma(s)
        d1 = special.polygamma(1, y + s) - special.polygamma(1, s)
        d2 = special.polygamma(2, y + s) - special.polygamma(2, s)
        return (d0 - np.log1p(phi)) / phi, d1 / phi**2, d2 / phi**3

    def aux_derivatives(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        s = mu / phi
        q = phi / (1 + phi)
        d0 = special.digamma(y + s) - special.digamma(s)
        d1 = special.polygamma(1, y + s) - special.polygamma(1, s)
        d2 = special.polygamma(2, y + s) - special.polygamma(2, s)
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


FAMILIES = {
    "gaussian": Gaussian,
    "poisson": Poisson,
    "binomial": Binomial,
    "nbinom1": NegativeBinomial1,
    "nbinom2": NegativeBinomial2,
}


def get_family(family, link=None) -> Family:
    """Family object from a name (``"nbinom1"``) or pass through an instance."""
    if isinstance(family, Family):
        if link is not None and link != family.link.name:
            return type(family)(link)
        return family
    if isinstance(family, type) and issubclass(family, Family):
        return family(link)
    key = str(family).lower()
    if key not in FAMILIES:
        raise GLMMInputError(
            f"unknown family {family!r}; available families: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[key](link)
