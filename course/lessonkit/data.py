"""The data a lesson reads: a shipped data set by name, or a CSV file of the same design.

A lesson's parameters cell names its data; a relative file name given to
``python -m course build --param lesson.data=...`` is meant from the
repository, while the lesson runs in its own folder. :func:`read` resolves it
and hands over to :func:`glmm_lib.datasets.read`. :func:`unit` and
:func:`label` give a column's unit, and an axis label with it, when the data
set's description states one.
"""
from __future__ import annotations

import re
from pathlib import Path

from glmm_lib import datasets

from ..project import REPO_ROOT

__all__ = ["read", "unit", "label"]


def read(source, factors=()):
    """:func:`glmm_lib.datasets.read` of ``source``, with a relative file path that
    does not exist from the working folder tried from the repository root."""
    source = str(source)
    if source not in datasets.available():
        file = Path(source).expanduser()
        if not file.is_file() and not file.is_absolute() and (REPO_ROOT / file).is_file():
            source = str(REPO_ROOT / file)
    return datasets.read(source, factors=factors)


def unit(source, column: str) -> str | None:
    """The unit ``data/datapackage.json`` states for ``column`` of the shipped data set
    ``source``, without its remark (``"cm, to 0.1 cm"`` gives ``cm``, ``"larvae per unit
    area (count)"`` gives ``larvae per unit area``); None for a factor and for a file of one's
    own, whose units nobody stated."""
    if str(source) not in datasets.available():
        return None
    fields = datasets.metadata(str(source))["schema"]["fields"]
    stated = next((f.get("unit") for f in fields if f["name"] == column), None)
    if stated is None:
        raise KeyError(f"the data set {source!r} has no column {column!r}")
    stated = re.sub(r"\s*\(.*\)$", "", stated).split(",")[0].strip()
    return None if stated == "factor" else stated


def label(source, column: str, prefix: str = "") -> str:
    """An axis label for ``column``: ``prefix`` and the column's name, with its :func:`unit`
    when there is one (``"mean yield (1/4 lb per subplot)"``)."""
    text = f"{prefix} {column}".strip()
    stated = unit(source, column)
    return text if stated is None else f"{text} ({stated})"
