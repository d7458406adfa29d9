"""Response families: one module a family (or a close group), the shared interface in
``base.py``.  ``get_family`` turns a name such as "nbinom1" into a family object;
``FAMILIES`` maps the accepted names to the classes.  A new family goes in its own module
here, subclassing ``Family``, and is registered in ``FAMILIES``.
"""
from __future__ import annotations

from ..errors import GLMMInputError
from .ascending_sums import AscendingSums
from .base import AuxParameter, EtaDerivatives, Family
from .beta import Beta
from .binomial import Binomial
from .counts import CountFamily, Poisson
from .gamma import Gamma
from .gaussian import Gaussian
from .negative_binomial import NegativeBinomial1, NegativeBinomial2
from .student_t import StudentT
from .zero_inflated import ZeroInflated

__all__ = ["AscendingSums", "AuxParameter", "Beta", "Binomial", "CountFamily", "EtaDerivatives",
           "FAMILIES", "Family", "Gamma", "Gaussian", "NegativeBinomial1", "NegativeBinomial2",
           "Poisson", "StudentT", "ZeroInflated", "get_family"]

FAMILIES = {
    "gaussian": Gaussian,
    "poisson": Poisson,
    "binomial": Binomial,
    "nbinom1": NegativeBinomial1,
    "nbinom2": NegativeBinomial2,
    "gamma": Gamma,
    "beta": Beta,
    "beta_family": Beta,
    "t": StudentT,
    "t_family": StudentT,
    "student_t": StudentT,
}


def get_family(family, link=None) -> Family:
    """Family object from a name (``"nbinom1"``) or pass through an instance."""
    if isinstance(family, Family):
        if link is not None and link != family.link.name:
            raise GLMMInputError(f"link={link!r} conflicts with the family object {family!r}; "
                                 f"give the link to the family: {type(family).__name__}(link={link!r})")
        return family
    if isinstance(family, type) and issubclass(family, Family):
        return family(link)
    key = str(family).lower()
    if key not in FAMILIES:
        raise GLMMInputError(
            f"unknown family {family!r}; available families: "
            f"{', '.join(sorted(set(c.name for c in FAMILIES.values())))}")
    return FAMILIES[key](link)
