"""Delimited text files as field scientists write them: any common encoding, any dialect.

A spreadsheet saved as CSV in much of Europe uses ``;`` between fields and a
decimal comma (``12,5``); older programs save it in cp1252/latin-1 rather than
UTF-8. Read naively, the decimal commas stay text and a numeric covariate
silently becomes a factor. Here the encoding and the dialect are found (or
given), every choice that was not the default is said in a note, and a column
of numbers that still holds some text is reported by row.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import CourseError

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
DECIMALS = {".": "point", ",": "comma"}
# tried in this order when no encoding is given: UTF-8 (a BOM is dropped), then the
# Windows code page that most European spreadsheets used, which, like latin-1, decodes
# every byte
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[-+]?\d*\.\d+\s*$")


class TableReadError(CourseError):
    """A data file that cannot be read as a table."""


@dataclass(frozen=True)
class Dialect:
    separator: str
    decimal: str
    encoding: str

    def describe(self) -> str:
        return (f"{SEPARATORS.get(self.separator, repr(self.separator))}-separated, decimal "
                f"{DECIMALS[self.decimal]}, {self.encoding}")


def decode(path: Path, encoding: str | None = None) -> tuple[str, str, list[str]]:
    """The file's text, the encoding used and notes (a fallback is said)."""
    raw = Path(path).read_bytes()
    if encoding:
        try:
            return raw.decode(encoding), encoding, []
        except LookupError:
            raise TableReadError(f"unknown encoding {encoding!r} (try utf-8, cp1252 or "
                                 "latin-1)") from None
        except UnicodeDecodeError as err:
            line = raw[:err.start].count(b"\n") + 1
            raise TableReadError(f"{Path(path).name} is not valid {encoding}: byte "
                                 f"{raw[err.start]:#04x} on line {line}; give another "
                                 "--encoding") from None
    try:
        return raw.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        for fallback in FALLBACK_ENCODINGS:
            try:
                text = raw.decode(fallback)
            except UnicodeDecodeError:
                continue
            return text, fallback, [
                f"{Path(path).name} is not UTF-8 (first non-UTF-8 byte on line {line}); it was "
                f"read as {fallback}. If letters look wrong, give --encoding"]
    raise TableReadError(f"cannot decode {Path(path).name}")  # latin-1 decodes any byte


def sniff_separator(text: str) -> str:
    """The separator that splits the first lines into the same number (> 1) of fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        raise TableReadError("the file is empty")
    best, best_fields = None, 1
    for separator in SEPARATORS:
        counts = {len(row) for row in csv.reader(lines, delimiter=separator)}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = separator, fields
    if best is None:
        # one column, or ragged lines: let the reader say what is wrong, split on commas
        return ","
    return best


def sniff_decimal(text: str, separator: str) -> str:
    """A decimal comma when fields hold numbers like ``12,5`` and none like ``12.5``
    (a comma-separated file cannot have decimal commas in unquoted fields)."""
    if separator == ",":
        return "."
    comma = point = 0
    for row in csv.reader(text.splitlines()[1:200], delimiter=separator):
        for field in row:
            comma += bool(_DECIMAL_COMMA.match(field))
            point += bool(_DECIMAL_POINT.match(field))
    return "," if comma > 0 and point == 0 else "."


def read_delimited(path: Path, separator: str | None = None, decimal: str | None = None,
                   encoding: str | None = None) -> tuple[pd.DataFrame, Dialect, list[str]]:
    """Read a delimited text file; returns the table, the dialect used and notes."""
    if separator is not None and separator not in SEPARATORS:
        aliases = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ","}
        if separator not in aliases:
            raise TableReadError(f"--sep {separator!r}: use one of , ; tab |")
        separator = aliases[separator]
    if decimal is not None and decimal not in DECIMALS:
        raise TableReadError(f"--decimal {decimal!r}: use . or ,")
    text, used_encoding, notes = decode(path, encoding)
    separator = separator or sniff_separator(text)
    decimal = decimal or sniff_decimal(text, separator)
    if separator == decimal:
        raise TableReadError(f"the separator and the decimal mark cannot both be {separator!r}")
    dialect = Dialect(separator, decimal, used_encoding)
    try:
        df = pd.read_csv(io.StringIO(text), sep=separator, decimal=decimal)
    except (pd.errors.ParserError, ValueError) as err:
        raise TableReadError(f"cannot read {Path(path).name} as {dialect.describe()}: {err}") \
            from None
    if (separator, decimal) != (",", "."):
        notes.append(f"{Path(path).name} was read as {dialect.describe()}")
    return df, dialect, notes


def _as_number(value: str, decimal: str):
    text = str(value).strip()
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def text_in_number_columns(df: pd.DataFrame, decimal: str = ".", share: float = 0.8) -> dict:
    """Columns read as text although most of their values are numbers: column -> the file's
    line numbers (the header is line 1) and values of the entries that are not numbers.

    ``share``: the fraction of non-missing values that must be numbers for the column to
    count as a column of numbers with some text in it (a factor coded ``T1``, ``T2`` has none).
    """
    found = {}
    for column in df.columns:
        values = df[column]
        if pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
            continue
        present = values.dropna()
        if present.empty:
            continue
        numbers = present.map(lambda v: _as_number(v, decimal))
        is_number = numbers.notna()
        if is_number.mean() >= share and not is_number.all():
            bad = present[~is_number]
            lines = [int(df.index.get_loc(i)) + 2 for i in bad.index]
            found[column] = list(zip(lines, bad.astype(str).tolist()))
    return found
