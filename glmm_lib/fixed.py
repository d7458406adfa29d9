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
        not_finite = [name for name, ok in zip(names, np.isfinite(X).all(axis=0)) if not ok]
        if not_finite:
            raise GLMMInputError(f"the {what} has values that are not finite (e.g. log of 0) in "
                                 f"{', '.join(not_finite)}")
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


# R's lm (LINPACK dqrdc2): a column is aliased when its distance from the span of the earlier
# kept columns is below this fraction of its own norm.
ALIAS_TOLERANCE = 1e-7
# X'X holds squared norms, so the relative distances on the diagonal of its Cholesky factor are
# accurate only to about sqrt(p * eps) (1e-7 for hundreds of columns): a column further than this
# from the earlier ones is kept whatever the rounding, a nearer one goes to the check on X itself.
_SURELY_KEPT = 1e-5


def aliased_columns(X: np.ndarray) -> list[int]:
    """Indices of the columns of X that R's ``lm`` reports as aliased (coefficient NA).

    The columns are scanned in model-matrix order and a column is aliased when it is, within
    ``ALIAS_TOLERANCE`` of its norm, a linear combination of the earlier kept ones (a zero column
    always is), so of a set of aliased columns the later ones are named.  Nothing is pivoted by
    size, so no tie between equal columns is broken by rounding: the answer is the same for every
    BLAS kernel and thread count (rounding moves a distance by about 1e-16 of the norm, and real
    designs' distances are zero or far above the tolerance)."""
    if _surely_full_rank(X):
        return []
    # a p x p square root of X'X computed from X itself (Householder QR is backward stable),
    # so the distances below are accurate to rounding, where X'X's are only to its square root
    root = np.linalg.qr(X, mode="r")
    aliased, kept = [], np.empty((root.shape[0], 0))
    for j, column in enumerate(root.T):
        residual = column.copy()
        for _ in range(2):   # Gram-Schmidt twice: once loses orthogonality on near-aliased columns
            residual -= kept @ (kept.T @ residual)
        norm, distance = np.linalg.norm(column), np.linalg.norm(residual)
        if norm == 0 or distance < ALIAS_TOLERANCE * norm:
            aliased.append(j)
        else:
            kept = np.column_stack([kept, residual / distance])
    return aliased


def _surely_full_rank(X: np.ndarray) -> bool:
    """The fast answer for the designs of nearly every fit, from X'X (one pass over the rows, X
    may have millions): the unpivoted Cholesky factor of the correlation-scaled X'X has on its
    diagonal each column's relative distance from the span of all earlier ones."""
    gram = X.T @ X
    norms = np.sqrt(np.diag(gram))
    if X.shape[0] < X.shape[1] or not np.all(norms > 0):
        return False
    try:
        factor = np.linalg.cholesky(gram / np.outer(norms, norms))
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.diag(factor) > _SURELY_KEPT))


def _check_rank(X, names, what):
    aliased = [names[j] for j in aliased_columns(X)]
    if aliased:
        raise GLMMInputError(
            f"the {what} is rank deficient: {', '.join(aliased)} cannot be estimated from "
            "these data (a factor combination with no rows, or a column that repeats others); "
            "remove or recode those terms")
