"""Link functions with the first three derivatives of their inverse.

The Laplace objective and its exact gradient need d mu/d eta up to third order
(see notes on the gradient in ``laplace.py``), so each link supplies them.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Link:
    name: str
    link: Callable          # mu -> eta
    inverse: Callable       # eta -> mu
    derivs: Callable        # eta -> (mu, dmu/deta, d2mu/deta2, d3mu/deta3)

    def __repr__(self):
        return f"Link({self.name})"


def _identity_derivs(eta):
    one = np.ones_like(eta)
    zero = np.zeros_like(eta)
    return eta, one, zero, zero


def _log_derivs(eta):
    mu = np.exp(eta)
    return mu, mu, mu, mu


def _logit_derivs(eta):
    mu = special.expit(eta)
    m1 = mu * (1 - mu)
    return mu, m1, m1 * (1 - 2 * mu), m1 * (1 - 6 * mu + 6 * mu * mu)


def _probit_derivs(eta):
    mu = special.ndtr(eta)
    dens = stats.norm.pdf(eta)
    return mu, dens, -eta * dens, (eta * eta - 1) * dens


def _cloglog_derivs(eta):
    e = np.exp(eta)
    mu = -np.expm1(-e)
    m1 = np.exp(eta - e)
    return mu, m1, m1 * (1 - e), m1 * ((1 - e) ** 2 - e)


def _inverse_derivs(eta):
    return 1 / eta, -1 / eta**2, 2 / eta**3, -6 / eta**4


def _probit_link(mu):
    return special.ndtri(mu)


def _cloglog_link(mu):
    return np.log(-np.log1p(-mu))


LINKS = {
    "identity": Link("identity", lambda mu: mu, lambda eta: eta, _identity_derivs),
    "log": Link("log", np.log, np.exp, _log_derivs),
    "logit": Link("logit", special.logit, special.expit, _logit_derivs),
    "probit": Link("probit", _probit_link, special.ndtr, _probit_derivs),
    "cloglog": Link("cloglog", _cloglog_link, lambda eta: -np.expm1(-np.exp(eta)), _cloglog_derivs),
    "inverse": Link("inverse", lambda mu: 1 / mu, lambda eta: 1 / eta, _inverse_derivs),
}
