"""The beta family in mean-precision form."""
from __future__ import annotations

import numpy as np
from scipy import special
from statsmodels.genmod import families as sm_families

from ..errors import GLMMInputError, first_rows
from .base import AuxParameter, Family
from .special_functions import tetragamma, trigamma


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
        l2 = -phi**2 * (trigamma(a) + trigamma(b))
        l3 = phi**3 * (tetragamma(b) - tetragamma(a)) if third else None
        return l1, l2, l3

    def aux_derivatives(self, y, mu, aux, trials):
        phi = np.exp(aux["log_phi"])
        a, b = mu * phi, (1 - mu) * phi
        logit_y = np.log(y) - np.log1p(-y)
        t1a, t1b = trigamma(a), trigamma(b)
        l_phi = (special.digamma(phi) - mu * special.digamma(a) - (1 - mu) * special.digamma(b)
                 + mu * np.log(y) + (1 - mu) * np.log1p(-y))
        dl1 = (special.digamma(b) - special.digamma(a) + logit_y) + phi * ((1 - mu) * t1b - mu * t1a)
        dl2 = -2 * phi * (t1a + t1b) - phi**2 * (mu * tetragamma(a) + (1 - mu) * tetragamma(b))
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
