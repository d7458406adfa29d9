"""The covariance of a subject's observations that a fitted model implies.

A lesson on repeated measures compares covariance structures by the
correlation between one subject's observations that each fit implies; this
module computes that matrix from a fit's random-effect terms.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GLMMInputError

__all__ = ["implied_covariance"]


def implied_covariance(fit, rows) -> pd.DataFrame:
    """Covariance matrix of the observations in ``rows`` (positions in the fitted
    data) that the fitted model implies: ``Z G Z' + R``, the random effects' part
    summed over all terms plus, for a family with a residual variance (gaussian),
    sigma^2 on the diagonal. For other families only the link-scale
    random-effect part is returned. Rows and columns are labelled by the
    positions."""
    rows = np.asarray(rows, dtype=np.int64)
    model = fit.model
    if rows.ndim != 1 or len(rows) == 0 or rows.min() < 0 or rows.max() >= model.nobs:
        raise GLMMInputError(f"rows must be positions 0..{model.nobs - 1} of the fitted data")
    re = model.random_effects
    cov = np.zeros((len(rows), len(rows)))
    for term, lam in zip(re.terms, re.factors(fit.theta)):
        sigma = lam @ lam.T
        z = term.design.X[rows]                         # (m, s)
        codes = term.codes[rows]
        same = codes[:, None] == codes[None, :]
        cov += same * (z @ sigma @ z.T)
    if model.family.has_residual_variance:
        cov += np.eye(len(rows)) * fit.sigma**2
    return pd.DataFrame(cov, index=rows, columns=rows)
