"""Reading a report's data file: any common text dialect and encoding, Parquet or Excel,
with rows numbered as the user sees them and every guess said in a note.

- :func:`read_data`: the file as a :class:`DataFile`; text files go through
  :func:`course.text_tables.read_delimited` (separator, decimal mark and encoding
  found or given), and the notes say what was not the default;
- the frame's index is the row number a user finds the row under: the file's line
  (the header is line 1) for text and Excel files, 1, 2, ... for Parquet, so that
  every message naming rows (the library's too) points at the right line;
- :func:`check_number_columns`: a column the model uses that holds numbers and some
  text, or numbers written with the other decimal mark, is refused with the lines
  and values, instead of silently becoming a factor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import CourseError
from ..text_tables import TableReadError, read_delimited, text_in_number_columns

#: File suffixes the report reads, and how.
READERS = {
    ".csv": "text",
    ".txt": "text",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
#: What the index of each kind of file counts, for messages.
ROWS_ARE = {
    "text": "line numbers of the file (the header is line 1)",
    "tsv": "line numbers of the file (the header is line 1)",
    "excel": "row numbers of the sheet (the header is row 1)",
    "parquet": "row numbers counted from 1",
}
#: The first data row's number: after the header line for text and Excel files.
FIRST_ROW = {"text": 2, "tsv": 2, "excel": 2, "parquet": 1}


class ReportInputError(CourseError):
    """A report's input (data file, formula, family, means) cannot be used."""


@dataclass
class DataFile:
    frame: pd.DataFrame          # indexed by the row numbers a user sees (``rows_are``)
    kind: str                    # a value of READERS
    notes: list = field(default_factory=list)   # how the file was read, when not the default
    decimal: str = "."

    @property
    def rows_are(self) -> str:
        return ROWS_ARE[self.kind]


def read_data(path, sheet=None, sep=None, decimal=None, encoding=None) -> DataFile:
    """Read a data file by its suffix (see :data:`READERS`).

    ``sep``, ``decimal`` and ``encoding`` are for text files (found when not given);
    ``sheet`` for Excel files (the first when not given)."""
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
    text_options = [f"--{name}" for name, value in (("sep", sep), ("decimal", decimal),
                                                   ("encoding", encoding)) if value]
    if kind in ("parquet", "excel") and text_options:
        raise ReportInputError(f"{', '.join(text_options)} apply to text files (.csv, .tsv, "
                               f".txt), not to {path.name}")
    notes, used_decimal = [], "."
    try:
        if kind in ("text", "tsv"):
            df, dialect, notes = read_delimited(path, "\t" if kind == "tsv" and not sep else sep,
                                                decimal, encoding)
            used_decimal = dialect.decimal
        elif kind == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_excel(path, sheet_name=0 if sheet in (None, "") else sheet)
    except TableReadError as err:
        raise ReportInputError(str(err)) from None
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
    df.index = pd.RangeIndex(FIRST_ROW[kind], FIRST_ROW[kind] + len(df), name="row")
    return DataFile(df, kind, notes, used_decimal)


def _numbers_with(values: pd.Series, decimal: str) -> bool:
    """Every value is a number written with ``decimal`` as its decimal mark (and at least
    one has a decimal part, so that whole numbers do not count)."""
    text = values.astype(str).str.strip()
    pattern = r"[-+]?\d+(\{}\d+)?".format(decimal)
    return bool(text.str.fullmatch(pattern).all() and text.str.contains(f"\\{decimal}").any())


def check_number_columns(data: DataFile, used, factors=(), source: str = "the data") -> None:
    """Refuse a column the model uses (``used``) that would become a factor only because
    some of its values are not numbers. Columns in ``factors`` are factors on purpose."""
    frame = data.frame
    candidates = [c for c in used if c in frame.columns and c not in set(factors)
                  and not pd.api.types.is_numeric_dtype(frame[c])]
    if not candidates:
        return
    other = "," if data.decimal == "." else "."
    for column in candidates:
        present = frame[column].dropna()
        if len(present) and _numbers_with(present, other):
            raise ReportInputError(
                f"{source}: column {column!r} holds numbers written with a decimal "
                f"{'comma' if other == ',' else 'point'} ({present.iloc[0]!r}) but the file "
                f"was read with a decimal {'point' if other == ',' else 'comma'}; give "
                f"--decimal {other!r} (or --factor {column} if it is a factor)")
    text = text_in_number_columns(frame[candidates], decimal=data.decimal)
    for column, found in text.items():
        # text_in_number_columns counts lines from a header on line 1; our index may count
        # otherwise (Parquet), so map back through the row's position
        rows = [(int(frame.index[line - 2]), value) for line, value in found]
        shown = ", ".join(f"{row} ({value!r})" for row, value in rows[:5])
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise ReportInputError(
            f"{source}: column {column!r} holds numbers but also text in {len(rows)} row(s): "
            f"{shown}{more} ({data.rows_are}); the model would use it as a factor. Correct "
            f"those values (or leave them empty for missing), or give --factor {column} if "
            "it is a factor")
