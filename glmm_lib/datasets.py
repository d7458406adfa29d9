"""The data sets shipped with the course, typed as the lessons use them.

Where the files are: package data of glmm_lib, read with :mod:`importlib.resources`
from ``glmm_lib/data``, a symbolic link to the repository's ``data/`` folder (the
project keeps its data there, with their provenance), so the library finds its data
wherever it is installed and never looks at the repository's layout.

The data sets are described by ``data/datapackage.json``: column types, units, and the levels of
every factor in the order the course uses. :func:`load` reads that description,
so the CSV files, the documentation and the loaded frames cannot drift apart.

>>> from glmm_lib import datasets
>>> datasets.available()
['beall_webworms', 'crowder_seeds', 'swine_weights']
>>> df = datasets.load("beall_webworms")
>>> list(df["block"].cat.categories[:3])
['B1', 'B2', 'B3']
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["SHIPPED", "DatasetError", "available", "load", "metadata", "path", "read"]

#: The folder of the shipped data (a :class:`importlib.resources.abc.Traversable`).
SHIPPED = resources.files(__package__) / "data"
_PACKAGE_FILE = "datapackage.json"


class DatasetError(ValueError):
    """An unknown data set name, or a data file that does not match its description."""


def _package() -> dict:
    file = SHIPPED / _PACKAGE_FILE
    if not file.is_file():
        raise DatasetError(f"the data description {file} is missing from glmm_lib's package data")
    return json.loads(file.read_text(encoding="utf-8"))


def _resources() -> dict[str, dict]:
    return {res["name"]: res for res in _package()["resources"]}


def available() -> list[str]:
    """Names of the shipped data sets, sorted."""
    return sorted(_resources())


def metadata(name: str) -> dict:
    """The data-package entry of ``name``: title, description, sources, schema."""
    resources = _resources()
    if not isinstance(name, str) or name not in resources:
        raise DatasetError(
            f"unknown data set {name!r}; available data sets: {', '.join(sorted(resources))}"
        )
    return resources[name]


def path(name: str) -> Path:
    """Path of the CSV file of ``name`` (glmm_lib installed as files, not zipped)."""
    return Path(str(SHIPPED / metadata(name)["path"]))


def load(name: str) -> pd.DataFrame:
    """Load a shipped data set as a :class:`pandas.DataFrame`.

    Integer columns are ``int64``, number columns ``float64``; factor columns are unordered pandas
    categoricals whose categories are the levels listed in
    ``data/datapackage.json``, in that order (for example ``B1, B2, ..., B13``,
    not the alphabetical ``B1, B10, B11, ...``). The first level is the
    reference level of treatment contrasts.

    Raises :class:`DatasetError` (a ``ValueError``) for an unknown name, and
    when the file does not match its description (a missing column, a value
    outside the listed levels, a missing value).
    """
    resource = metadata(name)
    file = SHIPPED / resource["path"]
    fields = resource["schema"]["fields"]
    with file.open("rb") as handle:
        raw = pd.read_csv(handle, dtype=str, keep_default_na=False, encoding="utf-8",
                          compression="gzip" if resource.get("compression") == "gz" else None)

    expected = [f["name"] for f in fields]
    if list(raw.columns) != expected:
        raise DatasetError(
            f"{file.name}: columns {list(raw.columns)} do not match the description {expected}"
        )

    out = {}
    for field in fields:
        col, values = field["name"], raw[field["name"]]
        if (values == "").any():
            raise DatasetError(f"{file.name}: column {col!r} has missing values")
        levels = field.get("constraints", {}).get("enum")
        if field["type"] == "integer":
            try:
                out[col] = values.astype("int64")
            except ValueError as err:
                raise DatasetError(f"{file.name}: column {col!r} is not integer: {err}") from None
        elif field["type"] == "number":
            try:
                out[col] = values.astype("float64")
            except ValueError as err:
                raise DatasetError(f"{file.name}: column {col!r} is not a number: {err}") from None
        elif levels is not None:
            unknown = sorted(set(values) - set(levels))
            if unknown:
                raise DatasetError(
                    f"{file.name}: column {col!r} has values {unknown} outside its levels {levels}"
                )
            out[col] = pd.Categorical(values, categories=levels, ordered=False)
        else:
            out[col] = values
    return pd.DataFrame(out)


def _natural_key(label: str):
    """Sort key that puts B2 before B10: text and numbers compared piecewise."""
    import re

    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", str(label)) if part]


def read(source, factors=()) -> pd.DataFrame:
    """A data set for a lesson: a shipped one by name (as :func:`load`), or any CSV
    file by path (relative to the working folder).

    Lessons name their data in the parameters cell, so that a page can be re-run
    on another data set of the same design. For a CSV file, the columns in
    ``factors`` become unordered categoricals with their levels in natural order
    (``B1, B2, ..., B10``; the first is the reference level); for a shipped data
    set the levels stated in ``data/datapackage.json`` are kept.
    """
    source = str(source)
    if source in available():
        frame = load(source)
    else:
        file = Path(source).expanduser()
        if not file.is_file():
            raise DatasetError(f"{source!r} is neither a shipped data set "
                               f"({', '.join(available())}) nor a CSV file")
        frame = pd.read_csv(file)
    missing = [c for c in factors if c not in frame.columns]
    if missing:
        raise DatasetError(f"{source}: no column(s) {missing}; columns: {list(frame.columns)}")
    for col in factors:
        if not isinstance(frame[col].dtype, pd.CategoricalDtype):
            values = frame[col].astype(str)
            levels = sorted(values.unique(), key=_natural_key)
            frame[col] = pd.Categorical(values, categories=levels)
    return frame
