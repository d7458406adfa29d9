"""Responses simulated from a model at given parameters: what a fit's ``simulate`` and a
specified model (power analysis) both draw, so the same seed gives the same numbers."""
from __future__ import annotations

import numpy as np


def simulate_responses(model, family, fixed_eta, aux, nsim=1, seed=None, A=None, eta=None):
    """Responses (nobs x nsim).  With ``A`` (the rows of Z Lambda) the random effects are
    drawn anew for each simulation; with ``eta`` every simulation uses that linear
    predictor (the random effects at their conditional modes)."""
    rng = np.random.default_rng(seed)
    re = model.random_effects
    out = np.empty((model.nobs, nsim))
    for k in range(nsim):
        if eta is not None:
            current = eta
        elif re.q:
            current = fixed_eta + re.times(A, rng.standard_normal(re.q))
        else:
            current = fixed_eta
        out[:, k] = family.simulate(family.link.inverse(current), aux, model.trials, rng)
    return out
