"""What the small-sample inference reads from a fitted linear mixed model.

Satterthwaite and Kenward-Roger degrees of freedom (``ddf``), the ANOVA tables
(``anova``) and their hypotheses (``hypotheses``) see a fit only through
:func:`lmm_parts`, the one place that knows the attributes of a ``gl.glmm``
results object.  Re-pointing this function is all a change of the results
classes needs.

The model is y = X beta + sum_t Z_t u_t + e with Var(u_t) = I (levels) x Sigma_t
(the term's covariance structure at its estimated theta) and Var(e) = sigma^2
diag(1 / w), w the prior weights; sigma^2 is a free parameter unless the fit
fixed it (``dispformula = ~0``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import GLMMInputError

#: The marginal covariance V is held as a dense n x n matrix (and a few more of that size):
#: 5000 rows are about 200 MB each and a Cholesky factor of seconds.  Above it the methods
#: would need sparse algebra, which is not written.
MAX_DENSE_ROWS = 5000


@dataclass
class RandomTermParts:
    """One random term: its design Z (n x levels*s, level-major columns) and covariance."""
    name: str
    Z: np.ndarray
    n_levels: int
    size: int                      # s, coefficients per level
    structure: object              # glmm_lib.covstruct.CovStructure
    theta: np.ndarray              # the structure's parameters at the estimate


@dataclass
class LMMParts:
    X: np.ndarray                  # (n, p) fixed-effects design
    y: np.ndarray                  # response minus offset
    names: list                    # coefficient names, as R prints them
    REML: bool
    terms: list                    # RandomTermParts
    sigma2: float                  # residual variance
    residual_scale: np.ndarray     # Var(e_i) = sigma2 * residual_scale_i (1 / prior weight)
    sigma2_free: bool              # False when the fit fixed sigma (dispformula = ~0)
    fixed_terms: dict              # formula term label -> column indices of X, in formula order
    term_factors: dict             # formula term label -> list of (variable expression, is_factor)
    data: pd.DataFrame             # the model frame the design was built from

    @property
    def nobs(self):
        return self.X.shape[0]


def lmm_parts(fit) -> LMMParts:
    """The pieces of a gaussian identity-link fit of ``gl.glmm`` (REML or ML)."""
    model = fit.model
    family = model.family
    if not family.quadratic_in_eta:
        raise GLMMInputError(
            "degrees of freedom by Satterthwaite or Kenward-Roger are for linear mixed models "
            f"(gaussian family, identity link); this fit is {family.name}({family.link.name}): "
            "use ddf='asymptotic'")
    n = model.nobs
    if n > MAX_DENSE_ROWS:
        raise GLMMInputError(
            f"the model has {n} rows; Satterthwaite and Kenward-Roger df are computed with dense "
            f"n x n matrices here, limited to {MAX_DENSE_ROWS} rows. With this much data the "
            "asymptotic (z) tests are accurate: use ddf='asymptotic'")
    dispersion = model.dispersion_parameter(family)
    disp_design = model.aux_designs[dispersion]
    n_disp = disp_design.shape[1]
    if n_disp > 1 or (n_disp == 1 and np.ptp(disp_design) > 0):
        raise GLMMInputError("Satterthwaite and Kenward-Roger df need a constant residual "
                             "variance (dispformula ~1 or ~0); this fit models the dispersion")
    re = model.random_effects
    terms = []
    for term, sl in zip(re.terms, re.theta_slices):
        s, levels = term.size, term.n_levels
        Z = np.zeros((n, levels * s))
        columns = term.codes[:, None] * s + np.arange(s)[None, :]
        np.put_along_axis(Z, columns, term.design.X, axis=1)
        terms.append(RandomTermParts(f"{term.group_name}", Z, levels, s, term.structure,
                                     np.asarray(fit.theta[sl], float)))
    fixed = model.fixed
    index = {name: i for i, name in enumerate(fixed.names)}
    fixed_terms, term_factors = {}, {}
    for term in fixed.spec.terms:
        label = str(term)
        fixed_terms[label] = [index[c] for c in fixed.terms[label]]
        term_factors[label] = [
            (factor.expr, factor.expr in fixed.source.columns
             and isinstance(fixed.source[factor.expr].dtype, pd.CategoricalDtype))
            for factor in term.factors if factor.expr != "1"]
    return LMMParts(
        X=np.asarray(model.X, float), y=np.asarray(model.y - model.offset, float),
        names=list(fixed.names), REML=bool(fit.REML),
        terms=terms, sigma2=float(fit.sigma) ** 2,
        residual_scale=1.0 / np.asarray(model.weights, float), sigma2_free=n_disp == 1,
        fixed_terms=fixed_terms, term_factors=term_factors, data=fixed.source)
