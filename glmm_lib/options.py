"""The model's options checked against each other: the family (wrapped for zero
inflation), REML, and the right-hand sides of ``ziformula`` and ``dispformula``.

The first step of building a model: everything here is decided before the data is
read, so a contradiction (REML for a Poisson model, zero inflation of a Gamma
response) is refused before any work is done.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import GLMMInputError
from .families import Family, ZeroInflated, get_family
from .formula import parse_one_sided
from .parameters import Kind


@dataclass(frozen=True)
class ModelOptions:
    family: Family
    REML: bool
    zi_rhs: str | None            # right-hand side of ziformula; None without zero inflation
    disp_rhs: str | None          # right-hand side of dispformula; None or "1" for a constant
    dispersion: str | None        # the auxiliary parameter dispformula models
    zero_inflation: str | None    # the auxiliary parameter ziformula models

    @property
    def dispersion_fixed(self) -> bool:
        """dispformula = ~0: the dispersion fixed at the family's ``fixed_dispersion``."""
        return self.disp_rhs is not None and self.disp_rhs.strip() == "0"

    @property
    def dispersion_modelled(self) -> bool:
        """A dispformula other than ~0 (``~1`` included): its own design, printed as a model."""
        return (self.disp_rhs is not None and self.dispersion is not None
                and not self.dispersion_fixed)


def aux_parameter(family, kind: Kind) -> str | None:
    """Name of the family's auxiliary parameter of this kind (None if there is none)."""
    names = [p.name for p in family.aux_parameters if Kind(p.role) is kind]
    return names[0] if names else None


def dispersion_parameter(family) -> str | None:
    """Name of the auxiliary parameter that dispformula models (None if there is none)."""
    return aux_parameter(family, Kind.DISPERSION)


def resolve_options(family="gaussian", link=None, ziformula=None, dispformula=None,
                    REML=False) -> ModelOptions:
    family = get_family(family, link)
    zi_rhs = parse_one_sided(ziformula, "ziformula")
    if zi_rhs is not None and zi_rhs.strip() != "0":
        if not family.integer_response or family.has_trials:
            raise GLMMInputError(f"zero inflation (ziformula) is available for count families "
                                 f"(poisson, nbinom1, nbinom2), not {family.name}")
        family = ZeroInflated(family)
    else:
        zi_rhs = None
    REML = bool(REML)
    # REML integrates beta out exactly where log f is quadratic in eta: gaussian, identity link
    if REML and not family.quadratic_in_eta:
        raise GLMMInputError("REML is available for gaussian models with the identity link; "
                             f"this model is {family.name}({family.link.name}); use ML")
    disp_rhs = parse_one_sided(dispformula, "dispformula")
    dispersion = dispersion_parameter(family)
    if disp_rhs is not None and disp_rhs.strip() == "0" and family.fixed_dispersion is None:
        raise GLMMInputError(f"dispformula = ~0 (dispersion fixed near zero) is for gaussian "
                             f"models, not {family.name}")
    if disp_rhs is not None and disp_rhs.strip() != "1" and dispersion is None:
        raise GLMMInputError(f"the {family.name} family has no dispersion parameter to model; "
                             "dispformula applies to gaussian, nbinom1, nbinom2, Gamma, beta and t")
    return ModelOptions(family, REML, zi_rhs, disp_rhs, dispersion,
                        aux_parameter(family, Kind.ZERO_INFLATION))
