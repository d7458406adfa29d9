"""The auxiliary linear predictors: one per auxiliary parameter of the family
(dispersion, zero inflation, the t's df), an intercept unless ``dispformula`` or
``ziformula`` says more, and a fixed part (``dispformula = ~0`` fixes the dispersion).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixed import FixedEffects
from .options import ModelOptions


@dataclass(frozen=True)
class AuxiliaryDesigns:
    fixed: dict       # name -> FixedEffects of its formula, None for an intercept only
    designs: dict     # name -> (n, k) design matrix (k = 0 where the value is fixed)
    offsets: dict     # name -> fixed part of the linear predictor

    def coefficient_names(self, name) -> list:
        if self.designs[name].shape[1] == 0:
            return []
        fe = self.fixed[name]
        return ["(Intercept)"] if fe is None else list(fe.names)


def auxiliary_designs(options: ModelOptions, data, nobs) -> AuxiliaryDesigns:
    fixed = {p.name: None for p in options.family.aux_parameters}
    if options.dispersion_modelled:
        fixed[options.dispersion] = FixedEffects.from_frame(options.disp_rhs, data,
                                                            what="dispersion design")
    if options.zi_rhs is not None:
        fixed[options.zero_inflation] = FixedEffects.from_frame(options.zi_rhs, data, what="zero-inflation design")
    designs = {name: (np.ones((nobs, 1)) if fe is None else fe.X) for name, fe in fixed.items()}
    offsets = {name: 0.0 for name in designs}
    if options.dispersion_fixed:
        designs[options.dispersion] = np.zeros((nobs, 0))
        offsets[options.dispersion] = options.family.fixed_dispersion
    return AuxiliaryDesigns(fixed, designs, offsets)
