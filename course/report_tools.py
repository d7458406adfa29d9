"""What the report notebook (``course/templates/report.md``) computes and says.

The notebook keeps the analysis readable (load, fit, check, compare, means);
the bookkeeping is here so that it can be tested on its own and so that the
command line checks a job with exactly the code the notebook runs:

- :func:`read_table`: a CSV, TSV, Parquet or Excel file as a DataFrame, with
  one clear error for a missing or unreadable file;
- :func:`prepare_data`: columns named as factors become pandas categoricals;
- :func:`means_variables`: the factors of a means specification, checked;
- :func:`data_overview`: rows read, used and dropped (with the reason), counts
  per factor level;
- :func:`plot_response`: the response by treatment;
- :func:`family_comparison`: Poisson / NB1 / NB2 for counts, with and without
  an observation-level random effect for proportions;
- :func:`reading_of_tests`: the residual tests in plain language.

Imports glmm_lib, pandas and matplotlib; never papermill or Jupyter.
"""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CourseError

#: File suffixes the report reads, and how.
READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
COUNT_FAMILIES = ("poisson", "nbinom1", "nbinom2")
ALPHA = 0.05


class ReportInputError(CourseError):
    """A report's input (data file, formula, family, means) cannot be used."""


# --- data --------------------------------------------------------------------------------
def read_table(path, sheet=None) -> pd.DataFrame:
    """Read a data file by its suffix: .csv/.txt, .tsv, .parquet/.pq, .xlsx/.xlsm/.xls."""
    path = Path(path)
    if not path.exists():
        raise ReportInputError(f"data file not found: {path}")
    if not path.is_file():
        raise ReportInputError(f"not a data file (a folder?): {path}")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise ReportInputError(
            f"cannot read {path.name}: unknown file type {path.suffix or '(none)'!r}; "
            f"the report reads {', '.join(sorted(READERS))}"
        )
    try:
        if kind == "csv":
            df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
        elif kind == "tsv":
            df = pd.read_csv(path, sep="\t", encoding="utf-8-sig")
        elif kind == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_excel(path, sheet_name=0 if sheet in (None, "") else sheet)
    except ImportError as err:
        raise ReportInputError(f"cannot read {path.name}: a reader is missing ({err})") from None
    except Exception as err:  # noqa: BLE001 - any parser error is the user's file
        raise ReportInputError(f"cannot read {path.name} as {kind}: {type(err).__name__}: {err}") \
            from None
    if df.shape[1] == 0 or len(df) == 0:
        raise ReportInputError(f"{path.name} has no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise ReportInputError(f"{path.name}: repeated column names: {', '.join(dup)}")
    return df


def prepare_data(df: pd.DataFrame, factors=()) -> tuple[pd.DataFrame, list[str]]:
    """Make the columns in ``factors`` categoricals; returns the frame and notes on what changed.

    Numeric columns that should be factors (a treatment coded 1, 2, 3) must be
    named: glmm_lib treats a numeric column in the fixed part as a covariate.
    """
    df = df.copy()
    notes = []
    for col in factors or ():
        if col not in df.columns:
            raise ReportInputError(
                f"factor column {col!r} not found in the data; the columns are: "
                f"{', '.join(map(str, df.columns))}"
            )
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            continue
        values = df[col]
        levels = sorted(pd.unique(values.dropna()), key=lambda v: (str(type(v)), v))
        df[col] = pd.Categorical(values, categories=levels)
        if pd.api.types.is_numeric_dtype(values):
            notes.append(f"`{col}` holds numbers; it is used as a factor with "
                         f"{len(levels)} levels")
    return df, notes


_NAME = re.compile(r"`([^`]*)`|([A-Za-z_.][A-Za-z0-9_.]*)")


def _names_in(text: str) -> list[str]:
    out = []
    for m in _NAME.finditer(text):
        name = m.group(1) if m.group(1) is not None else m.group(2)
        if name and name not in out:
            out.append(name)
    return out


def parse_means(means: str | None, columns=()) -> tuple[list[str], list[str]]:
    """(factors, by-factors) of a means specification.

    ``trt``; ``extract*gen`` or ``extract, gen`` (means of the combinations);
    ``~ extract | gen`` (means of extract within each gen). Names with spaces
    are quoted in backticks, or given alone (``--means "spray type"``).
    """
    if means is None or not str(means).strip():
        return [], []
    text = str(means).strip()
    if text in set(map(str, columns)):
        return [text], []
    text = text.lstrip("~").strip()
    quoted, cut = False, None
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif ch == "|" and not quoted:
            cut = i
            break
    if cut is None:
        return _names_in(text), []
    specs, by = _names_in(text[:cut]), _names_in(text[cut + 1:])
    return specs, [b for b in by if b not in specs]


def means_variables(means: str | None, columns=()) -> list[str]:
    """Every column named in a means specification (see :func:`parse_means`)."""
    specs, by = parse_means(means, columns)
    return specs + by


def fixed_factors(model) -> list[str]:
    """Factor columns of the fixed-effects part of a ``GLMMModel``, in formula order."""
    out = []
    frame = model.frame.data
    for term in model.fixed.spec.terms:
        for f in term.factors:
            name = f.expr.strip().strip("`")
            m = re.fullmatch(r"C\((.*?)(,.*)?\)", f.expr.strip())
            if m:
                name = m.group(1).strip().strip("`")
            if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype) \
                    and name not in out:
                out.append(name)
    return out


def grouping_factors(model) -> list[str]:
    out = []
    for term in model.random_effects.terms:
        for col in term.group_name.split(":"):
            col = col.strip().strip("`")
            if col not in out:
                out.append(col)
    return out


def check_means(model, means: str | None, columns=()) -> list[str]:
    """The factors of ``means``; each must be a factor of the fixed-effects formula."""
    names = means_variables(means, columns)
    if not names:
        return []
    factors = fixed_factors(model)
    for name in names:
        if name not in factors:
            raise ReportInputError(
                f"--means {means!r}: {name!r} is not a factor of the fixed part of the formula; "
                f"means can be asked for the fixed "
                f"factors: {', '.join(factors) or '(none: the formula has no fixed factor)'}"
            )
    return names


# --- what the data section shows -------------------------------------------------------
@dataclass
class DataOverview:
    n_read: int
    n_used: int
    dropped: pd.DataFrame           # one row per dropped row: its index and the reason
    columns: list
    grouping: pd.DataFrame | None = None

    @property
    def n_dropped(self):
        return self.n_read - self.n_used

    def sentence(self, source: str) -> str:
        text = (f"Read **{self.n_read}** rows and {len(self.columns)} columns from `{source}`; "
                f"the model uses **{self.n_used}** rows")
        if self.n_dropped == 0:
            return text + " (none dropped: no missing values in the model's columns)."
        reasons = self.dropped["reason"].value_counts()
        parts = [f"{n} with {reason}" for reason, n in reasons.items()]
        return (text + f" and drops **{self.n_dropped}**: " + "; ".join(parts) + ".")


def data_overview(df: pd.DataFrame, model) -> DataOverview:
    """Rows read/used/dropped (with the missing columns as reason) and counts per level."""
    frame = model.frame.data
    used = list(frame.columns)
    kept = set(frame.index)
    dropped_rows = [i for i in df.index if i not in kept]
    reasons = []
    for i in dropped_rows:
        missing = [c for c in used if c in df.columns and pd.isna(df.at[i, c])]
        reasons.append("a missing value in " + ", ".join(f"`{c}`" for c in missing)
                       if missing else "excluded")
    dropped = pd.DataFrame({"row": dropped_rows, "reason": reasons})
    rows = []
    for name in grouping_factors(model):
        if name in frame.columns:
            vc = frame[name].value_counts()
            vc = vc[vc > 0]
            rows.append({"grouping factor": name, "levels": len(vc),
                         "rows per level (min)": int(vc.min()),
                         "rows per level (max)": int(vc.max())})
    grouping = pd.DataFrame(rows).set_index("grouping factor") if rows else None
    return DataOverview(len(df), len(frame), dropped, list(df.columns), grouping)


def counts_tables(model, limit: int = 40) -> list[tuple[str, pd.DataFrame]]:
    """Rows per level of the fixed factors: one table per factor, and a cross table of the
    first two (levels beyond ``limit`` are left out, with a note in the caption)."""
    frame = model.frame.data
    names = fixed_factors(model)
    out = []
    for name in names:
        counts = frame[name].value_counts(sort=False).rename("rows").to_frame()
        counts.index = counts.index.astype(str)
        caption = f"Rows per level of `{name}`"
        if len(counts) > limit:
            caption += f" (first {limit} of {len(counts)} levels)"
            counts = counts.head(limit)
        out.append((caption, counts))
    if len(names) >= 2:
        a, b = names[:2]
        if frame[a].nunique() <= limit and frame[b].nunique() <= limit:
            cross = pd.crosstab(frame[a], frame[b])
            cross.index = cross.index.astype(str)
            cross.columns = cross.columns.astype(str)
            out.append((f"Rows per combination of `{a}` (rows) and `{b}` (columns)", cross))
    return out


def response_values(model) -> tuple[np.ndarray, str]:
    """The response as plotted: counts or values, proportions for binomial responses."""
    y, trials = np.asarray(model.y, float), np.asarray(model.trials, float)
    name = model.frame.response_name.replace("`", "")
    if getattr(model.family, "has_trials", False) and not np.all(trials == 1):
        parts = [p.replace("`", "") for p in model.formula.response_parts]
        label = f"proportion {parts[0]} / trials" if len(parts) == 2 else f"{name} (proportion)"
        return y / trials, label
    return y, name


def plot_response(model, by: str | None, ax=None, seed: int = 1):
    """Each observation of the response (jittered) by the levels of ``by``, with box plots."""
    import matplotlib.pyplot as plt

    y, label = response_values(model)
    frame = model.frame.data
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    rng = np.random.default_rng(seed)
    if by is None or by not in frame.columns:
        ax.hist(y, bins=min(40, max(10, int(np.sqrt(len(y))))), color="#4C72B0", alpha=0.8)
        ax.set_xlabel(label)
        ax.set_ylabel("rows")
        return ax
    codes = frame[by].cat.codes.to_numpy()
    levels = list(frame[by].cat.categories)
    groups = [y[codes == k] for k in range(len(levels))]
    ax.boxplot(groups, positions=range(len(levels)), widths=0.55, showfliers=False,
               medianprops={"color": "#C44E52"})
    integer = np.allclose(y, np.round(y))
    jitter_y = rng.uniform(-0.25, 0.25, len(y)) if integer and np.ptp(y) < 60 else 0.0
    ax.scatter(codes + rng.uniform(-0.18, 0.18, len(y)), y + jitter_y, s=8, alpha=0.35,
               color="#4C72B0", linewidths=0)
    means = [g.mean() if len(g) else np.nan for g in groups]
    ax.scatter(range(len(levels)), means, marker="D", color="black", zorder=3, label="mean")
    ax.set_xticks(range(len(levels)))
    ax.set_xticklabels([str(v) for v in levels], rotation=0 if len(levels) < 8 else 45)
    ax.set_xlabel(by)
    ax.set_ylabel(label)
    ax.legend(loc="best", frameon=False)
    return ax


# --- the model comparison --------------------------------------------------------------
def rebuild_formula(parsed, drop_random: int | None = None, add_random: str | None = None) -> str:
    """The formula from its parts, without random term number ``drop_random`` / with one more."""
    rhs = [parsed.fixed.strip() or "1"]
    rhs += [f"offset({o})" for o in parsed.offsets]
    for k, term in enumerate(parsed.random):
        if k != drop_random:
            rhs.append(str(term))
    if add_random:
        rhs.append(add_random)
    return f"{parsed.response} ~ {' + '.join(rhs)}"


def observation_level_terms(model) -> list[int]:
    """Random terms whose grouping factor has one level per row (an observation-level effect)."""
    out = []
    for k, term in enumerate(model.random_effects.terms):
        if term.n_levels == model.nobs and list(term.term_names) == ["(Intercept)"]:
            out.append(k)
    return out


@dataclass
class Comparison:
    kind: str                   # "families", "olre" or "none"
    table: pd.DataFrame | None  # one row per model: family, parameters, logLik, AIC, ...
    winner: str | None
    note: str
    fits: dict = field(default_factory=dict)
    anova: pd.DataFrame | None = None   # glmm_lib.compare(): AIC, BIC and likelihood-ratio tests

    def markdown(self) -> str:
        return self.note


def _anova(gl, fits: dict):
    """``gl.compare`` of the fits that converged (None when fewer than two)."""
    usable = {name: f for name, f in fits.items() if f is not None}
    if len(usable) < 2:
        return None
    try:
        return gl.compare(*usable.values(), names=list(usable))
    except Exception:  # noqa: BLE001 - the AIC table is still shown
        return None


def _fit_quietly(gl, formula, data, family, link):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gl.glmm(formula, data=data, family=family, link=link)
    return fit, [str(w.message) for w in caught]


def _row(label, family, formula, fit, error=None):
    if fit is None:
        return {"model": label, "family": family, "formula": formula, "parameters": np.nan,
                "logLik": np.nan, "AIC": np.nan, "BIC": np.nan, "converged": False,
                "note": error or ""}
    return {"model": label, "family": family, "formula": formula, "parameters": fit.n_params,
            "logLik": fit.llf, "AIC": fit.aic, "BIC": fit.bic, "converged": fit.converged,
            "note": "" if fit.converged else "; ".join(fit.convergence_problems)}


def family_comparison(fit, data: pd.DataFrame, link=None) -> Comparison:
    """Compare the fit with its alternatives by AIC.

    Counts (Poisson, NB1, NB2): the same formula with each of the three
    families. Binomial responses with more than one trial: with and without an
    observation-level random effect. Other families: no comparison.
    """
    import glmm_lib as gl

    model = fit.model
    family = model.family.name
    parsed = model.formula
    link_name = model.family.link.name
    if family in COUNT_FAMILIES and not hasattr(model.family, "base"):
        rows, fits = [], {}
        for fam in COUNT_FAMILIES:
            if fam == family:
                f, err = fit, None
            else:
                try:
                    f, _ = _fit_quietly(gl, parsed.text, data, fam, "log")
                    err = None
                except Exception as exc:  # noqa: BLE001 - shown in the table
                    f, err = None, f"{type(exc).__name__}: {exc}"
            fits[fam] = f
            label = fam + (" (this report)" if fam == family else "")
            rows.append(_row(label, fam, parsed.text, f, err))
        table = pd.DataFrame(rows).set_index("model")
        ok = table[table["converged"] & table["AIC"].notna()]
        winner = ok["family"].loc[ok["AIC"].idxmin()] if len(ok) else None
        table["dAIC"] = table["AIC"] - table["AIC"].min()
        note = _winner_note(table, winner, family, "family")
        return Comparison("families", table, winner, note, fits, _anova(gl, fits))

    trials = np.asarray(model.trials, float)
    if getattr(model.family, "has_trials", False):
        if np.all(trials == 1):
            return Comparison("none", None, None,
                              "The response is 0/1 (one trial per row): an observation-level "
                              "random effect is not identifiable for it, so there is no "
                              "with/without comparison.")
        olre = observation_level_terms(model)
        try:
            if olre:
                other_formula = rebuild_formula(parsed, drop_random=olre[0])
                other_data = data
                labels = ("with observation-level effect (this report)",
                          "without observation-level effect")
            else:
                obs = "obs"
                while obs in data.columns:
                    obs += "_"
                other_data = data.copy()
                other_data[obs] = pd.Categorical(np.arange(len(data)))
                other_formula = rebuild_formula(parsed, add_random=f"(1 | {obs})")
                labels = ("without observation-level effect (this report)",
                          f"with observation-level effect (1 | {obs})")
            other, _ = _fit_quietly(gl, other_formula, other_data, family, link_name)
            err = None
        except Exception as exc:  # noqa: BLE001
            other, err = None, f"{type(exc).__name__}: {exc}"
        rows = [_row(labels[0], family, parsed.text, fit),
                _row(labels[1], family, other_formula, other, err)]
        table = pd.DataFrame(rows).set_index("model")
        ok = table[table["converged"] & table["AIC"].notna()]
        winner = ok["AIC"].idxmin() if len(ok) else None
        table["dAIC"] = table["AIC"] - table["AIC"].min()
        note = _winner_note(table, winner, labels[0], "model")
        fits = {labels[0]: fit, labels[1]: other}
        short = {"with observation-level effect": fits[next(k for k in labels if k.startswith("with "))],
                 "without": fits[next(k for k in labels if k.startswith("without"))]}
        return Comparison("olre", table, winner, note, fits, _anova(gl, short))
    return Comparison("none", None, None,
                      f"No alternative family is compared for the {family} family "
                      "(the comparison is made for counts and for binomial proportions).")


def _winner_note(table, winner, own, what) -> str:
    if winner is None:
        return "No model converged, so AIC cannot choose between them."
    if what == "family":
        label = next(i for i in table.index if table.at[i, "family"] == winner)
    else:
        label = winner
    second = table["AIC"].drop(label).min()
    gap = second - table.at[label, "AIC"]
    text = f"AIC prefers **{winner}**"
    text += (f" (AIC {table.at[label, 'AIC']:.1f}, {gap:.1f} below the next)"
             if np.isfinite(gap) else f" (AIC {table.at[label, 'AIC']:.1f})")
    if (what == "family" and winner != own) or (what == "model" and winner != own):
        text += (f". This report's model is not the one AIC prefers: consider refitting with "
                 f"the preferred {'family' if what == 'family' else 'model'}")
    text += "."
    if np.isfinite(gap) and gap < 2:
        text += " A difference under 2 AIC units is small: the data barely tell the models apart."
    return text


# --- plain-language reading of the residual tests -----------------------------------------
def _p(p) -> str:
    if p is None or not np.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def reading_of_tests(tests: dict, family: str = "") -> str:
    """Markdown paragraphs that say what the simulated-residual tests found."""
    findings, fine = [], []

    def get(name):
        t = tests.get(name)
        if t is None:
            return None, None
        p = getattr(t, "p_value", None)
        if p is None:
            p = getattr(t, "pvalue", None)
        return t, (float(p) if p is not None else None)

    t, p = get("uniformity")
    if t is not None:
        if p is not None and p < ALPHA:
            findings.append(
                f"**Distribution** ({_p(p)}): the residuals are not uniform, so the data do not "
                "follow the distribution the model assumes as a whole. This is often the same "
                "problem the dispersion test sees, or a wrong family.")
        else:
            fine.append(f"the overall distribution of the residuals ({_p(p)})")
    for name, how in (("dispersion", ""),
                      ("dispersion_conditional", ", random effects at their predicted values")):
        t, p = get(name)
        if t is None:
            continue
        ratio = getattr(t, "statistic", np.nan)
        if p is not None and p < ALPHA and ratio > 1:
            findings.append(
                f"**Overdispersion** ({_p(p)}, observed spread {ratio:.2f} times the "
                f"simulated{how}): the data vary more than the model expects. Standard errors "
                "and p-values are then too optimistic. A negative binomial family (for counts) "
                "or an observation-level random effect usually helps.")
        elif p is not None and p < ALPHA:
            findings.append(
                f"**Underdispersion** ({_p(p)}, observed spread {ratio:.2f} times the "
                f"simulated{how}): the data vary less than the model expects; tests are then "
                "conservative (real effects are harder to detect).")
        elif name == "dispersion" and _flags(tests.get("dispersion_conditional")):
            continue   # said with the conditional test, which has the power this one lacks
        else:
            fine.append(f"the dispersion ({_p(p)}, ratio {ratio:.2f}{how})")
    t, p = get("zero_inflation")
    if t is not None:
        ratio = getattr(t, "statistic", np.nan)
        if p is not None and p < ALPHA and ratio > 1:
            findings.append(
                f"**Too many zeros** ({_p(p)}, {ratio:.2f} times the zeros the model expects): "
                "a zero-inflated or a more dispersed family may describe the data better.")
        elif p is not None and p < ALPHA:
            findings.append(f"**Too few zeros** ({_p(p)}, ratio {ratio:.2f}).")
        else:
            fine.append(f"the number of zeros ({_p(p)})")
    t, p = get("outliers")
    if t is not None:
        if p is not None and p < ALPHA:
            findings.append(
                f"**Outliers** ({_p(p)}): more observations fall outside the range of all "
                "simulations than chance allows. Look at those rows: a recording error, or a "
                "distribution with heavier tails.")
        else:
            fine.append(f"outliers ({_p(p)})")
    t, p = get("quantiles")
    if t is not None:
        if p is not None and p < ALPHA:
            findings.append(
                f"**A pattern against the predictions** ({_p(p)}): the residuals drift with the "
                "predicted value (see the right panel), a sign of a wrong link, a missing "
                "predictor or a variance that changes differently than the family assumes.")
        else:
            fine.append(f"a trend against the predictions ({_p(p)})")
    parts = []
    if findings:
        parts.append("The tests flag the following (at the 5% level):")
        parts.append("")
        parts += [f"- {f}" for f in findings]
        parts.append("")
    if fine:
        lead = "No evidence of a problem with " if findings else \
            "**No test finds a problem**: no evidence of a problem with "
        parts.append(lead + _join(fine) + ".")
        parts.append("")
    if not findings:
        parts.append("The residuals look like draws from the fitted model, so its standard "
                     "errors, intervals and tests below can be taken as they are.")
    else:
        parts.append("Read the comparisons below with this in mind: where the model misfits, "
                     "its standard errors and p-values are not trustworthy.")
    parts.append("")
    parts.append("*How to read them:* with many observations these tests flag departures too "
                 "small to matter, and with few they miss large ones; the figure shows how "
                 "large a departure is.")
    return "\n".join(parts)


def _flags(test) -> bool:
    p = getattr(test, "p_value", None) if test is not None else None
    return p is not None and np.isfinite(p) and p < ALPHA


def _join(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


# --- sections that report their own failure ----------------------------------------------
class Sections:
    """Run each part of the report so that a failure shows in its place, not as a crash.

    >>> sections = Sections(quiet=(ConvergenceWarning,))
    >>> with sections("Marginal means"):
    ...     ...

    Warnings raised inside a section are shown as notes in it (those of the
    ``quiet`` categories, already reported at the top, are dropped).
    ``sections.failed`` lists (section, error) for the result file.
    """

    def __init__(self, quiet=()):
        self.failed: list[tuple[str, str]] = []
        self.quiet = tuple(quiet)
        self._name = None
        self._catcher = None
        self._caught = None

    def __call__(self, name: str):
        self._name = name
        return self

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, exc_type, exc, tb):
        from IPython.display import HTML, display

        self._catcher.__exit__(None, None, None)
        seen = set()
        for w in self._caught:
            text = str(w.message)
            if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning) + self.quiet) \
                    or text in seen:
                continue
            seen.add(text)
            display(HTML(banner("note", f"Note ({self._name})", text)))
        if exc is None or not isinstance(exc, Exception):
            return False
        message = f"{type(exc).__name__}: {exc}"
        self.failed.append((self._name, message))
        display(HTML(banner("warning", f"This section could not be computed ({self._name})",
                            message)))
        return True


# --- html bits --------------------------------------------------------------------------
def banner(kind: str, title: str, body: str) -> str:
    """An HTML box (kind: "warning" or "note") for the top of the report."""
    return (f'<div class="report-{kind}"><p class="report-{kind}-title">{html.escape(title)}</p>'
            f"<p>{html.escape(body)}</p></div>")
