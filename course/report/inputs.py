"""A report's input: the data file read, factor columns made, the means asked for checked.

The command line checks a job with exactly this code before anything is
written, and the report notebook (``course/templates/report.md``) reads its
data with it.

- :func:`read_table`: a CSV, TSV, Parquet or Excel file as a DataFrame, with
  one clear error for a missing or unreadable file;
- :func:`prepare_data`: columns named as factors become pandas categoricals;
- :func:`parse_means` and :func:`means_variables`: the factors of a means
  specification; :func:`check_means`: each a fixed factor of the model;
- :func:`fixed_factors`, :func:`grouping_factors`: the model's factor columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import CourseError

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


class ReportInputError(CourseError):
    """A report's input (data file, formula, family, means) cannot be used."""


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
