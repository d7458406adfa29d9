"""Estimated marginal means, pairwise comparisons and compact letter displays,
as R's emmeans 1.8.4 computes them for glmmTMB fits.

>>> emm = emmeans(fit, "trt")                 # means on the response scale
>>> pairs(emm)                                # ratios (log link) / odds ratios (logit), Tukey
>>> cld(emm)                                  # compact letter display
>>> plot_means(emm)                           # means, intervals and letters

How the numbers are made (each step as emmeans does it):

Reference grid
    Every combination of the levels of the factors in the fixed-effects formula
    (R's ``expand.grid`` order: the first factor varies fastest).  A numeric
    covariate is set to its mean over the rows used in the fit, except that a
    covariate with at most two distinct values is kept at all its values and
    treated as a factor (emmeans' ``cov.keep = "2"`` default).  A numeric column
    turned into a factor in the formula (``C(x)``) takes its distinct values.
    ``at={"x": 5}`` fixes a covariate (or restricts a factor) instead.
Offsets
    A variable inside ``offset()`` in the formula is a covariate like any other:
    it is set to its mean and the offset expression is evaluated there, so
    ``offset(log(area))`` contributes ``log(mean(area))`` -- *not* the mean of
    ``log(area)`` (emmeans' documented behaviour, see its "xplanations" vignette,
    "Intricacies of offsets").  An offset given through ``glmm(..., offset=)``
    rather than in the formula is emmeans' "static" offset: its mean, on the link
    scale.  ``offset=0`` (or any number) replaces all of this with that value on
    the link scale, e.g. ``offset=0`` for rates per unit of exposure.
Marginal means
    Rows of the grid are averaged with equal weights over the factors not in
    ``specs``/``by``, on the link scale (linear functions ``L``, estimate
    ``L b + offset``, variance ``L V L'`` with V the fixed-effects covariance).
Response scale
    The estimate is the inverse link of the link-scale estimate, the SE is the
    delta-method SE ``|d mu / d eta| * SE(eta)``, and the interval is the
    link-scale interval back-transformed (so it is not symmetric).
Degrees of freedom
    emmeans 1.8.4 uses ``df.residual(fit)`` for glmmTMB fits (nobs minus the
    number of estimated parameters, random-effect variances and dispersion
    included) and builds t-based intervals and tests with it; that is the
    default here (``fit.df_resid``).  Pass ``df=np.inf`` for the asymptotic
    z-based intervals and tests (columns are then named ``asymp.LCL``,
    ``asymp.UCL``, ``z.ratio`` as emmeans names them).

Column names follow emmeans: the estimate is ``emmean`` on the link scale (and
for identity links), on the response scale ``prob`` (binomial families),
``rate`` (Poisson families) or ``response`` (others); ``SE``, ``df``,
``lower.CL``/``upper.CL``.  The name used is in ``emm.attrs["estimate"]``.
The returned table keeps what :func:`pairs` and :func:`cld` need in
``emm.attrs["emmeans"]``.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import GLMMInputError
from .formula import evaluate_expression, expression_variables

__all__ = ["emmeans", "pairs", "cld", "plot_means", "ADJUSTMENTS"]

ADJUSTMENTS = ("tukey", "holm", "bonferroni", "sidak", "none")

# emmeans' default for emm_options("parens"): contrast labels parenthesize levels
# that contain an operator character
_PARENS = re.compile(r"-|\+|/|\*")


# --------------------------------------------------------------------------- tables
class InferenceTable(pd.DataFrame):
    """A DataFrame that prints the notes emmeans prints under its tables
    (``attrs["notes"]``).  Any operation on it returns a plain DataFrame."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _notes(self):
        return list(self.attrs.get("notes", []))

    def __repr__(self):
        text = pd.DataFrame.__repr__(self)
        header, notes = list(self.attrs.get("header", [])), self._notes()
        return ("\n".join(header) + "\n" if header else "") + text + \
            ("\n\n" + "\n".join(notes) if notes else "")

    def _repr_html_(self):
        html = pd.DataFrame._repr_html_(self)
        if html is None:
            return None
        header, notes = list(self.attrs.get("header", [])), self._notes()
        para = "<p style='margin:0'><small>{}</small></p>"
        return "".join(para.format(h) for h in header) + html + \
            "".join(para.format(n) for n in notes)


def _table(frame: pd.DataFrame, attrs: dict) -> InferenceTable:
    out = InferenceTable(frame)
    out.attrs.update(attrs)
    return out


@dataclass(eq=False)
class EMMInfo:
    """What a table of marginal means carries for :func:`pairs` and :func:`cld`."""
    levels: pd.DataFrame        # one row per mean: the specs and by columns
    specs: list
    by: list
    L: np.ndarray               # (k, p) linear functions of the fixed effects
    offset: np.ndarray          # (k,) offsets on the link scale
    beta: np.ndarray
    vcov: np.ndarray
    df: float
    link: object                # glmm_lib.links.Link
    family_name: str
    type: str                   # "response" or "link"
    level: float
    estimate_name: str
    averaged_over: list = field(default_factory=list)
    grid: pd.DataFrame | None = None

    def __deepcopy__(self, memo):     # pandas deep-copies attrs; this is read-only
        return self

    @property
    def eta(self):
        return self.L @ self.beta + self.offset

    @property
    def vcov_eta(self):
        return self.L @ self.vcov @ self.L.T


# --------------------------------------------------------------------------- helpers
def _response_label(family_name: str, link_name: str) -> str:
    """emmeans' .std.link.labels: 'prob' for binomial families, 'rate' for Poisson ones."""
    if link_name == "identity":
        return "emmean"
    if "binomial" in family_name:
        return "prob"
    if "poisson" in family_name:
        return "rate"
    return "response"


def _ci_names(df):
    return ("lower.CL", "upper.CL") if np.isfinite(df) else ("asymp.LCL", "asymp.UCL")


def _stat_name(df):
    return "t.ratio" if np.isfinite(df) else "z.ratio"


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


def _ordered_variables(fit):
    """Predictor columns of the fixed part and of offset() terms, in formula order."""
    fixed = expression_variables(fit.model.formula.fixed)
    offset_vars = [v for e in fit.model.formula.offsets for v in expression_variables(e)]
    data_cols = fit.model.frame.data.columns
    return [v for v in dict.fromkeys(fixed + offset_vars) if v in data_cols], offset_vars


def _coerced_factors(fit):
    """Numeric columns that the formula turns into factors (``C(x)``): name -> levels."""
    spec = fit.model.fixed.spec
    data = fit.model.frame.data
    out = {}
    for factor, state in getattr(spec, "factor_contrasts", {}).items():
        expr = str(getattr(factor, "expr", factor))
        if expr in data.columns:
            continue
        names = [n for n in re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", expr) if n in data.columns]
        if len(names) == 1 and not isinstance(data[names[0]].dtype, pd.CategoricalDtype):
            levels = list(getattr(state, "levels", None) or sorted(data[names[0]].unique()))
            out[names[0]] = levels
    return out


def _static_offset(fit):
    """Mean of the part of the offset given through ``glmm(offset=)`` (not in the formula)."""
    model = fit.model
    total = np.asarray(model.frame.offset, dtype=float)
    in_formula = np.zeros_like(total)
    for expr in model.formula.offsets:
        in_formula += evaluate_expression(expr, model.frame.data)
    static = total - in_formula
    return float(np.mean(static)) if np.any(np.abs(static) > 0) else 0.0


def reference_grid(fit, at=None, cov_keep=2):
    """The reference grid of a fit as emmeans builds it.

    Returns ``(grid, levels, factor_like)``: the grid as a DataFrame (one row per
    combination, first variable varying fastest), the reference values of each
    variable, and the names treated as factors (averaged over with equal weights).
    """
    data = fit.model.frame.data
    variables, _ = _ordered_variables(fit)
    coerced = _coerced_factors(fit)
    at = dict(at or {})
    unknown = [k for k in at if k not in variables]
    if unknown:
        raise GLMMInputError(f"at names {', '.join(map(repr, unknown))}, which the fixed-effects "
                             f"formula does not use; its variables are: {', '.join(variables)}")
    levels, factor_like = {}, []
    for v in variables:
        col = data[v]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levs = list(col.cat.categories)
            if v in at:
                want = list(np.atleast_1d(at[v]))
                bad = [w for w in want if w not in levs]
                if bad:
                    raise GLMMInputError(f"at[{v!r}] has levels not in the fit: {bad}; "
                                         f"the levels are {levs}")
                levs = [lv for lv in levs if lv in want]
            levels[v] = levs
            factor_like.append(v)
        elif v in coerced:
            levs = coerced[v]
            if v in at:
                want = list(np.atleast_1d(at[v]))
                levs = [lv for lv in levs if lv in want]
            levels[v] = levs
            factor_like.append(v)
        else:
            x = col.to_numpy(dtype=float)
            if v in at:
                levels[v] = [float(a) for a in np.atleast_1d(at[v])]
            else:
                uniq = np.unique(x)
                if len(uniq) <= cov_keep:
                    levels[v] = [float(u) for u in uniq]
                    factor_like.append(v)
                else:
                    levels[v] = [float(np.mean(x))]
    names = list(levels)
    combos = itertools.product(*[levels[n] for n in reversed(names)])
    rows = [tuple(reversed(c)) for c in combos]
    grid = pd.DataFrame(rows, columns=names) if names else pd.DataFrame(index=range(1))
    for v in names:
        if isinstance(data[v].dtype, pd.CategoricalDtype):
            grid[v] = pd.Categorical(grid[v], categories=data[v].cat.categories)
    return grid, levels, factor_like


# --------------------------------------------------------------------------- emmeans
def emmeans(fit, specs="trt", by=None, type="response", level=0.95, offset=None, df=None,
            at=None):
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
        Offset on the link scale used for every mean instead of the default (see the
        module notes); ``offset=0`` gives rates per unit of exposure for a log link.
    df : float, optional
        Degrees of freedom for intervals and tests; default ``fit.df_resid`` (what
        emmeans 1.8.4 uses for glmmTMB fits); ``np.inf`` gives z-based inference.
    at : dict, optional
        Values for covariates (or a subset of levels of factors) in the grid.

    Returns
    -------
    InferenceTable (a DataFrame): the ``specs`` and ``by`` columns (categoricals in
    the model's level order), the estimate, ``SE``, ``df`` and the interval.
    """
    if type not in ("response", "link"):
        raise GLMMInputError("type must be 'response' or 'link'")
    if not 0 < level < 1:
        raise GLMMInputError("level must be between 0 and 1")
    spec_list, by_list = _parse_specs(specs, by)
    grid, levels, factor_like = reference_grid(fit, at=at)
    wanted = spec_list + by_list
    missing = [v for v in wanted if v not in grid.columns]
    if missing:
        raise GLMMInputError(
            f"{', '.join(map(repr, missing))} {'is' if len(missing) == 1 else 'are'} not in the "
            f"reference grid; the fixed-effects formula uses: {', '.join(grid.columns) or 'nothing'}"
            " (random-effect grouping factors are not part of it)")

    X = fit.model.fixed.matrix_for(grid)
    if offset is not None:
        off = np.full(len(grid), float(np.atleast_1d(offset)[0]))
    else:
        off = np.full(len(grid), _static_offset(fit))
        for expr in fit.model.formula.offsets:
            off = off + evaluate_expression(expr, grid)

    # equal-weight averages over the grid rows sharing each (specs, by) combination,
    # in expand.grid order of specs then by
    out_levels = [levels[v] for v in wanted]
    combos = [tuple(reversed(c)) for c in itertools.product(*reversed(out_levels))]
    keys = list(zip(*[grid[v].tolist() for v in wanted])) if wanted else [()] * len(grid)
    index_of = {}
    for i, key in enumerate(keys):
        index_of.setdefault(key, []).append(i)
    L = np.vstack([X[index_of[c]].mean(axis=0) for c in combos])
    o = np.array([off[index_of[c]].mean() for c in combos])

    beta = fit.params.to_numpy(dtype=float)
    V = fit.cov_params().to_numpy(dtype=float)
    df_value = float(fit.df_resid if df is None else df)
    if not df_value > 0:
        raise GLMMInputError(f"df must be positive (got {df_value})")
    link = fit.family.link
    family_name = getattr(fit.family, "name", "")
    est_name = "emmean" if type == "link" else _response_label(family_name, link.name)
    level_frame = pd.DataFrame(combos, columns=wanted)
    for v in wanted:
        if isinstance(grid[v].dtype, pd.CategoricalDtype):
            level_frame[v] = pd.Categorical(level_frame[v], categories=levels[v])
    averaged = [v for v in factor_like if v not in wanted]
    info = EMMInfo(level_frame, spec_list, by_list, L, o, beta, V, df_value, link, family_name,
                   type, level, est_name, averaged, grid)
    table = _summarize_means(info)
    notes = []
    if averaged:
        notes.append(f"Results are averaged over the levels of: {', '.join(averaged)}")
    if not np.isfinite(df_value):
        notes.append("Degrees-of-freedom method: asymptotic")
    notes.append(f"Confidence level used: {level:g}")
    if type == "response" and link.name != "identity":
        notes.append(f"Intervals are back-transformed from the {link.name} scale")
    elif type == "link" and link.name != "identity":
        notes.append(f"Results are given on the {link.name} (not the response) scale.")
    return _table(table, {"emmeans": info, "estimate": est_name, "notes": notes})


def _summarize_means(info: EMMInfo, ci_adjust=None) -> pd.DataFrame:
    """The table of means; ``ci_adjust`` makes simultaneous intervals within each by
    group as emmeans' summary(adjust=) does for means (Tukey becomes Sidak there,
    Holm becomes Bonferroni)."""
    eta = info.eta
    se = np.sqrt(np.maximum(np.diag(info.vcov_eta), 0.0))
    crit = np.full(len(eta), stats.t.ppf(0.5 + info.level / 2, info.df))
    if ci_adjust not in (None, "none"):
        method = {"tukey": "sidak", "holm": "bonferroni"}.get(ci_adjust, ci_adjust)
        for _, idx in _groups(info):
            crit[idx] = _critical(method, info.level, len(idx), len(idx), info.df)
    lo, hi = eta - crit * se, eta + crit * se
    lo_name, hi_name = _ci_names(info.df)
    out = info.levels.copy()
    if info.type == "response" and info.link.name != "identity":
        mu, dmu = info.link.derivs(eta)[:2]
        a, b = info.link.inverse(lo), info.link.inverse(hi)
        out[info.estimate_name] = mu
        out["SE"] = np.abs(dmu) * se
        out["df"] = info.df
        out[lo_name], out[hi_name] = np.minimum(a, b), np.maximum(a, b)
    else:
        out[info.estimate_name] = eta
        out["SE"] = se
        out["df"] = info.df
        out[lo_name], out[hi_name] = lo, hi
    return out


def _info(emm) -> EMMInfo:
    info = getattr(emm, "attrs", {}).get("emmeans") if hasattr(emm, "attrs") else None
    if not isinstance(info, EMMInfo):
        raise GLMMInputError("pass the table returned by glmm_lib.emmeans() (it carries the "
                             "linear functions and covariance that comparisons need)")
    return info


# --------------------------------------------------------------------------- p-value adjustment
def _adjust(p, t, adjust, n_means, df):
    """Adjusted p-values for one family of comparisons, as emmeans does."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if adjust == "none" or m <= 1 and adjust != "tukey":
        return p
    if adjust == "tukey":
        q = np.sqrt(2.0) * np.abs(np.asarray(t, dtype=float))
        return np.clip(stats.studentized_range.sf(q, n_means, df), 0.0, 1.0)
    if adjust == "bonferroni":
        return np.minimum(1.0, m * p)
    if adjust == "sidak":
        return 1.0 - (1.0 - p) ** m
    if adjust == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
        out = np.empty(m)
        out[order] = np.minimum(1.0, adj)
        return out
    raise GLMMInputError(f"unknown adjust {adjust!r}; use one of {', '.join(ADJUSTMENTS)}")


def _critical(adjust, level, n_means, m, df):
    """Multiplier for simultaneous intervals of one family (Holm intervals use Bonferroni)."""
    if adjust == "tukey":
        return stats.studentized_range.ppf(level, n_means, df) / np.sqrt(2.0)
    alpha = 1 - level
    if adjust in ("bonferroni", "holm"):
        alpha = alpha / m
    elif adjust == "sidak":
        alpha = 1 - level ** (1.0 / m)
    return stats.t.ppf(1 - alpha / 2, df)


def _label(values):
    text = " ".join(str(v) for v in values)
    return f"({text})" if _PARENS.search(text) else text


def _pair_indices(k, reverse):
    if reverse:   # emmeans' revpairwise: 2-1, 3-1, 3-2, 4-1, ...
        return [(i, j) for i in range(1, k) for j in range(i)]
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _groups(info: EMMInfo):
    """Row indices of the means in each by group (one group when there is no by)."""
    if not info.by:
        return [((), np.arange(len(info.levels)))]
    keys = list(zip(*[info.levels[v].tolist() for v in info.by]))
    groups = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return [(key, np.array(rows)) for key, rows in groups.items()]


# --------------------------------------------------------------------------- pairs
def pairs(emm, adjust="tukey", reverse=False, confint=False, level=None):
    """All pairwise comparisons of the means in ``emm`` within each ``by`` group.

    Differences are taken on the link scale.  When ``emm`` is on the response
    scale of a log-link model they are reported back-transformed as ratios
    (column ``ratio``), of a logit model as odds ratios (``odds.ratio``), with the
    delta-method SE and ``null`` = 1, as emmeans does; for other links (and for
    ``type="link"`` means) the differences stay on the link scale (``estimate``).
    The test statistic (``t.ratio``, or ``z.ratio`` when df is infinite) and the
    unadjusted p-value are those of the link-scale difference.

    ``adjust``: ``"tukey"`` (studentized range with the number of means in the
    family and the df; emmeans' default for pairwise comparisons),
    ``"holm"``, ``"bonferroni"``, ``"sidak"`` or ``"none"``.  With ``by`` groups
    each group is its own family, as in emmeans.  ``reverse=True`` gives
    emmeans' ``revpairwise`` order and direction (later level minus earlier).
    ``confint=True`` adds simultaneous intervals (Tukey: studentized range;
    Holm: Bonferroni, as emmeans) at ``level`` (default: the level of ``emm``).
    """
    info = _info(emm)
    adjust = str(adjust).lower()
    if adjust not in ADJUSTMENTS:
        raise GLMMInputError(f"unknown adjust {adjust!r}; use one of {', '.join(ADJUSTMENTS)}")
    level = info.level if level is None else level
    eta, V = info.eta, info.vcov_eta
    back = info.type == "response" and info.link.name in ("log", "logit")
    est_name = {"log": "ratio", "logit": "odds.ratio"}.get(info.link.name) if back else "estimate"
    sep = " / " if back else " - "
    stat_name = _stat_name(info.df)
    rows = []
    for key, idx in _groups(info):
        k = len(idx)
        if k < 2:
            continue
        pairs_ = _pair_indices(k, reverse)
        m = len(pairs_)
        c = np.zeros((m, len(eta)))
        for r, (i, j) in enumerate(pairs_):
            c[r, idx[i]], c[r, idx[j]] = 1.0, -1.0
        d = c @ eta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", c, V, c), 0.0))
        t = d / se
        p_raw = 2 * stats.t.sf(np.abs(t), info.df)
        p = _adjust(p_raw, t, adjust, k, info.df)
        crit = _critical(adjust, level, k, m, info.df) if confint else None
        for r, (i, j) in enumerate(pairs_):
            a = info.levels.iloc[idx[i]][info.specs].tolist()
            b = info.levels.iloc[idx[j]][info.specs].tolist()
            row = {"contrast": f"{_label(a)}{sep}{_label(b)}"}
            row.update(dict(zip(info.by, key)))
            if back:
                ratio = np.exp(d[r])
                row[est_name] = ratio
                row["SE"] = ratio * se[r]
            else:
                row[est_name] = d[r]
                row["SE"] = se[r]
            row["df"] = info.df
            if confint:
                lo, hi = d[r] - crit * se[r], d[r] + crit * se[r]
                lo_name, hi_name = _ci_names(info.df)
                row[lo_name], row[hi_name] = (np.exp(lo), np.exp(hi)) if back else (lo, hi)
            if back:
                row["null"] = 1.0
            row[stat_name] = t[r]
            row["p.value"] = p[r]
            row["_k"] = k
            rows.append(row)
    if not rows:
        raise GLMMInputError("nothing to compare: each group has a single mean")
    out = pd.DataFrame(rows)
    for v in info.by:
        out[v] = pd.Categorical(out[v], categories=info.levels[v].cat.categories) \
            if isinstance(info.levels[v].dtype, pd.CategoricalDtype) else out[v]
    sizes = sorted(set(out.pop("_k")))
    notes = []
    if info.averaged_over:
        notes.append(f"Results are averaged over the levels of: {', '.join(info.averaged_over)}")
    if not np.isfinite(info.df):
        notes.append("Degrees-of-freedom method: asymptotic")
    if confint:
        notes.append(f"Confidence level used: {level:g}")
    if back:
        if confint:
            notes.append(f"Intervals are back-transformed from the {info.link.name} scale")
        notes.append("Tests are performed on the "
                     + ("log odds ratio" if info.link.name == "logit" else info.link.name)
                     + " scale")
    elif info.type == "response" and info.link.name != "identity":
        notes.append(f"Note: contrasts are still on the {info.link.name} scale")
    elif info.link.name != "identity":
        notes.append(f"Results are given on the {info.link.name} (not the response) scale.")
    n_fam = ", ".join(str(s) for s in sizes)
    if adjust != "none" and any(s > 2 for s in sizes):
        notes.append(f"P value adjustment: {adjust} method for "
                     + (f"comparing a family of {n_fam} estimates" if adjust == "tukey"
                        else f"{', '.join(str(s * (s - 1) // 2) for s in sizes)} tests"))
    return _table(out, {"estimate": est_name, "adjust": adjust, "notes": notes,
                        "family_sizes": sizes})


# --------------------------------------------------------------------------- compact letters
_EMMEANS_SYMBOLS = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ."


def _absorb(A):
    """Drop, one at a time, any column whose TRUE set is inside another column's."""
    while True:
        k = A.shape[1]
        dropped = False
        for i in range(k - 1):
            for j in range(i + 1, k):
                if np.all(A[A[:, j], i]):
                    A = np.delete(A, j, axis=1)
                    dropped = True
                    break
                if np.all(A[A[:, i], j]):
                    A = np.delete(A, i, axis=1)
                    dropped = True
                    break
            if dropped:
                break
        if not dropped:
            return A


def _first_true(B):
    first = np.full(B.shape[1], np.inf)
    for c in range(B.shape[1]):
        w = np.flatnonzero(B[:, c])
        if w.size:
            first[c] = w[0]
    return first


def _sort_columns(B):
    """multcompView's sortCols: order columns by their first TRUE row, ties broken
    recursively on the rows below (pairwise, as the R code does)."""
    B = B[:, np.argsort(_first_true(B), kind="stable")]
    first = _first_true(B)
    reps = np.flatnonzero((np.diff(first) == 0) & np.isfinite(first[:-1]))
    n = B.shape[0]
    for i in reps:
        rows = np.arange(int(first[i]) + 1, n)
        cols = np.array([i, i + 1])
        if rows.size:
            sub = B[np.ix_(rows, cols)]
            B[np.ix_(rows, cols)] = _sort_columns(sub)
    return B


def _make_letters(k, symbols):
    """multcompView's makeLtrs: when symbols run out, the last one prefixes a new round."""
    symbols = list(symbols)
    n = len(symbols)
    if k < n:
        return symbols[:k]
    again = [symbols[-1] + s for s in symbols[:-1]] + [symbols[-1]]
    return symbols[:-1] + _make_letters(k - n + 1, again)


def letter_matrix(n, different, symbols=_LETTERS, reversed=False):
    """Insert-absorb compact letter display (Piepho 2004, as multcompView's
    ``multcompLetters``, without the sweep step).

    ``different`` is a list of ``(i, j)`` pairs (0-based) judged different, in the
    order they are processed.  Returns ``(letters, monospaced, matrix)``.
    """
    A = np.ones((n, 1), dtype=bool)
    if different:
        for i, j in different:
            cols = A[i] & A[j]
            if cols.any():
                A1 = A[:, cols].copy()
                A1[i, :] = False
                A[j, cols] = False
                A = _absorb(np.hstack([A, A1]))
        A = _sort_columns(A)
        if reversed:
            A = A[:, ::-1]
    names = _make_letters(A.shape[1], symbols)
    letters = ["".join(nm for nm, on in zip(names, row) if on) for row in A]
    mono = ["".join(nm if on else " " * len(nm) for nm, on in zip(names, row)) for row in A]
    return letters, mono, A


def cld(emm, alpha=0.05, adjust=None, symbols=None, reversed=False, sort=True):
    """Compact letter display of all pairwise comparisons, as emmeans' ``cld()``
    (``multcomp::cld`` on an emmGrid).

    Means are sorted by estimate within each ``by`` group (when ``sort``), all pairs
    are compared with :func:`pairs` (``adjust``), and means whose comparison has
    p >= ``alpha`` share a symbol; the symbols come from the insert-absorb algorithm
    of multcompView.  ``symbols`` defaults to lowercase letters (``a`` for the
    lowest means); ``symbols="emmeans"`` uses emmeans' default set
    (``1``-``9``, ``0``, ``A``-``Z``, ``a``-``z``) to reproduce its printout exactly.
    Two means sharing a symbol were *not shown to differ*; they are not shown equal.

    ``adjust=None`` compares with Tukey's adjustment and leaves the intervals of the
    means unadjusted (emmeans' default).  An explicit ``adjust`` is used for the
    comparisons *and*, as emmeans passes it on to the summary of the means, for
    simultaneous intervals of the means within each group (Tukey becomes Sidak
    there, Holm becomes Bonferroni).

    Returns the table of means with a ``.group`` column (the symbols, without the
    padding spaces emmeans uses; the monospaced version is in ``.group_mono``).
    """
    info = _info(emm)
    if symbols is None:
        symbols = _LETTERS
    elif symbols == "emmeans":
        symbols = _EMMEANS_SYMBOLS
    ci_adjust = None if adjust is None else str(adjust).lower()
    adjust = "tukey" if adjust is None else str(adjust).lower()
    if adjust not in ADJUSTMENTS:
        raise GLMMInputError(f"unknown adjust {adjust!r}; use one of {', '.join(ADJUSTMENTS)}")
    table = _summarize_means(info, ci_adjust)
    est = table[info.estimate_name].to_numpy()
    order = np.arange(len(table))
    if sort:
        by_codes = [table[v].cat.codes.to_numpy() if isinstance(table[v].dtype, pd.CategoricalDtype)
                    else table[v].to_numpy() for v in info.by]
        order = np.lexsort([est] + by_codes[::-1])
    sorted_info = EMMInfo(info.levels.iloc[order].reset_index(drop=True), info.specs, info.by,
                          info.L[order], info.offset[order], info.beta, info.vcov, info.df,
                          info.link, info.family_name, info.type, info.level,
                          info.estimate_name, info.averaged_over, info.grid)
    table = table.iloc[order].reset_index(drop=True)
    # revpairwise on the sorted means (the order multcompView receives from emmeans)
    group_letters = [""] * len(table)
    group_mono = [""] * len(table)
    for _, idx in _groups(sorted_info):
        k = len(idx)
        if k == 1:
            group_letters[idx[0]] = symbols[0]
            group_mono[idx[0]] = symbols[0]
            continue
        pr = _pair_indices(k, reverse=True)
        c = np.zeros((len(pr), len(info.beta)))
        eta, V = sorted_info.eta[idx], sorted_info.vcov_eta[np.ix_(idx, idx)]
        d = np.array([eta[i] - eta[j] for i, j in pr])
        se = np.sqrt(np.array([V[i, i] + V[j, j] - 2 * V[i, j] for i, j in pr]))
        t = d / se
        p = _adjust(2 * stats.t.sf(np.abs(t), info.df), t, adjust, k, info.df)
        # multcompView receives names "j-i" (earlier-later); a pair is different if p < alpha
        different = [(j, i) for (i, j), pv in zip(pr, p) if pv < alpha]
        letters, mono, _ = letter_matrix(k, different, symbols, reversed)
        for pos, row in enumerate(idx):
            group_letters[row] = letters[pos]
            group_mono[row] = mono[pos]
    table[".group"] = group_letters
    table[".group_mono"] = group_mono
    if sort and reversed:
        parts = [table.iloc[idx[::-1]] for _, idx in _groups(sorted_info)]
        table = pd.concat(parts).reset_index(drop=True)
    notes = list(emm.attrs.get("notes", []))
    if ci_adjust not in (None, "none"):
        method = {"tukey": "sidak", "holm": "bonferroni"}.get(ci_adjust, ci_adjust)
        notes.append(f"Conf-level adjustment: {method} method")
    notes.append(f"P value adjustment: {adjust} method; significance level used: alpha = {alpha:g}")
    notes.append("NOTE: If two or more means share a symbol, they were not shown to differ "
                 "(that does not make them equal).")
    return _table(table, {"estimate": info.estimate_name, "notes": notes, "emmeans": sorted_info})


# --------------------------------------------------------------------------- plot
def plot_means(emm, letters=True, ax=None, alpha=0.05, adjust=None, symbols=None,
               horizontal=False, **errorbar_kw):
    """Plot the means with their confidence intervals, and (``letters=True``) the
    compact letter display of :func:`cld` beside each interval.

    Means of different ``by`` groups are placed in blocks separated by a gap and
    labelled ``level | group``.  Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    info = _info(emm)
    table = _summarize_means(info)
    if letters:   # the letters of the sorted display (a = lowest), put back in table order
        shown = cld(emm, alpha=alpha, adjust=adjust, symbols=symbols)
        cols = info.specs + info.by
        key = lambda frame: list(zip(*[frame[c].astype(str) for c in cols]))
        group = dict(zip(key(shown), shown[".group"]))
        table[".group"] = [group[k] for k in key(table)]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.7 * len(table) + 2), 3.5) if not horizontal
                             else (5, max(2.5, 0.45 * len(table) + 1)))
    lo_name, hi_name = _ci_names(info.df)
    est = table[info.estimate_name].to_numpy()
    lo, hi = table[lo_name].to_numpy(), table[hi_name].to_numpy()
    positions, labels, pos = [], [], 0.0
    previous = None
    for i in range(len(table)):
        key = tuple(table.iloc[i][v] for v in info.by)
        if previous is not None and key != previous:
            pos += 0.6
        previous = key
        positions.append(pos)
        lab = " ".join(str(table.iloc[i][v]) for v in info.specs)
        if info.by:
            lab += " | " + " ".join(str(k) for k in key)
        labels.append(lab)
        pos += 1.0
    positions = np.array(positions)
    kw = dict(fmt="o", color="C0", ecolor="C0", capsize=4, markersize=6)
    kw.update(errorbar_kw)
    if horizontal:
        ax.errorbar(est, positions, xerr=[est - lo, hi - est], **kw)
        ax.set_yticks(positions, labels)
        ax.set_xlabel(info.estimate_name)
        ax.invert_yaxis()
    else:
        ax.errorbar(positions, est, yerr=[est - lo, hi - est], **kw)
        ax.set_xticks(positions, labels, rotation=0 if len(labels) < 7 else 45,
                      ha="center" if len(labels) < 7 else "right")
        ax.set_ylabel(info.estimate_name)
    if letters:
        span = np.nanmax(hi) - np.nanmin(lo)
        for x, top, text in zip(positions, hi, table[".group"]):
            if horizontal:
                ax.annotate(text, (top + 0.02 * span, x), va="center", ha="left")
            else:
                ax.annotate(text, (x, top + 0.02 * span), va="bottom", ha="center")
        if horizontal:
            ax.set_xlim(right=np.nanmax(hi) + 0.15 * span)
        else:
            ax.set_ylim(top=np.nanmax(hi) + 0.15 * span)
    pct = f"{100 * info.level:g}%"
    ax.set_title(f"Estimated marginal means ({pct} CI"
                 + (f"; letters: {adjust or 'tukey'}, alpha = {alpha:g}" if letters else "")
                 + ")",
                 fontsize="medium")
    return ax
