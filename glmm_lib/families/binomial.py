"""The binomial family: successes out of a known number of trials."""
from __future__ import annotations

import numpy as np
from scipy import special
from statsmodels.genmod import families as sm_families

from ..errors import GLMMInputError, first_rows
from .base import EtaDerivatives, Family


class Binomial(Family):
    """Binomial: y successes out of ``trials`` (1 for a 0/1 response)."""
    name = "binomial"
    links = ("logit", "probit", "cloglog", "log")
    _glm_family_class = staticmethod(lambda: sm_families.Binomial)
    default_link = "logit"
    integer_response = True
    has_trials = True
    limit_of = ("betabinomial",)
    response_scale_label = "prob"

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
        # log(1 + e^eta) written out: numpy's logaddexp takes five times as long
        kernel = y * eta - trials * (np.maximum(eta, 0) + np.log1p(np.exp(-np.abs(eta))))
        return EtaDerivatives(kernel, y - trials * mu, v, v * (1 - 2 * mu), {})

    def variance(self, mu, aux, trials):
        return trials * mu * (1 - mu)

    def fisher_weights(self, eta, aux, trials):
        """Expected information in eta for y successes of n: n (dmu/deta)^2 / (mu (1 - mu))."""
        mu, m1, _, _ = self.link.derivs(eta)
        return trials * m1 * m1 / (mu * (1 - mu))

    def simulate(self, mu, aux, trials, rng):
        return rng.binomial(trials.astype(np.int64), mu).astype(float)
