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
from .formula import split_top_level

_FACTOR_PIECE = re.compile(r"(.*?)\[(?:T\.)?(.*)\]", re.S)
_BACKTICKED = re.compile(r"`([^`]*)`")
_SYNTACTIC = re.compile(r"(([A-Za-z]|[.][._A-Za-z])[._A-Za-z0-9]*|[.])")
_R_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE",
               "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_",
               "NA_character_", "in"}


def _r_symbol(name: str) -> str:
    """A variable name as R deparses it: backticks only around non-syntactic names."""
    if _SYNTACTIC.fullmatch(name) and name not in _R_RESERVED:
        return name
    return f"`{name}`"


def r_name(name: str) -> str:
    """formulaic's column name written as R's model.matrix names it.

    ``trt[T.T2]`` -> ``trtT2``, ``Intercept`` -> ``(Intercept)``, ``a b[T.v]`` -> ```a b`v``,
    ``I(x ** 2)`` -> ``I(x^2)``; interactions piece by piece."""
    if name == "Intercept":
        return "(Intercept)"
    out = []
    for piece in split_top_level(name, ":"):
        m = _FACTOR_PIECE.fullmatch(piece)
        base, level = (m.group(1), m.group(2)) if m else (piece, "")
        if "(" in base:   # a function of columns, e.g. log(x), scale(`x 1`)
            base = _BACKTICKED.sub(lambda b: _r_symbol(b.group(1)), base)
            base = base.replace(" ** ", "^").replace(" / ", "/")
        else:
            base = _r_symbol(base.strip("`"))
        out.append(base + level)
    return ":".join(out)


def _python_powers(rhs: str) -> str:
    """R's ``^`` inside a function call (``I(x^2)``) is a power: Python's ``**`` for formulaic
    (which would read it as exclusive or).  Outside calls ``^`` stays the formula operator
    (``(a + b)^2``)."""
    out, stack, quoted = [], [], False
    for i, ch in enumerate(rhs):
        if ch == "`":
            quoted = not quoted
        elif not quoted and ch == "(":
            before = rhs[:i].rstrip()
            stack.append(bool(before) and (before[-1].isalnum() or before[-1] in "._`"))
        elif not quoted and ch == ")" and stack:
            stack.pop()
        elif not quoted and ch == "^" and any(stack):
            out.append("**")
            continue
        out.append(ch)
    return "".join(out)


def build_matrix(rhs: str, data: pd.DataFrame, what: str):
    try:
        mm = model_matrix(_python_powers(rhs), data, na_action="raise")
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
        if rhs.strip() == "1":      # the commonest random-term design: no formula machinery
            return InterceptOnly(rhs, np.ones((len(data), 1)), ["(Intercept)"], None)
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


class InterceptOnly(FixedEffects):
    """The design of ``1``: a column of ones (what formulaic would build, ten times faster)."""

    def matrix_for(self, newdata: pd.DataFrame) -> np.ndarray:
        return np.ones((len(newdata), 1))

    @property
    def terms(self):
        return {"1": ["(Intercept)"]}


def _check_rank(X, names, what):
    """Pivoted QR on a p x p square root of X'X: the same pivots as on X itself, at the
    cost of one pass over the rows (X may have millions)."""
    scale = np.sqrt(np.sum(X * X, axis=0))
    zero = scale == 0
    scale[zero] = 1.0
    gram = (X.T @ X) / np.outer(scale, scale)
    eigval, eigvec = np.linalg.eigh(gram)
    root = np.sqrt(np.clip(eigval, 0, None))[:, None] * eigvec.T
    _, r, piv = scipy.linalg.qr(root, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > diag[0] * 1e-7)) if diag.size else 0
    if zero.any():
        rank = min(rank, X.shape[1] - int(zero.sum()))
    if rank < X.shape[1]:
        aliased = [names[i] for i in sorted(piv[rank:])]
        raise GLMMInputError(
            f"the {what} is rank deficient: {', '.join(aliased)} cannot be estimated from "
            "these data (a factor combination with no rows, or a column that repeats others); "
            "remove or recode those terms")
