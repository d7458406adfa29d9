"""The family interface: what every response distribution tells the rest of the library.

A family knows its link, its log density and the derivatives of that density in the
mean and in its auxiliary parameters (dispersion, on the scale the optimizer sees), how
to simulate from itself, and what glmmTMB's ``sigma()`` reports for it.  It also states
its own properties (``dispersion_parameter``, ``is_normal_linear``,
``has_residual_variance``, ...), so nothing outside this package branches on a
family's name.

Derivatives are with respect to the mean ``mu``; ``eta_derivatives`` turns them into
derivatives in the linear predictor by the chain rule through the link, unless a family
supplies closed forms for its canonical link.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.genmod import families as sm_families

from ..errors import GLMMInputError, first_rows
from ..links import LINKS

DISPERSION, SHAPE, ZERO_INFLATION = "dispersion", "shape", "zero_inflation"


@dataclass(frozen=True)
class AuxParameter:
    """A per-observation parameter of the density besides the mean.

    ``name`` is its internal name ("log_sigma2", "log_phi", "zi"), which prefixes the
    names of its coefficients ("log_phi~(Intercept)"); ``start`` is the optimizer's
    starting value on that scale; ``role`` is what it is: the family's ``DISPERSION``
    (the one ``dispformula`` models and ``sigma()`` reports), another ``SHAPE`` parameter
    (the t family's df) or the ``ZERO_INFLATION`` probability's logit.
    """
    name: str
    start: float = 0.0
    role: str = DISPERSION


@dataclass
class EtaDerivatives:
    """log f and its derivatives in eta (g, w = -d2, w3 = -d3) and in the aux parameters."""
    loglik: np.ndarray
    g: np.ndarray
    w: np.ndarray
    w3: np.ndarray
    aux: dict            # name -> (dl/da, dg/da, dw/da)


class Family:
    """A response distribution with its link; subclasses fill in the density.

    To add a family: a module in this package with a subclass that sets ``name``,
    ``links``, ``default_link`` and ``aux_parameters`` and defines ``kernel``,
    ``mu_derivatives`` (and ``aux_derivatives``), ``variance``, ``simulate`` and
    ``sigma``; override the properties below that differ from the defaults; register
    the class in ``FAMILIES`` (``__init__.py``).
    """
    name = "family"
    links = ("identity",)
    default_link = "identity"
    aux_parameters: tuple = ()
    integer_response = False
    has_trials = False

    #: value of the dispersion parameter when dispformula = ~0 (None: not allowed)
    fixed_dispersion = None
    #: names of the families this one is a boundary case of (Poisson: NB with infinite
    #: size), so a likelihood-ratio test between them is on the boundary
    limit_of: tuple = ()
    #: y = mu + e with a normal e of variance sigma^2 (the gaussian family, any link):
    #: glmmTMB's VarCorr shows sigma as the "Residual" row, and the implied covariance
    #: of the responses adds sigma^2 on the diagonal
    has_residual_variance = False
    #: glmmTMB's summary reports sigma^2 as the "Dispersion estimate" (its classic
    #: dispersion families: gaussian, Gamma, t) rather than sigma as the "Dispersion
    #: parameter"
    reports_sigma_squared = False
    #: emmeans' name for a mean on the response scale: "prob" for binomial families,
    #: "rate" for Poisson ones, "response" otherwise
    response_scale_label = "response"

    # ---- properties the rest of the library asks for -------------------------
    @property
    def dispersion_parameter(self) -> str | None:
        """Name of the auxiliary parameter that ``dispformula`` models (None if none)."""
        return next((p.name for p in self.aux_parameters if p.role == DISPERSION), None)

    @property
    def zero_inflation_parameter(self) -> str | None:
        """Name of the auxiliary parameter that ``ziformula`` models (None if none)."""
        return next((p.name for p in self.aux_parameters if p.role == ZERO_INFLATION), None)

    @property
    def is_normal_linear(self) -> bool:
        """Normal response with the identity link: the marginal likelihood is exact in
        closed form, and REML is available."""
        return False

    @property
    def is_poisson_log(self) -> bool:
        """Poisson counts with the log link: log f depends on a group's random intercept
        only through the group's sums of y and of exp(fixed linear predictor)."""
        return False

    def relation_to(self, other: "Family") -> str | None:
        """Return "same" when ``other`` is the same distribution, "boundary" when this
        family is a limiting case of ``other`` (nested at the boundary of its dispersion),
        None when the two do not nest."""
        if self.name == other.name:
            return "same"
        if other.name in self.limit_of:
            return "boundary"
        return None

    @property
    def quadratic_in_eta(self) -> bool:
        """True if log f is quadratic in eta (so one Newton step finds the inner mode)."""
        return False

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
        """Log density (mass) of each observation."""
        return self.kernel(y, mu, aux, trials) + self.normalizer(y, trials)

    def normalizer(self, y, trials):
        """The part of log f that depends on no parameter (computed once per fit)."""
        return np.zeros_like(y, dtype=float)

    def kernel(self, y, mu, aux, trials):
        """log f minus ``normalizer``."""
        raise NotImplementedError

    def mu_derivatives(self, y, mu, aux, trials, third=True):
        """Return (dl/dmu, d2l/dmu2, d3l/dmu3); the third may be None if not ``third``."""
        raise NotImplementedError

    def aux_derivatives(self, y, mu, aux, trials):
        """Return {name: (dl/da, d2l/da dmu, d3l/da dmu2)}."""
        return {}

    def variance(self, mu, aux, trials):
        raise NotImplementedError

    def mean(self, mu, aux):
        """E(y) from the conditional mean mu (differs from mu for zero inflation)."""
        return mu

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
        """Kernel of log f and its eta-derivatives; third order and aux only if ``need_aux``."""
        mu, m1, m2, m3 = self.link.derivs(eta)
        l1, l2, l3 = self.mu_derivatives(y, mu, aux, trials, third=need_aux)
        g = l1 * m1
        w = -(l2 * m1 * m1 + l1 * m2)
        w3 = -(l3 * m1 * m1 * m1 + 3 * l2 * m1 * m2 + l1 * m3) if need_aux else None
        aux_d = {}
        if need_aux:
            for name, (la, lam, lamm) in self.aux_derivatives(y, mu, aux, trials).items():
                aux_d[name] = (la, lam * m1, -(lamm * m1 * m1 + lam * m2))
        return EtaDerivatives(self.kernel(y, mu, aux, trials), g, w, w3, aux_d)

    def fisher_weights(self, eta, aux, trials):
        """Expected information in eta per observation: (dmu/deta)^2 / Var(y)."""
        mu, m1, _, _ = self.link.derivs(eta)
        return m1 * m1 / self.variance(mu, aux, trials)


def _statsmodels_link(name):
    links = sm_families.links
    return {"identity": links.Identity, "log": links.Log, "logit": links.Logit,
            "probit": links.Probit, "cloglog": links.CLogLog,
            "inverse": links.InversePower}[name]()
