"""Families of whole counts: the shared response check and -log(y!) normalizer, and Poisson."""
from __future__ import annotations

import numpy as np
from scipy import special

from ..errors import GLMMInputError, first_rows
from .base import EtaDerivatives, Family


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


class Poisson(CountFamily):
    """Poisson counts: Var(y) = mu."""
    name = "poisson"
    links = ("log", "identity")
    default_link = "log"
    limit_of = ("nbinom1", "nbinom2", "genpois", "compois")
    response_scale_label = "rate"

    @property
    def is_poisson_log(self):
        return self.link.name == "log"

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
