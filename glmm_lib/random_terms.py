"""Random-effects terms and the sparse structure of Z Lambda.

Each term ``(lhs | group)`` contributes ``s`` coefficients per level of its
grouping factor.  Row i of Z has, for each term, the ``s`` values of the
term's left-hand side model matrix at the columns of its level; so Z (and
A = Z Lambda, since Lambda is block diagonal by level) is stored row-wise as
an (n, K) array of values and an (n, K) array of column numbers, K the total
number of coefficients per row over all terms.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .blocks import BlockStructure
from .covstruct import STRUCTURES, CovStructure
from .errors import GLMMInputError
from .fixed import FixedEffects
from .formula import RandomTermSpec
from .parameters import Parameter


@dataclass
class RandomTerm:
    spec: RandomTermSpec
    group_name: str            # "block", "a:b"
    levels: list               # level labels in order
    codes: np.ndarray          # (n,) level index per row
    design: FixedEffects       # left-hand side model matrix (n, s)
    structure: CovStructure

    @property
    def size(self):
        return self.design.X.shape[1]

    @property
    def term_names(self):
        return self.design.names

    @property
    def n_levels(self):
        return len(self.levels)

    def codes_for(self, newdata: pd.DataFrame) -> np.ndarray:
        """Level index for new rows; -1 where the level was not in the fit."""
        labels = group_labels(newdata, self.group_name)
        lookup = {lvl: i for i, lvl in enumerate(self.levels)}
        return np.array([lookup.get(v, -1) for v in labels], dtype=np.int64)


def group_labels(data: pd.DataFrame, group: str) -> list:
    cols = [c.strip().strip("`") for c in group.split(":")]
    parts = [data[c].astype(str).to_numpy() for c in cols]
    if len(parts) == 1:
        return list(parts[0])
    return [":".join(p) for p in zip(*parts)]


def build_term(spec: RandomTermSpec, data: pd.DataFrame, design=None) -> RandomTerm:
    """The term ``spec`` on ``data``; ``design``, its left-hand side's model matrix when
    already built (the same formula on the same data)."""
    cols = [c.strip().strip("`") for c in spec.group.split(":")]
    code_columns = [data[c].cat.codes.to_numpy().astype(np.int64) for c in cols]
    # one integer key per combination, in the order of the factors' levels
    key = np.zeros(len(data), dtype=np.int64)
    n_keys = 1
    for c, codes_c in zip(cols, code_columns):
        key = key * len(data[c].cat.categories) + codes_c
        n_keys *= len(data[c].cat.categories)
    if n_keys <= 4 * len(data):     # a table of the combinations: no sort of the rows
        present = np.bincount(key, minlength=n_keys) > 0
        uniq_keys = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[key]
    else:
        uniq_keys, codes = np.unique(key, return_inverse=True)
    remaining = uniq_keys.copy()
    parts = []
    for c in reversed(cols):
        categories = np.asarray(data[c].cat.categories).astype(str)
        parts.append(categories[remaining % len(categories)])
        remaining //= len(categories)
    labels = [":".join(p) for p in zip(*reversed(parts))] if len(parts) > 1 else parts[0].tolist()
    if len(labels) < 2:
        raise GLMMInputError(
            f"grouping factor {spec.group!r} has only one level ({labels[0]!r}) in the rows "
            "used; a random effect needs at least two groups")
    if design is None:
        design = FixedEffects.from_frame(spec.lhs, data, what=f"random term {spec}")
    if design.X.shape[1] == 0:
        raise GLMMInputError(f"random term {spec} has no coefficients")
    structure_cls = STRUCTURES[spec.structure]
    return RandomTerm(spec, spec.group, labels, codes.ravel().astype(np.int64), design,
                      structure_cls(design.X.shape[1]))


class RandomEffects:
    """All random terms together: column layout of b, the row-wise pattern of Z,
    and Lambda(theta) applied to it."""

    def __init__(self, terms: list, nobs: int):
        self.terms = terms
        self.nobs = nobs
        self.offsets = np.cumsum([0] + [t.n_levels * t.size for t in terms])
        self.q = int(self.offsets[-1])
        self.theta_slices = []
        start = 0
        for t in terms:
            self.theta_slices.append(slice(start, start + t.structure.n_params))
            start += t.structure.n_params
        self.n_theta = start
        self.row_slices = []
        k = 0
        for t in terms:
            self.row_slices.append(slice(k, k + t.size))
            k += t.size
        self.K = k
        cols = np.empty((nobs, self.K), dtype=np.int64)
        for t, off, rs in zip(terms, self.offsets, self.row_slices):
            cols[:, rs] = off + t.codes[:, None] * t.size + np.arange(t.size)[None, :]
        self.cols = cols
        self._cols0 = np.ascontiguousarray(cols[:, 0]) if self.K else None

    @functools.cached_property
    def blocks(self):
        """The block structure of H = A'WA + I (None without random effects)."""
        return BlockStructure(self.cols, self.q, self.slot_factors()) if self.q else None

    def slot_factors(self):
        """The grouping factor of each of a row's K coefficients (terms on one factor,
        such as ``(1|g) + (0 + x|g)``, share its levels and so its blocks of H)."""
        names = [t.group_name for t in self.terms]
        return np.concatenate([np.full(t.size, names.index(t.group_name)) for t in self.terms])

    def times(self, A, b):
        """A b, row by row, for A stored row-wise (n, K)."""
        if self.K == 1:
            return A[:, 0] * b[self._cols0]
        return np.einsum("ik,ik->i", A, b[self.cols])

    def transpose_times(self, A, v):
        """A'v, a vector over the q random-effect coefficients."""
        if self.K == 1:
            return np.bincount(self._cols0, weights=A[:, 0] * v, minlength=self.q)
        return np.bincount(self.cols.ravel(), weights=(A * v[:, None]).ravel(), minlength=self.q)

    def take(self, rows):
        """The same terms on a subset of the rows (every level still present)."""
        terms = [replace(t, codes=t.codes[rows], design=replace(t.design, X=t.design.X[rows]))
                 for t in self.terms]
        return RandomEffects(terms, len(rows))

    def theta_start(self):
        if not self.terms:
            return np.zeros(0)
        return np.concatenate([t.structure.start() for t in self.terms])

    def theta_parameters(self):
        """The parameters of every term's structure, labelled ``theta:<name>|<group>``."""
        out = []
        for t in self.terms:
            out += [Parameter(f"theta:{p.name}|{t.group_name}", p.kind, p.transform, p.bounds,
                              p.natural_name and f"{p.natural_name}|{t.group_name}")
                    for p in t.structure.parameters(t.term_names)]
        return out

    def factors(self, theta):
        return [t.structure.factor(theta[sl]) for t, sl in zip(self.terms, self.theta_slices)]

    def values(self, theta, factors=None):
        """Row-wise values of A = Z Lambda(theta), shape (n, K)."""
        factors = self.factors(theta) if factors is None else factors
        out = np.empty((self.nobs, self.K))
        for t, lam, rs in zip(self.terms, factors, self.row_slices):
            out[:, rs] = t.design.X @ lam
        return out

    def theta_gradient(self, theta, Q):
        """sum_il (dA_il / dtheta_k) Q_il for every theta_k, Q row-wise (n, K).

        A term's rows are X_t Lambda_t, so the sum is <dLambda_k, X_t' Q_t>: one
        product with X_t per term, not an (n, K) array per parameter."""
        out = np.empty(self.n_theta)
        for t, sl, rs in zip(self.terms, self.theta_slices, self.row_slices):
            M = t.design.X.T @ Q[:, rs]
            out[sl] = [np.sum(dlam * M) for dlam in t.structure.jacobian(theta[sl])]
        return out

    def values_change(self, theta, dtheta):
        """sum_k dtheta_k dA/dtheta_k, row-wise (n, K): A's first-order change."""
        out = np.zeros((self.nobs, self.K))
        for t, sl, rs in zip(self.terms, self.theta_slices, self.row_slices):
            if np.any(dtheta[sl]):
                jac = t.structure.jacobian(theta[sl])
                out[:, rs] = t.design.X @ sum(dk * dlam for dk, dlam in zip(dtheta[sl], jac))
        return out
