"""The Gamma family in mean and coefficient-of-variation form."""
from __future__ import annotations

import numpy as np
from scipy import special
from statsmodels.genmod import families as sm_families

from ..errors import GLMMInputError, first_rows
from .base import AuxParameter, Family


class Gamma(Family):
    """Gamma with shape k = 1/sigma^2 and mean mu; glmmTMB's sigma() is the CV, sigma."""
    name = "Gamma"
    links = ("log", "inverse", "identity")
    default_link = "inverse"
    aux_parameters = (AuxParameter("log_sigma"),)
    _glm_family_class = staticmethod(lambda: sm_families.Gamma)
    reports_sigma_squared = True

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
