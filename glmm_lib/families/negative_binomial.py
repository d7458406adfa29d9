"""The negative binomial families NB2 (quadratic variance) and NB1 (linear variance)."""
from __future__ import annotations

import numpy as np
from scipy import special

from .ascending_sums import AscendingSumsCache
from .base import AuxParameter
from .counts import CountFamily


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
        self._differences = AscendingSumsCache()

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
