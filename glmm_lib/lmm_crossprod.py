"""The cross-products of [Z X y] of a linear mixed model, blocked by the components of Z'Z.

For a gaussian identity-link model everything the likelihood needs from the rows is

    Z'WZ, Z'W[X y], [X y]'W[X y] and sum(w)        (W the prior weights),

formed once (Bates, Maechler, Bolker and Walker 2015, J. Stat. Softw. 67(1), section 3).
Random-effect coefficients that never share a row have zero entries in Z'WZ, so it splits
into dense blocks: the connected components of the graph linking the coefficients of a
row (one component per level of a single grouping factor, one per outer level of a nested
pair, one for all the levels of crossed factors).  Components of equal size m are stacked
in a ``Bucket`` as (count, m, m) arrays for numpy's batched algebra.  A component of
crossed factors with ``blocks.ELIMINATE_FROM`` coefficients or more is not formed densely:
it is a ``lmm_crossed.CrossedComponent``, factored by eliminating its largest factor.

Lambda is block diagonal by term and level, so inside a component it is the terms' s x s
factors placed at their levels' slots (``Placement``).  A refit with a new response
recomputes only the products with y (``with_response``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .blocks import ELIMINATE_FROM
from .lmm_crossed import CrossedComponent


@dataclass(frozen=True)
class Placement:
    """Where one term's s x s factor lands in a bucket's stacked blocks: entry ``flat``
    (i * s + j) of the factor goes to block ``comp``, row ``row``, column ``col``."""
    term: int
    size: int
    comp: np.ndarray
    row: np.ndarray
    col: np.ndarray
    flat: np.ndarray


@dataclass(frozen=True)
class Bucket:
    size: int                       # m, coefficients per component
    global_cols: np.ndarray         # (count, m) the coefficient (column of Z) of each slot
    rows: np.ndarray | None         # the observations whose coefficients live here (None: all)
    row_slots: np.ndarray           # (rows, K) flat slot comp * m + local of each row's values
    ZtWZ: np.ndarray                # (count, m, m)
    ZtWXy: np.ndarray               # (count, m, p + 1): Z'WX and Z'Wy side by side
    placements: tuple               # one Placement per term present in the bucket
    single_term: int | None         # a term each of whose levels is one component (Lambda
                                    # is then that term's factor itself in every block)

    def factor_blocks(self, factors):
        """Lambda on each block: (m, m) when it is the same for all, else (count, m, m)."""
        if self.single_term is not None:
            return factors[self.single_term]
        lam = np.zeros((self.global_cols.shape[0], self.size, self.size))
        for pl in self.placements:
            lam[pl.comp, pl.row, pl.col] = factors[pl.term].ravel()[pl.flat]
        return lam

    def term_sums(self, blocks, n_terms):
        """For each term, the sum over its levels of the entries of ``blocks`` (count, m, m)
        at its own factor's positions (None for a term not in the bucket)."""
        out = [None] * n_terms
        if self.single_term is not None:
            out[self.single_term] = blocks.sum(axis=0)
            return out
        for pl in self.placements:
            out[pl.term] = np.bincount(pl.flat, weights=blocks[pl.comp, pl.row, pl.col],
                                       minlength=pl.size * pl.size).reshape(pl.size, pl.size)
        return out


class CrossProducts:
    """Z'WZ and Z'W[X y] blocked by component, [X y]'W[X y], sum(w); the large components
    of crossed factors in ``crossed``."""

    def __init__(self, random_effects, X, y, weights):
        re = random_effects
        self.n_terms = len(re.terms)
        self.sizes = [t.size for t in re.terms]
        self.q, self.p = re.q, X.shape[1]
        self.X, self.weights = X, weights
        self.total_weight = float(np.sum(weights))
        self._z = (re.terms[0].design.X if self.n_terms == 1
                   else np.hstack([t.design.X for t in re.terms]))
        unweighted = bool(np.all(weights == 1.0))
        self._wz = self._z if unweighted else self._z * weights[:, None]
        Xy = np.empty((X.shape[0], self.p + 1), order="F")   # columns contiguous for bincount
        Xy[:, :-1], Xy[:, -1] = X, y
        # one grouping factor: each level is a component, and a row's is its level
        self._level = re.terms[0].codes if self.n_terms == 1 else None
        self.XyWXy = Xy.T @ (Xy if unweighted else weights[:, None] * Xy)
        comp_of_col, local = self._components(re)
        crossed = self.crossed_components(re, comp_of_col) or []    # None: ``applies`` refuses
        self.crossed = [self._crossed(re, comp_of_col, c, Xy, weights) for c in crossed]
        self.buckets = self._buckets(re, comp_of_col, local, Xy, skip=crossed)

    def with_response(self, y) -> CrossProducts:
        """The same products with another response: only Z'Wy, X'Wy and y'Wy are new."""
        new = object.__new__(CrossProducts)
        new.__dict__.update(self.__dict__)
        wy = self.weights * y
        xy_wy = np.append(self.X.T @ wy, y @ wy)
        new.XyWXy = self.XyWXy.copy()
        new.XyWXy[-1, :] = new.XyWXy[:, -1] = xy_wy
        new.buckets = [dataclasses.replace(b, ZtWXy=np.concatenate(
            [b.ZtWXy[..., :-1], self._slot_sums(b, y[:, None])], axis=2)) for b in self.buckets]
        new.crossed = [c.with_response(y[c.rows]) for c in self.crossed]
        return new

    @staticmethod
    def crossed_components(re, comp_of_col):
        """The components of ``ELIMINATE_FROM`` coefficients or more that span several
        grouping factors (one factor's large block, as ``(0 + f | g)`` with hundreds of
        levels of f, has no diagonal part to eliminate: None, where there is one)."""
        sizes = np.bincount(comp_of_col)
        large = np.flatnonzero(sizes >= ELIMINATE_FROM)
        if large.size == 0:
            return []
        factor_of_term = re.slot_factors()[[sl.start for sl in re.row_slices]]
        factor_of_col = np.repeat(factor_of_term, [t.n_levels * t.size for t in re.terms])
        spans = [np.unique(factor_of_col[comp_of_col == c]).size for c in large]
        if min(spans) < 2:
            return None
        return list(large)

    def _crossed(self, re, comp_of_col, comp, Xy, weights):
        rows = np.flatnonzero(comp_of_col[re.cols[:, 0]] == comp)
        slot_term = np.repeat(np.arange(self.n_terms), self.sizes)
        return CrossedComponent(rows, re.cols[rows], self._z[rows], weights[rows], Xy[rows],
                                slot_term, re.slot_factors(), re.offsets, self.sizes)

    @staticmethod
    def _components(re):
        """The component of each coefficient and its slot inside it (in column order)."""
        cols, q = re.cols, re.q
        if len(re.terms) == 1:               # one factor: a component per level
            s = re.terms[0].size
            return np.arange(q) // s, np.arange(q) % s
        n, K = cols.shape
        edges = sp.coo_matrix((np.ones(n * (K - 1)), (np.repeat(cols[:, 0], K - 1),
                                                      cols[:, 1:].ravel())), shape=(q, q))
        _, comp_of_col = connected_components(edges, directed=False)
        order = np.argsort(comp_of_col, kind="stable")
        first = np.concatenate([[0], np.cumsum(np.bincount(comp_of_col))[:-1]])
        local = np.empty(q, dtype=np.int64)
        local[order] = np.arange(q) - first[comp_of_col[order]]
        return comp_of_col, local

    def _slot_sums(self, bucket, values):
        """sum over the bucket's rows of w z_k values_i at each row's slots: (count, m, r).
        One bincount of length rows per (k, column): no (rows, K, r) temporary."""
        count, m = bucket.global_cols.shape
        wz = self._wz if bucket.rows is None else self._wz[bucket.rows]
        vals = values if bucket.rows is None else values[bucket.rows]
        if self._level is not None:     # one factor: slot k of a row is its value k
            out = np.empty((count, m, values.shape[1]))
            for k in range(m):
                for j in range(values.shape[1]):
                    out[:, k, j] = np.bincount(self._level, wz[:, k] * vals[:, j],
                                               minlength=count)
            return out
        out = np.zeros((count * m, values.shape[1]))
        for k in range(wz.shape[1]):
            for j in range(values.shape[1]):
                out[:, j] += np.bincount(bucket.row_slots[:, k], wz[:, k] * vals[:, j],
                                         minlength=count * m)
        return out.reshape(count, m, -1)

    def _buckets(self, re, comp_of_col, local, Xy, skip):
        comp_sizes = np.bincount(comp_of_col)
        term_of_col = np.repeat(np.arange(self.n_terms), [t.n_levels * t.size for t in re.terms])
        dense = np.ones(comp_sizes.size, bool)
        dense[skip] = False
        sizes = np.unique(comp_sizes[dense])
        row_comp = comp_of_col[re.cols[:, 0]] if sizes.size > 1 or skip else None
        buckets = []
        for m in sizes:
            comps = np.flatnonzero((comp_sizes == m) & dense)
            position = np.full(comp_sizes.size, -1)
            position[comps] = np.arange(comps.size)
            member = np.flatnonzero(position[comp_of_col] >= 0)
            global_cols = np.empty((comps.size, m), dtype=np.int64)
            global_cols[position[comp_of_col[member]], local[member]] = member
            rows = (None if sizes.size == 1 and not skip
                    else np.flatnonzero(position[row_comp] >= 0))
            cols = re.cols if rows is None else re.cols[rows]
            z = self._z if rows is None else self._z[rows]
            wz = self._wz if rows is None else self._wz[rows]
            ZtWZ = np.zeros((comps.size, m, m))
            if self._level is not None:
                # one factor, a component per level: the slots are the columns themselves,
                # and Z'WZ sums w z z' by level
                row_slots = cols
                for k1 in range(m):
                    for k2 in range(k1, m):
                        ZtWZ[:, k1, k2] = ZtWZ[:, k2, k1] = np.bincount(
                            self._level, wz[:, k1] * z[:, k2], minlength=comps.size)
            else:
                # each row adds w z z' at its own slots; the pair (k2, k1) of a row's
                # values is the transpose of the pair (k1, k2)
                row_slots = position[comp_of_col[cols]] * m + local[cols]
                row_local = local[cols]
                for k1 in range(cols.shape[1]):
                    for k2 in range(k1, cols.shape[1]):
                        pair = np.bincount(row_slots[:, k1] * m + row_local[:, k2],
                                           wz[:, k1] * z[:, k2], minlength=comps.size * m * m)
                        pair = pair.reshape(comps.size, m, m)
                        ZtWZ += pair if k1 == k2 else pair + np.swapaxes(pair, 1, 2)
            placements = []
            for k, (term, off) in enumerate(zip(re.terms, re.offsets)):
                s = term.size
                first_cols = off + np.arange(term.n_levels) * s
                levels = np.flatnonzero(position[comp_of_col[first_cols]] >= 0)
                if levels.size == 0:
                    continue
                level_cols = first_cols[levels][:, None] + np.arange(s)          # (levels, s)
                slots = local[level_cols]
                placements.append(Placement(
                    k, s, np.repeat(position[comp_of_col[level_cols[:, 0]]], s * s),
                    np.repeat(slots, s, axis=1).ravel(), np.tile(slots, s).ravel(),
                    np.tile(np.arange(s * s), levels.size)))
            terms_here = np.unique(term_of_col[member])
            single = (int(terms_here[0]) if terms_here.size == 1
                      and m == re.terms[terms_here[0]].size else None)
            bucket = Bucket(int(m), global_cols, rows, row_slots, ZtWZ, None, tuple(placements),
                            single)
            buckets.append(dataclasses.replace(bucket, ZtWXy=self._slot_sums(bucket, Xy)))
        return buckets
