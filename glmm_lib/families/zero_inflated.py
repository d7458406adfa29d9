"""Zero inflation: any count family mixed with structural zeros."""
from __future__ import annotations

import numpy as np
from scipy import special

from .base import ZERO_INFLATION, AuxParameter, EtaDerivatives, Family


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
            AuxParameter("zi", -1.0, ZERO_INFLATION),)
        # what the summary, emmeans and model comparison say follows the count family
        self.limit_of = base.limit_of
        self.reports_sigma_squared = base.reports_sigma_squared
        self.response_scale_label = base.response_scale_label

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
