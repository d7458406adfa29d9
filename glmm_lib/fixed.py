"""Fixed-effects design matrix X with R's coefficient names.

formulaic builds the matrix with treatment contrasts and R's column order;
here its names are rewritten the way R prints them (``trt[T.T2]`` ->
``trtT2``, ``Intercept`` -> ``(Intercept)``) and an aliased (rank-deficient)
design is refused with the names of the columns involved.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
from formulaic import model_matrix

from .errors import GLMMInputError
from .expressions import FORMULAIC_CONTEXT
from .formula import plain_terms, split_top_level
from .rnames import r_symbol

_FACTOR_PIECE = re.compile(r"(.*?)\[(?:T\.)?(.*)\]", re.S)
_BACKTICKED = re.compile(r"`([^`]*)`")


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
            base = _BACKTICKED.sub(lambda b: r_symbol(b.group(1)), base)
            base = base.replace(" ** ", "^").replace(" / ", "/")
        else:
            base = r_symbol(base.strip("`"))
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
        mm = model_matrix(_python_powers(rhs), data, na_action="raise", context=FORMULAIC_CONTEXT)
    except GLMMInputError:
        raise
    except Exception as err:
        raise GLMMInputError(f"cannot build the {what} from {rhs!r}: {err}") from None
    return mm


def main_effects(rhs: str, data: pd.DataFrame):
    """X and R's names for an intercept plus main effects of plain columns (``trt + x``),
    built directly, or None for any other formula.

    This is the design of most course models, and formulaic takes milliseconds to build
    it, as long as a whole fit of a small model.  The columns are what formulaic (and R)
    give: the intercept, then each term in the order written, a numeric column as it
    is, a factor (a pandas categorical in the frame) as treatment dummies for its levels
    after the first."""
    columns = plain_terms(rhs)
    if columns is None or not all(c in data.columns for c in columns):
        return None
    blocks, names = [np.ones((len(data), 1))], ["(Intercept)"]
    for column in columns:
        values = data[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = values.cat.categories[1:]
            codes = values.cat.codes.to_numpy()
            blocks.append((codes[:, None] == np.arange(1, len(levels) + 1)).astype(float))
            names += [f"{r_symbol(column)}{level}" for level in levels]
        elif pd.api.types.is_numeric_dtype(values) and values.dtype != bool:
            blocks.append(values.to_numpy(dtype=float)[:, None])
            names.append(r_symbol(column))
        else:
            return None
    return np.hstack(blocks), names


@dataclass
class FixedEffects:
    rhs: str
    X: np.ndarray
    names: list
    source: pd.DataFrame = field(default=None, repr=False)   # the frame X was built from
    _spec: object = field(default=None, repr=False)

    @classmethod
    def from_frame(cls, rhs: str, data: pd.DataFrame, what="fixed-effects design"):
        if rhs.strip() == "1":      # the commonest random-term design: no formula machinery
            return InterceptOnly(rhs, np.ones((len(data), 1)), ["(Intercept)"], data)
        direct = main_effects(rhs, data)
        if direct is not None:
            X, names = direct
            spec = None
        else:
            mm = build_matrix(rhs, data, what)
            X = np.asarray(mm, dtype=float)
            names = [r_name(c) for c in mm.columns]
            spec = mm.model_spec
        if X.shape[1]:
            _check_rank(X, names, what)
        return cls(rhs, np.ascontiguousarray(X), names, data, spec)

    @property
    def spec(self):
        """formulaic's ModelSpec, to build X for new data; made on first use for a design
        built directly (``main_effects``)."""
        if self._spec is None:
            mm = build_matrix(self.rhs, self.source, "fixed-effects design")
            names = [r_name(c) for c in mm.columns]
            if names != self.names:
                raise RuntimeError(f"glmm_lib built the columns {self.names} for {self.rhs!r} "
                                   f"but formulaic builds {names}; please report this formula")
            self._spec = mm.model_spec
        return self._spec

    def matrix_for(self, newdata: pd.DataFrame) -> np.ndarray:
        try:
            mm = self.spec.get_model_matrix(newdata, na_action="raise", context=FORMULAIC_CONTEXT)
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
