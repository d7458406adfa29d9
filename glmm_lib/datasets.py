"""The data sets shipped with the course, typed as the lessons use them.

The files live in the repository's ``data/`` folder (found relative to this
package, so the repository works in place without installation) and are
described by ``data/datapackage.json``: column types, units, and the levels of
every factor in the order the course uses. :func:`load` reads that description,
so the CSV files, the documentation and the loaded frames cannot drift apart.

>>> from glmm_lib import datasets
>>> datasets.available()
['beall_webworms', 'crowder_seeds']
>>> df = datasets.load("beall_webworms")
>>> list(df["block"].cat.categories[:3])
['B1', 'B2', 'B3']
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["DATA_DIR", "DatasetError", "available", "load", "metadata", "path"]

#: The repository's ``data/`` folder.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_PACKAGE_FILE = "datapackage.json"


class DatasetError(ValueError):
    """An unknown data set name, or a data file that does not match its description."""


def _package() -> dict:
    file = DATA_DIR / _PACKAGE_FILE
    if not file.is_file():
        raise DatasetError(
            f"the data description {file} is missing; glmm_lib expects the "
            "repository's data/ folder next to the glmm_lib/ package"
        )
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
    """Path of the CSV file of ``name``."""
    return DATA_DIR / metadata(name)["path"]


def load(name: str) -> pd.DataFrame:
    """Load a shipped data set as a :class:`pandas.DataFrame`.

    Integer columns are ``int64``; factor columns are unordered pandas
    categoricals whose categories are the levels listed in
    ``data/datapackage.json``, in that order (for example ``B1, B2, ..., B13``,
    not the alphabetical ``B1, B10, B11, ...``). The first level is the
    reference level of treatment contrasts.

    Raises :class:`DatasetError` (a ``ValueError``) for an unknown name, and
    when the file does not match its description (a missing column, a value
    outside the listed levels, a missing value).
    """
    resource = metadata(name)
    file = DATA_DIR / resource["path"]
    fields = resource["schema"]["fields"]
    raw = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")

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
