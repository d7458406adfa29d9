"""Fixed-effects design matrix X with R's coefficient names.

formulaic builds the matrix with treatment contrasts and R's column order;
here its names are rewritten the way R prints them (``trt[T.T2]`` ->
``trtT2``, ``Intercept`` -> ``(Intercept)``) and an aliased (rank-deficient)
design is refused with the names of the columns involved.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
from formulaic import model_matrix

from .errors import GLMMInputError

_LEVEL = re.compile(r"\[(?:T\.)?(.*?)\]")


def r_name(name: str) -> str:
    if name == "Intercept":
        return "(Intercept)"
    name = _LEVEL.sub(lambda m: m.group(1), name)
    return name.replace("`", "")


def build_matrix(rhs: str, data: pd.DataFrame, what: str):
    try:
        mm = model_matrix(rhs, data, na_action="raise")
    except GLMMInputError:
        raise
    except Exception as err:
        raise GLMMInputError(f"cannot build the {what} from {rhs!r}: {err}") from None
    return mm


@dataclass
class FixedEffects:
    rhs: str
    X: np.ndarray
    names: list
    spec: object               # formulaic ModelSpec, to build X for new data

    @classmethod
    def from_frame(cls, rhs: str, data: pd.DataFrame, what="fixed-effects design"):
        mm = build_matrix(rhs, data, what)
        X = np.asarray(mm, dtype=float)
        names = [r_name(c) for c in mm.columns]
        if X.shape[1]:
            _check_rank(X, names, what)
        return cls(rhs, np.ascontiguousarray(X), names, mm.model_spec)

    def matrix_for(self, newdata: pd.DataFrame) -> np.ndarray:
        try:
            mm = self.spec.get_model_matrix(newdata, na_action="raise")
        except Exception as err:
            raise GLMMInputError(f"cannot build the design for new data: {err}") from None
        return np.asarray(mm, dtype=float)

    @property
    def terms(self):
        """Map of formula term -> coefficient names, e.g. {'trt': ['trtT2', ...]}."""
        return {str(t): [self.names[i] for i in self.spec.term_indices[t]]
                for t in self.spec.terms}


def _check_rank(X, names, what):
    _, r, piv = scipy.linalg.qr(X, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > diag[0] * 1e-10 * max(X.shape))) if diag.size else 0
    if rank < X.shape[1]:
        aliased = [names[i] for i in sorted(piv[rank:])]
        raise GLMMInputError(
            f"the {what} is rank deficient: {', '.join(aliased)} cannot be estimated from "
            "these data (a factor combination with no rows, or a column that repeats others); "
            "remove or recode those terms")
