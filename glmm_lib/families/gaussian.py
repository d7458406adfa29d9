"""The normal (gaussian) family."""
from __future__ import annotations

import numpy as np
from statsmodels.genmod import families as sm_families

from .base import AuxParameter, Family


class Gaussian(Family):
    """Normal with variance sigma^2; the auxiliary parameter is log(sigma^2), the scale on
    which glmmTMB reports a gaussian dispersion model."""
    name = "gaussian"
    links = ("identity", "log", "inverse")
    default_link = "identity"
    aux_parameters = (AuxParameter("log_sigma2"),)
    _glm_family_class = staticmethod(lambda: sm_families.Gaussian)
    fixed_dispersion = 0.5 * np.log(np.finfo(float).eps)   # dispformula = ~0, as glmmTMB
    limit_of = ("t",)
    has_residual_variance = True
    reports_sigma_squared = True

    @property
    def quadratic_in_eta(self):
        return self.link.name == "identity"

    @property
    def is_normal_linear(self):
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
