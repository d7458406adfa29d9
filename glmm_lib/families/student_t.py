"""The Student t family: location, scale and (estimated or fixed) degrees of freedom."""
from __future__ import annotations

import numpy as np
from scipy import special
from statsmodels.genmod import families as sm_families

from ..errors import GLMMInputError
from .base import SHAPE, AuxParameter, Family


class StudentT(Family):
    """Student t with location mu, scale sigma and df nu (estimated unless given);
    glmmTMB's sigma() is the scale."""
    name = "t"
    links = ("identity", "log")
    default_link = "identity"
    _glm_family_class = staticmethod(lambda: sm_families.Gaussian)
    reports_sigma_squared = True

    def __init__(self, link=None, df=None):
        super().__init__(link)
        if df is not None and not df > 0:
            raise GLMMInputError(f"the t family's df must be positive, got {df!r}")
        self.df = df
        self.aux_parameters = (AuxParameter("log_sigma"),) if df is not None else \
            (AuxParameter("log_sigma"), AuxParameter("log_df", np.log(5.0), SHAPE))

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
