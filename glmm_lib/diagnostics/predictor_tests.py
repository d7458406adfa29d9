"""Do the residuals depend on a predictor?  As DHARMa's ``testQuantiles`` (along
a continuous predictor, by default the fitted values) and ``testCategorical``
(within the levels of a factor).

Quantile test: DHARMa fits penalised smooths with qgam; here each quantile is
an unpenalised quantile regression (statsmodels ``QuantReg``) on a cubic
B-spline basis of the rank-transformed prediction, with a Wald test of the
level (intercept = nominal quantile) and one of the shape (spline coefficients
= 0), combined as DHARMa combines its two (Benjamini-Hochberg, smallest
adjusted p), and the quantiles combined the same way.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.interpolate import BSpline

from ..errors import GLMMInputError
from ..multiplicity import adjust_p_values, smallest_adjusted
from .htest import TestResult
from .residuals import SimulatedResiduals, check_residuals

__all__ = ["test_quantiles", "test_categorical", "rank_transform"]


def rank_transform(x) -> np.ndarray:
    """Ranks (ties averaged) divided by the largest rank, in (0, 1] (DHARMa's
    ``rankTransform``)."""
    r = stats.rankdata(np.asarray(x, dtype=float), method="average")
    return r / r.max()



def _spline_basis(x, knots, degree):
    """Cubic (or lower) B-spline columns without the first (the intercept is separate)."""
    basis = BSpline.design_matrix(np.clip(x, knots[0], knots[-1]), knots, degree).toarray()
    return basis[:, 1:]


def _quantile_design(x, df):
    """Knots and degree of a B-spline basis with ``df`` columns besides the intercept."""
    xs = np.unique(x)
    df = int(min(df, xs.size - 1))
    if df < 1:
        return None
    degree = min(3, df)
    n_inner = df - degree
    inner = np.quantile(x, np.linspace(0, 1, n_inner + 2)[1:-1]) if n_inner > 0 else np.empty(0)
    lo, hi = float(xs[0]), float(xs[-1])
    knots = np.concatenate([np.repeat(lo, degree + 1), inner, np.repeat(hi, degree + 1)])
    return knots, degree


def test_quantiles(res: SimulatedResiduals, predictor=None, quantiles=(0.25, 0.5, 0.75),
                   df: int = 4, rank: bool = True, adjust: str = "BH",
                   grid_size: int = 200) -> TestResult:
    """Do the quantiles of the residuals stay at their nominal values along the prediction?

    For each quantile q, a quantile regression (statsmodels ``QuantReg``) of
    ``residual - q`` on an intercept and a cubic B-spline basis with ``df``
    columns of the (rank-transformed) prediction: a t-test of the intercept
    (the level, columns centred) and a Wald chi-square test of the spline
    coefficients (the shape), combined by the smallest Benjamini-Hochberg
    adjusted p-value as DHARMa combines its qgam intercept and smooth tests;
    the quantiles' p-values are combined the same way into ``p_value``
    (``adjust="holm"``: the smallest p times their number instead).
    The statistic is the largest distance of a fitted quantile curve from its
    nominal value over the range of the predictor.

    ``details`` holds ``p_values`` (per quantile), ``curves`` (a DataFrame of
    the fitted quantile curves and their standard errors on a grid, for
    plotting), ``x`` (the predictor used) and ``quantiles``.
    """
    from statsmodels.regression.quantile_regression import QuantReg

    res = check_residuals(res)
    if str(adjust).lower() not in ("bh", "holm"):
        raise GLMMInputError(f"adjust must be 'BH' or 'holm', not {adjust!r}")

    def combine(p_values):
        return smallest_adjusted(p_values, adjust)

    x = res.fitted if predictor is None else np.asarray(predictor, dtype=float).ravel()
    if x.size != res.n_obs:
        raise GLMMInputError(f"predictor has {x.size} values for {res.n_obs} residuals")
    if not np.all(np.isfinite(x)):
        raise GLMMInputError("predictor has non-finite values")
    if rank:
        x = rank_transform(x)
    quantiles = tuple(float(q) for q in quantiles)
    if not all(0 < q < 1 for q in quantiles):
        raise GLMMInputError(f"quantiles must lie strictly between 0 and 1: {quantiles}")
    r = res.scaled_residuals
    design = _quantile_design(x, df)
    grid = np.linspace(x.min(), x.max(), grid_size)
    if design is not None:
        knots, degree = design
        B = _spline_basis(x, knots, degree)
        means = B.mean(axis=0)
        X = np.column_stack([np.ones_like(x), B - means])
        G = np.column_stack([np.ones_like(grid), _spline_basis(grid, knots, degree) - means])
    else:
        X, G = np.ones((x.size, 1)), np.ones((grid.size, 1))
    curves = {"x": grid}
    pvals, level_p, shape_p, messages = [], [], [], []
    for q in quantiles:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # IRLS to 1e-5 on residuals in [0, 1]: tighter tolerances can oscillate
                # for thousands of iterations without changing the p-values
                fit = QuantReg(r - q, X).fit(q=q, p_tol=1e-5, max_iter=500)
            beta = np.asarray(fit.params)
            cov = np.asarray(fit.cov_params())
            if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))):
                raise np.linalg.LinAlgError("non-finite quantile regression")
            se0 = np.sqrt(cov[0, 0])
            p_level = float(2 * stats.t.sf(abs(beta[0]) / se0, df=max(x.size - X.shape[1], 1))) \
                if se0 > 0 else (1.0 if beta[0] == 0 else 0.0)
            if X.shape[1] > 1:
                b, V = beta[1:], cov[1:, 1:]
                wald = float(b @ np.linalg.pinv(V) @ b)
                p_shape = float(stats.chi2.sf(wald, df=b.size))
            else:
                p_shape = float("nan")
            p_q = combine([p_level, p_shape])
            fitted_curve = G @ beta + q
            se_curve = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", G, cov, G), 0))
        except Exception as err:  # a degenerate regression: reported, left out
            messages.append(f"quantile {q}: quantile regression failed ({err})")
            p_level = p_shape = p_q = float("nan")
            fitted_curve = se_curve = np.full(grid.size, np.nan)
        pvals.append(p_q)
        level_p.append(p_level)
        shape_p.append(p_shape)
        curves[f"q{q:g}"] = fitted_curve
        curves[f"se{q:g}"] = se_curve
    combined = combine(pvals)
    deviation = max((np.nanmax(np.abs(curves[f"q{q:g}"] - q)) for q in quantiles
                     if np.isfinite(curves[f"q{q:g}"]).any()), default=float("nan"))
    return TestResult(float(deviation), combined,
                      "Test for location of quantiles via quantile regression on a B-spline "
                      "basis", "both", "max |quantile curve - nominal|",
                      estimate={f"p(q={q:g})": p for q, p in zip(quantiles, pvals)},
                      details={"quantiles": quantiles, "p_values": np.array(pvals),
                               "p_level": np.array(level_p), "p_shape": np.array(shape_p),
                               "curves": pd.DataFrame(curves), "x": x, "rank": rank,
                               "messages": messages})


def test_categorical(res: SimulatedResiduals, groups) -> TestResult:
    """Residuals within the levels of a factor (DHARMa's ``testCategorical``):
    a KS test of uniformity in each level (Benjamini-Hochberg adjusted) and a
    Levene test of equal variances between levels (the ``p_value``)."""
    res = check_residuals(res)
    if not isinstance(groups, (pd.Series, pd.Categorical)):
        groups = np.asarray(groups, dtype=object)
    g = pd.Series(pd.Categorical(groups))
    if len(g) != res.n_obs:
        raise GLMMInputError(f"groups has {len(g)} values for {res.n_obs} residuals")
    g = g.cat.remove_unused_categories()
    r = res.scaled_residuals
    levels = list(g.cat.categories)
    codes = g.cat.codes.to_numpy()
    by = [r[codes == i] for i in range(len(levels))]
    ks = np.array([stats.kstest(v, "uniform").pvalue if v.size else np.nan for v in by])
    ks_adj = adjust_p_values(ks, "BH")
    usable = [v for v in by if v.size >= 2]
    if len(usable) >= 2:
        lev = stats.levene(*usable)
        stat, p = float(lev.statistic), float(lev.pvalue)
    else:
        stat, p = float("nan"), float("nan")
    return TestResult(stat, p, "Levene test for homogeneity of variance", "two.sided", "F",
                      parameter={"groups": len(usable)},
                      details={"levels": levels, "ks_p_values": ks, "ks_adjusted": ks_adj,
                               "residuals_by_level": by})
