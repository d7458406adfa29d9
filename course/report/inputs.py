"""A report's input: factor columns made, reference levels set, the model's options, the
means asked for and the size of the fixed factors checked.

The command line checks a job with exactly this code before anything is
written, and the report notebook (``course/templates/report.md``) uses it too
(the file itself is read by :mod:`.reading`).

- :func:`prepare_data`: columns named as factors become pandas categoricals, with
  the reference level (``--reference COLUMN=LEVEL``) first;
- :func:`model_options`: the keyword arguments of ``gl.glmm`` (REML by default
  where lme4 would use it);
- :func:`columns_used`: the data columns the model's formulas and weights name;
- :func:`check_levels`: fixed factors with more levels than ``--max-levels``;
- :func:`load_inputs`: all of it, in the order the report needs it;
- :func:`parse_means` and :func:`means_variables`: the factors of a means
  specification; :func:`check_means`: each a fixed factor of the model;
- :func:`fixed_factors`: the factor columns of the model's fixed part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from glmm_lib.rnames import SYNTACTIC_NAME

from .reading import DataFile, ReportInputError, check_number_columns, read_data

#: A fixed factor with more levels than this needs ``--max-levels``: the fit, the means and
#: their pairwise table (n (n - 1) / 2 rows) grow fast with the levels.
MAX_LEVELS = 60

def parse_references(references) -> dict:
    """``["trt=none", "variety=local"]`` as ``{"trt": "none", "variety": "local"}``."""
    out = {}
    for item in references or ():
        column, sep, level = str(item).partition("=")
        if not sep or not column.strip() or not level.strip():
            raise ReportInputError(f"--reference {item!r}: give COLUMN=LEVEL, e.g. "
                                   "--reference trt=control")
        out[column.strip().strip("`")] = level.strip()
    return out


def prepare_data(df: pd.DataFrame, factors=(), references=()) -> tuple[pd.DataFrame, list[str]]:
    """Make the columns in ``factors`` categoricals and put each reference level first;
    returns the frame and notes on what changed.

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
                         f"{len(levels)} levels (--factor)")
    for col, level in parse_references(references).items():
        if col not in df.columns:
            raise ReportInputError(f"--reference {col}={level}: no column {col!r}; the columns "
                                   f"are: {', '.join(map(str, df.columns))}")
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and \
                not isinstance(values.dtype, pd.CategoricalDtype):
            raise ReportInputError(f"--reference {col}={level}: {col!r} holds numbers (a "
                                   f"covariate); add --factor {col} to use it as a factor")
        if not isinstance(values.dtype, pd.CategoricalDtype):
            values = pd.Categorical(values, categories=sorted(pd.unique(values.dropna())))
        levels = list(values.categories)
        match = [v for v in levels if str(v) == level]
        if not match:
            shown = ", ".join(map(str, levels[:20])) + (" ..." if len(levels) > 20 else "")
            raise ReportInputError(f"--reference {col}={level}: {col!r} has no level {level!r}; "
                                   f"its levels are: {shown}")
        df[col] = pd.Categorical(values, categories=match + [v for v in levels if v != match[0]])
        notes.append(f"`{col}`: the reference level is `{level}` (--reference); each other "
                     "level is compared with it in the table of estimates")
    return df, notes


def model_options(family, link=None, reml=None, ziformula=None, dispformula=None,
                  weights=None) -> dict:
    """The keyword arguments of ``gl.glmm``/``gl.GLMMModel`` besides formula and data.

    ``reml=None`` means REML where it applies (gaussian with the identity link, as lme4's
    lmer), maximum likelihood elsewhere."""
    import glmm_lib as gl

    if reml is None:
        try:
            reml = bool(gl.families.get_family(family, link).quadratic_in_eta) \
                and not (ziformula and str(ziformula).strip().lstrip("~").strip() != "0")
        except gl.GLMMInputError as err:
            raise ReportInputError(str(err)) from None
    return {"family": family, "link": link, "REML": bool(reml),
            "ziformula": ziformula or None, "dispformula": dispformula or None,
            "weights": weights or None}


def columns_used(columns, *texts) -> list[str]:
    """The columns named in formulas (or a weights column): a name counts when it appears
    as a name (plain, dotted or in backticks) in any of ``texts``."""
    named = set()
    for text in texts:
        if text:
            named.update(_names_in(str(text)))
    return [c for c in map(str, columns) if c in named]


def check_levels(model, max_levels=None) -> None:
    """Refuse a fixed factor with more levels than ``max_levels`` (default
    :data:`MAX_LEVELS`), before the fit: with hundreds of levels the fit and the means take
    minutes and the tables have tens of thousands of rows."""
    limit = MAX_LEVELS if max_levels is None else int(max_levels)
    frame = model.frame.data
    for name in fixed_factors(model):
        n = int(frame[name].nunique())
        if n > limit:
            raise ReportInputError(
                f"the fixed factor {name!r} has {n} levels (more than {limit}): the fit, its "
                f"means and their {n * (n - 1) // 2} pairwise comparisons would take long and "
                f"fill pages. If it is meant, give --max-levels {n}; if its levels are a "
                f"sample (plots, animals, sites), make it a random effect: (1|{name})")


# a name in backticks, or one R writes without them
_NAME = re.compile(r"`([^`]*)`|(" + SYNTACTIC_NAME.pattern + ")")


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


def check_means(model, means: str | None, columns=()) -> list[str]:
    """The factors of ``means``; each must be a factor of the fixed-effects formula."""
    names = means_variables(means, columns)
    if not names:
        return []
    factors = fixed_factors(model)
    frame = model.frame.data
    for name in names:
        if name not in factors and name in frame.columns and \
                pd.api.types.is_numeric_dtype(frame[name]):
            raise ReportInputError(
                f"--means {means!r}: {name!r} is a numeric covariate in the model (a slope, "
                f"not levels); means are for factors: did you mean --factor {name}?")
        if name not in factors:
            raise ReportInputError(
                f"--means {means!r}: {name!r} is not a factor of the fixed part of the formula; "
                f"means can be asked for the fixed "
                f"factors: {', '.join(factors) or '(none: the formula has no fixed factor)'}"
            )
    return names


@dataclass
class Inputs:
    """A report's inputs, read and checked: what the notebook fits and the notes it shows."""
    file: DataFile               # the data as read (``file.frame``), with its reading notes
    data: pd.DataFrame           # factors made, reference levels first
    notes: list                  # how the file was read, and what was made a factor
    options: dict                # gl.glmm's keyword arguments (see model_options)
    model: object                # the GLMMModel (not fitted)
    means: list                  # the factors of --means


def load_inputs(data_path, formula, family, *, link=None, sheet=None, sep=None, decimal=None,
                encoding=None, factors=(), references=(), means=None, reml=None,
                ziformula=None, dispformula=None, weights=None, max_levels=None) -> Inputs:
    """Read the data and build the model exactly as the report will fit it; raise
    :class:`ReportInputError` with one clear message for anything that cannot be used."""
    import warnings

    import glmm_lib as gl

    name = Path(data_path).name
    file = read_data(data_path, sheet, sep, decimal, encoding)
    raw = file.frame
    check_number_columns(file, columns_used(raw.columns, formula, ziformula, dispformula,
                                            weights), factors, name)
    data, factor_notes = prepare_data(raw, factors, references)
    options = model_options(family, link, reml, ziformula, dispformula, weights)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = gl.GLMMModel(formula, data, **options)
    except gl.GLMMInputError as err:
        message = str(err)
        if re.search(r"\brows? \d", message):
            message += f" (rows are the {file.rows_are})"
        raise ReportInputError(f"{name}: {message}") from None
    check_levels(model, max_levels)
    return Inputs(file, data, file.notes + factor_notes, options, model,
                  check_means(model, means, raw.columns))
