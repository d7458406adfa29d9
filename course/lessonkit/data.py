"""The data a lesson reads: a shipped data set by name, or a CSV file of the same design.

A lesson's parameters cell names its data; a relative file name given to
``python -m course build --param lesson.data=...`` is meant from the
repository, while the lesson runs in its own folder. :func:`read` resolves it
and hands over to :func:`glmm_lib.datasets.read`.
"""
from __future__ import annotations

from pathlib import Path

from glmm_lib import datasets

from ..project import REPO_ROOT

__all__ = ["read"]


def read(source, factors=()):
    """:func:`glmm_lib.datasets.read` of ``source``, with a relative file path that
    does not exist from the working folder tried from the repository root."""
    source = str(source)
    if source not in datasets.available():
        file = Path(source).expanduser()
        if not file.is_file() and not file.is_absolute() and (REPO_ROOT / file).is_file():
            source = str(REPO_ROOT / file)
    return datasets.read(source, factors=factors)
