"""Denominator degrees of freedom for tests on the fixed effects of a linear mixed model.

``ddf`` (lmerTest's names; emmeans' lower-case spellings accepted):
  "Satterthwaite"  Satterthwaite's approximation (lmerTest), REML or ML fits;
  "Kenward-Roger"  Kenward and Roger's adjusted covariance, scaled F and df (pbkrtest),
                   REML fits; the standard errors are those of the adjusted covariance;
  "residual"       n - rank(X), as a linear model's residual df;
  "asymptotic"     infinite df: z and chi-square/q tests.
All four use the GLS covariance of beta at the estimated variances (lme4's vcov), which
under REML is not glmmTMB's (that adds the delta-method term; see ``reml.py``).

:func:`linear_inference` is the entry point for other modules (emmeans, contrasts): for any
L it gives the covariance, each row's df, and the joint F test.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import GLMMInputError
from .kenward_roger import KenwardRoger
from .lmm_algebra import LMMAlgebra
from .lmm_parts import lmm_parts
from .satterthwaite import Satterthwaite

METHODS = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger",
           "residual": "residual", "asymptotic": "asymptotic"}

# One algebra (V^-1 and its derivatives) and one object per method for each fit: emmeans
# asks for many contrasts of the same fit.  Weak keys: the cache dies with the fit.
_CACHE = weakref.WeakKeyDictionary()


def method_name(ddf) -> str:
    key = str(ddf).strip().lower().replace("_", "-").replace(" ", "-")
    if key == "kr":
        key = "kenward-roger"
    if key not in METHODS:
        raise GLMMInputError(f"ddf must be one of {', '.join(METHODS.values())}, got {ddf!r}")
    return METHODS[key]


class _Plain:
    """Phi with a fixed df for every test: the residual and asymptotic methods."""

    def __init__(self, Phi, df):
        self.covariance = Phi
        self.df = df

    def row_df(self, L):
        return np.full(np.atleast_2d(L).shape[0], self.df)

    def f_test(self, L, beta):
        L = np.atleast_2d(L)
        q = int(np.linalg.matrix_rank(L))
        Lb = L @ beta
        F = float(Lb @ np.linalg.pinv(L @ self.covariance @ L.T) @ Lb) / q
        return F, q, self.df


def method_object(fit, method):
    """(LMMAlgebra, the method's object) for a fit, made once."""
    entry = _CACHE.setdefault(fit, {})
    if method not in entry:
        if "algebra" not in entry:
            entry["algebra"] = LMMAlgebra(lmm_parts(fit))
        algebra = entry["algebra"]
        if method == "Satterthwaite":
            entry[method] = Satterthwaite(algebra)
        elif method == "Kenward-Roger":
            entry[method] = KenwardRoger(algebra)
        elif method == "residual":
            X = algebra.parts.X
            entry[method] = _Plain(algebra.Phi, float(X.shape[0] - np.linalg.matrix_rank(X)))
        else:
            entry[method] = _Plain(algebra.Phi, np.inf)
    return entry["algebra"], entry[method]


@dataclass
class LinearInference:
    """Inference on the rows of L (each a contrast l beta) for one fit and df method."""
    method: str
    L: np.ndarray
    beta: np.ndarray
    covariance: np.ndarray       # of beta: Phi, or KR's adjusted Phi_A
    estimate: np.ndarray         # L beta
    se: np.ndarray               # per row, from ``covariance``
    df: np.ndarray               # per row
    sigma2: float
    tests: object                # the method's object (Satterthwaite, KenwardRoger, ...)

    @property
    def t(self):
        return self.estimate / self.se

    @property
    def p_t(self):
        return 2 * t_sf(np.abs(self.t), self.df)

    def joint_test(self) -> dict:
        """F test of L beta = 0 (all rows together; a rank-deficient L is reduced to a basis
        of its rows): F value, NumDF, DenDF, Pr(>F); KR's F is the scaled one."""
        F, q, den = self.tests.f_test(self.L, self.beta)[:3]
        return {"F value": F, "NumDF": q, "DenDF": den, "Pr(>F)": f_sf(F, q, den)}


def t_sf(t, df):
    df = np.broadcast_to(np.asarray(df, float), np.shape(t))
    return np.where(np.isinf(df), stats.norm.sf(t), stats.t.sf(t, np.where(np.isinf(df), 1, df)))


def f_sf(F, num_df, den_df):
    if np.isinf(den_df):
        return float(stats.chi2.sf(F * num_df, num_df))
    return float(stats.f.sf(F, num_df, den_df))


def linear_inference(fit, L, ddf="Satterthwaite", mean_square=False) -> LinearInference:
    """Estimates, SEs and df of the rows of L (each a contrast of the fixed effects) and the
    F test of L beta = 0, by the ``ddf`` method.  ``L``: array (rows x coefficients) or a
    DataFrame whose columns are coefficient names."""
    method = method_name(ddf)
    algebra, obj = method_object(fit, method)
    L = _as_matrix(L, algebra.parts.names)
    cov = obj.covariance
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, cov, L))
    return LinearInference(method, L, algebra.beta, cov, L @ algebra.beta, se, obj.row_df(L),
                           algebra.parts.sigma2, obj)


def f_table_row(fit, L, ddf):
    """One row of lmerTest's ANOVA table for the hypothesis L beta = 0: Sum Sq, Mean Sq, NumDF,
    DenDF, F value, Pr(>F).  The mean square is the unscaled F times sigma^2."""
    method = method_name(ddf)
    algebra, obj = method_object(fit, method)
    L = _as_matrix(L, algebra.parts.names)
    result = obj.f_test(L, algebra.beta)
    F, q, den = result[:3]
    unscaled = result[3] if len(result) > 3 else F
    mean_sq = unscaled * algebra.parts.sigma2
    return {"Sum Sq": mean_sq * q, "Mean Sq": mean_sq, "NumDF": q, "DenDF": den,
            "F value": F, "Pr(>F)": f_sf(F, q, den)}


def coef_table_ddf(fit, ddf="Satterthwaite") -> pd.DataFrame:
    """lmerTest's coefficient table: Estimate, Std. Error, df, t value, Pr(>|t|)."""
    names = list(fit.params.index)
    res = linear_inference(fit, np.eye(len(names)), ddf)
    table = pd.DataFrame({"Estimate": res.estimate, "Std. Error": res.se, "df": res.df,
                          "t value": res.t, "Pr(>|t|)": res.p_t}, index=names)
    table.attrs["ddf"] = res.method
    return table


def _as_matrix(L, names):
    if isinstance(L, pd.DataFrame):
        unknown = [c for c in L.columns if c not in names]
        if unknown:
            raise GLMMInputError(f"L has columns that are not coefficients: {unknown}")
        L = L.reindex(columns=names, fill_value=0.0).to_numpy(dtype=float)
    L = np.atleast_2d(np.asarray(L, float))
    if L.ndim != 2 or L.shape[1] != len(names) or L.shape[0] == 0:
        raise GLMMInputError(f"L must have one column per fixed-effect coefficient "
                             f"({len(names)}) and at least one row; got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise GLMMInputError("L has missing or infinite entries")
    return L
