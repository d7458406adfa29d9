"""Estimated marginal means: equal-weight averages of the reference grid's
predictions, as R's ``emmeans()`` makes them.

Marginal means
    Rows of the grid are averaged with equal weights over the factors not in
    ``specs``/``by``, on the link scale (linear functions ``L``, estimate
    ``L b + offset``, variance ``L V L'`` with V the fixed-effects covariance).
Response scale
    The estimate is the inverse link of the link-scale estimate, the SE is the
    delta-method SE ``|d mu / d eta| * SE(eta)``, and the interval is the
    link-scale interval back-transformed (so it is not symmetric).
Degrees of freedom
    Linear mixed models (gaussian family, identity link) get small-sample
    inference as emmeans gives it for lme4 fits (its ``lmer.df``), from
    :func:`glmm_lib.ddf.linear_inference`: ``df="kenward-roger"`` (the default for
    REML fits) uses each mean's Kenward-Roger df and the adjusted covariance of the
    fixed effects, ``"satterthwaite"`` (the default for ML fits, which KR does not
    cover) each mean's Satterthwaite df, ``"residual"`` n - rank(X) and
    ``"asymptotic"`` z tests; all four with lme4's covariance of the fixed effects.
    Comparisons of the means then take each contrast's own df.  When the model is
    beyond these methods (a dispersion model; too many rows), the default falls back
    to ``fit.df_resid``.  For every other family emmeans 1.8.4 uses
    ``df.residual(fit)`` for glmmTMB fits (nobs minus the number of estimated
    parameters, random-effect variances and dispersion included) and builds t-based
    intervals and tests with it; that is the default here (``fit.df_resid``), and
    ``df="asymptotic"`` (or ``np.inf``) gives the z-based intervals and tests
    (columns are then named ``asymp.LCL``, ``asymp.UCL``, ``z.ratio`` as emmeans
    names them).  A number for ``df`` is used for every mean and comparison.

Column names follow emmeans: the estimate is ``emmean`` on the link scale (and
for identity links), on the response scale ``prob`` (binomial families),
``rate`` (Poisson families) or ``response`` (others); ``SE``, ``df``,
``lower.CL``/``upper.CL``.  The name used is the result's ``estimate``.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from .. import ddf as ddf_methods
from ..errors import GLMMInputError
from ..multiplicity import critical_value
from ..tables import TableResult
from .grid import ReferenceGrid, reference_grid

__all__ = ["EMMeans", "emmeans", "summarize_means", "ci_names", "stat_name"]


# emmeans' spelling of the df methods, printed in its note "Degrees-of-freedom method: ..."
_METHOD_NOTE = {"Kenward-Roger": "kenward-roger", "Satterthwaite": "satterthwaite",
                "residual": "residual", "asymptotic": "asymptotic"}


def t_based(df) -> bool:
    """Whether intervals and tests are t-based: every df finite (one number or one per row)."""
    return bool(np.all(np.isfinite(df)))


def ci_names(df):
    """Interval column names: t-based (finite df) or asymptotic, as emmeans names them."""
    return ("lower.CL", "upper.CL") if t_based(df) else ("asymp.LCL", "asymp.UCL")


def stat_name(df):
    return "t.ratio" if t_based(df) else "z.ratio"


@dataclass(frozen=True, eq=False, repr=False)
class EMMeans(TableResult):
    """Estimated marginal means of a fit, with what comparisons of them need.

    levels : the ``specs`` and ``by`` columns alone.
    L, offset : each mean is ``L @ beta + offset`` on the link scale.
    beta, vcov : the fixed effects and their covariance.
    df, level : degrees of freedom (``np.inf``: z-based), a number or one per mean,
        and the confidence level.
    link, type : the model's link; ``"response"`` or ``"link"`` scale.
    averaged_over : the grid's factors the means average over.
    grid : the :class:`~glmm_lib.emmeans.grid.ReferenceGrid`.
    notes : printed under the table, as emmeans prints them.
    df_method : the ddf method of :mod:`glmm_lib.ddf` (``"Kenward-Roger"``,
        ``"Satterthwaite"``, ...) that made ``df`` and ``vcov``, None when ``df`` was
        a number; fit : the fit, from which comparisons take their own df.

    ``table`` is the tidy table made from these (one row per mean): the
    ``specs`` and ``by`` columns, the estimate (column named ``estimate``),
    ``SE``, ``df`` and the interval.
    """
    levels: pd.DataFrame
    specs: tuple
    by: tuple
    L: np.ndarray
    offset: np.ndarray
    beta: np.ndarray
    vcov: np.ndarray
    df: float
    level: float
    link: object
    type: str
    estimate: str
    averaged_over: tuple
    grid: ReferenceGrid
    notes: tuple
    df_method: str | None = None
    fit: object = None

    @property
    def row_df(self) -> np.ndarray:
        """The df of each mean."""
        return np.broadcast_to(np.asarray(self.df, dtype=float), (len(self.levels),)).copy()

    def contrast_df(self, coefficients) -> np.ndarray:
        """The df of each contrast ``coefficients @ means`` (rows of coefficients): its own
        Satterthwaite or Kenward-Roger df when the means have them, else the means' df."""
        C = np.atleast_2d(np.asarray(coefficients, dtype=float))
        if self.df_method in ("Kenward-Roger", "Satterthwaite"):
            return ddf_methods.linear_inference(self.fit, C @ self.L, self.df_method).df
        return np.full(C.shape[0], float(np.max(self.row_df)))

    @property
    def table(self) -> pd.DataFrame:
        """The table of means (made anew on each access: changing it changes nothing here)."""
        return summarize_means(self)

    @property
    def eta(self) -> np.ndarray:
        """The means on the link scale."""
        return self.L @ self.beta + self.offset

    @property
    def vcov_eta(self) -> np.ndarray:
        """Covariance of the means on the link scale."""
        return self.L @ self.vcov @ self.L.T

    def groups(self):
        """``(by values, row indices)`` of each ``by`` group (one group when there is no by)."""
        if not self.by:
            return [((), np.arange(len(self.levels)))]
        keys = list(zip(*[self.levels[v].tolist() for v in self.by]))
        groups = {}
        for i, key in enumerate(keys):
            groups.setdefault(key, []).append(i)
        return [(key, np.array(rows)) for key, rows in groups.items()]

    def reordered(self, order) -> "EMMeans":
        """The same means with their rows in ``order``."""
        order = np.asarray(order)
        return replace(self, levels=self.levels.iloc[order].reset_index(drop=True),
                       L=self.L[order], offset=self.offset[order])


def _parse_specs(specs, by):
    """'trt', ['a', 'b'], '~ a*b', '~ a | b', 'pairwise ~ a' -> (specs, by)."""
    if isinstance(specs, str):
        text = specs.split("~", 1)[1] if "~" in specs else specs
        if "|" in text:
            text, by_text = text.split("|", 1)
            by_from_spec = [v for v in re.split(r"[*+:\s]+", by_text) if v]
        else:
            by_from_spec = []
        spec_list = [v for v in re.split(r"[*+:\s]+", text) if v]
    elif isinstance(specs, (list, tuple)):
        spec_list, by_from_spec = [str(s) for s in specs], []
    else:
        raise GLMMInputError("specs must be a factor name, a list of names or a formula "
                             "such as '~ extract | gen'")
    if by is None:
        by_list = by_from_spec
    elif isinstance(by, str):
        by_list = by_from_spec + [by]
    else:
        by_list = by_from_spec + list(by)
    if not spec_list:
        raise GLMMInputError("specs names no variable")
    dup = set(spec_list) & set(by_list)
    if dup:
        raise GLMMInputError(f"{', '.join(sorted(dup))} cannot be both in specs and in by")
    return spec_list, by_list


def emmeans(fit, specs="trt", by=None, type="response", level=0.95, offset=None, df=None,
            at=None) -> EMMeans:
    """Estimated marginal means of a fitted GLMM, as R's ``emmeans()``.

    Parameters
    ----------
    fit : GLMMResults
    specs : str or list
        The factor(s) whose means are wanted: ``"trt"``, ``["extract", "gen"]`` or a
        formula string ``"~ extract * gen"`` / ``"~ extract | gen"``.
    by : str or list, optional
        Factor(s) defining groups; means (and later comparisons) are within each group.
    type : "response" or "link"
        Scale of the reported means (see the module notes).
    level : float
        Confidence level of the intervals.
    offset : float, optional
        Offset on the link scale used for every mean instead of the grid's (see
        :mod:`glmm_lib.emmeans.grid`); ``offset=0`` gives rates per unit of
        exposure for a log link.
    df : str or float, optional
        Degrees of freedom for intervals and tests (see the module notes):
        ``"kenward-roger"``, ``"satterthwaite"``, ``"residual"`` (linear mixed models),
        ``"asymptotic"`` (z-based; also ``np.inf``) or a number.  Default: Kenward-Roger
        for REML fits of linear mixed models, Satterthwaite for their ML fits,
        ``fit.df_resid`` (what emmeans 1.8.4 uses for glmmTMB fits) for other families.
    at : dict, optional
        Values for covariates (or a subset of levels of factors) in the grid.

    Returns
    -------
    EMMeans: it prints (and displays in a notebook) as the table of means with
    emmeans' notes; ``.table`` is the DataFrame, ``.estimate`` the name of its
    estimate column.
    """
    if type not in ("response", "link"):
        raise GLMMInputError("type must be 'response' or 'link'")
    if not 0 < level < 1:
        raise GLMMInputError("level must be between 0 and 1")
    spec_list, by_list = _parse_specs(specs, by)
    grid = reference_grid(fit, at=at, offset=offset)
    wanted = spec_list + by_list
    missing = [v for v in wanted if v not in grid.frame.columns]
    if missing:
        raise GLMMInputError(
            f"{', '.join(map(repr, missing))} {'is' if len(missing) == 1 else 'are'} not in the "
            f"reference grid; the fixed-effects formula uses: "
            f"{', '.join(grid.frame.columns) or 'nothing'}"
            " (random-effect grouping factors are not part of it)")

    # equal-weight averages over the grid rows sharing each (specs, by) combination,
    # in expand.grid order of specs then by
    X = fit.model.fixed.matrix_for(grid.frame)
    combos = [tuple(reversed(c))
              for c in itertools.product(*reversed([grid.levels[v] for v in wanted]))]
    keys = list(zip(*[grid.frame[v].tolist() for v in wanted]))
    rows_of = {}
    for i, key in enumerate(keys):
        rows_of.setdefault(key, []).append(i)
    L = np.vstack([X[rows_of[c]].mean(axis=0) for c in combos])
    offsets = np.array([grid.offsets[rows_of[c]].mean() for c in combos])
    method, df_value, vcov, df_note = _degrees_of_freedom(fit, L, df)

    link = fit.family.link
    estimate = "emmean" if type == "link" else (
        "emmean" if link.name == "identity" else fit.family.response_scale_label)
    levels = pd.DataFrame(combos, columns=wanted)
    for v in wanted:
        if isinstance(grid.frame[v].dtype, pd.CategoricalDtype):
            levels[v] = pd.Categorical(levels[v], categories=grid.levels[v])
    averaged = tuple(v for v in grid.factors if v not in wanted)
    notes = []
    if averaged:
        notes.append(f"Results are averaged over the levels of: {', '.join(averaged)}")
    if df_note:
        notes.append(df_note)
    notes.append(f"Confidence level used: {level:g}")
    if type == "response" and link.name != "identity":
        notes.append(f"Intervals are back-transformed from the {link.name} scale")
    elif type == "link" and link.name != "identity":
        notes.append(f"Results are given on the {link.name} (not the response) scale.")
    return EMMeans(levels=levels, specs=tuple(spec_list), by=tuple(by_list), L=L,
                   offset=offsets, beta=fit.params.to_numpy(dtype=float),
                   vcov=vcov, df=df_value, level=level, link=link, type=type,
                   estimate=estimate, averaged_over=averaged, grid=grid, notes=tuple(notes),
                   df_method=method, fit=fit)


def _degrees_of_freedom(fit, L, df):
    """(ddf method or None, df: a number or one per row of L, covariance of beta, the note
    naming the method) for the means ``L beta`` (see the module notes)."""
    if df is None and fit.family.is_normal_linear:
        for method in (["Kenward-Roger"] if fit.REML else []) + ["Satterthwaite"]:
            try:
                return _by_method(fit, L, method)
            except GLMMInputError:      # beyond the method: emmeans, too, falls back
                continue
        return None, float(fit.df_resid), _fit_vcov(fit), \
            "Degrees-of-freedom method: df.residual"
    if df is None:
        return None, float(fit.df_resid), _fit_vcov(fit), None
    if isinstance(df, str):
        method = ddf_methods.method_name(df)
        if method == "asymptotic" and not fit.family.is_normal_linear:
            return None, np.inf, _fit_vcov(fit), "Degrees-of-freedom method: asymptotic"
        return _by_method(fit, L, method)
    try:
        value = float(df)
    except (TypeError, ValueError):
        raise GLMMInputError(f"df must be a method name ('kenward-roger', 'satterthwaite', "
                             f"'residual', 'asymptotic') or a number, not {df!r}") from None
    if not value > 0:
        raise GLMMInputError(f"df must be positive (got {value})")
    note = None if np.isfinite(value) else "Degrees-of-freedom method: asymptotic"
    return None, value, _fit_vcov(fit), note


def _fit_vcov(fit):
    return fit.cov_params().to_numpy(dtype=float)


def _by_method(fit, L, method):
    inference = ddf_methods.linear_inference(fit, L, method)
    df = inference.df if method in ("Kenward-Roger", "Satterthwaite") else float(inference.df[0])
    return (method, df, np.asarray(inference.covariance, dtype=float),
            f"Degrees-of-freedom method: {_METHOD_NOTE[method]}")


def summarize_means(means: EMMeans, ci_adjust=None) -> pd.DataFrame:
    """The table of means; ``ci_adjust`` makes simultaneous intervals within each by
    group as emmeans' summary(adjust=) does for means (Tukey becomes Sidak there,
    Holm becomes Bonferroni)."""
    eta = means.eta
    se = np.sqrt(np.maximum(np.diag(means.vcov_eta), 0.0))
    df = means.row_df
    crit = stats.t.ppf(0.5 + means.level / 2, df)
    if ci_adjust not in (None, "none"):
        method = {"tukey": "sidak"}.get(ci_adjust, ci_adjust)
        for _, idx in means.groups():
            crit[idx] = critical_value(method, means.level, len(idx), len(idx), df[idx])
    lo, hi = eta - crit * se, eta + crit * se
    lo_name, hi_name = ci_names(means.df)
    out = means.levels.copy()
    if means.type == "response" and means.link.name != "identity":
        mu, dmu = means.link.derivs(eta)[:2]
        a, b = means.link.inverse(lo), means.link.inverse(hi)
        out[means.estimate] = mu
        out["SE"] = np.abs(dmu) * se
        out["df"] = df
        out[lo_name], out[hi_name] = np.minimum(a, b), np.maximum(a, b)
    else:
        out[means.estimate] = eta
        out["SE"] = se
        out["df"] = df
        out[lo_name], out[hi_name] = lo, hi
    return out
