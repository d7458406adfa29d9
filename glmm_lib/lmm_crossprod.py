"""The cross-products of [Z X y] of a linear mixed model, blocked by the components of Z'Z.

For a gaussian identity-link model everything the likelihood needs from the rows is

    Z'WZ, Z'WX, Z'Wy, X'WX, X'Wy, y'Wy and sum(w)      (W the prior weights),

formed once (Bates, Maechler, Bolker and Walker 2015, J. Stat. Softw. 67(1), section 3).
Random-effect coefficients that never share a row have zero entries in Z'WZ, so it splits
into dense blocks: the connected components of the graph linking the coefficients of a
row (one component per level of a single grouping factor, one per outer level of a nested
pair, one for all the levels of crossed factors).  Components of equal size m are stacked
in a ``Bucket`` as (count, m, m) arrays for numpy's batched algebra.

Lambda is block diagonal by term and level, so inside a component it is the terms' s x s
factors placed at their levels' slots (``Placement``).  The response's products are kept
apart (``Response``): a refit with a new y recomputes only those.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


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
    ZtWZ: np.ndarray                # (count, m, m)
    ZtWX: np.ndarray                # (count, m, p)
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

    def term_sums(self, blocks, sizes):
        """For each term, the sum over its levels of the entries of ``blocks`` (count, m, m)
        at its own factor's positions: the gradient with respect to that factor."""
        out = [None] * len(sizes)
        if self.single_term is not None:
            out[self.single_term] = blocks.sum(axis=0)
            return out
        for pl in self.placements:
            values = blocks[pl.comp, pl.row, pl.col]
            out[pl.term] = np.bincount(pl.flat, weights=values,
                                       minlength=pl.size * pl.size).reshape(pl.size, pl.size)
        return out


@dataclass(frozen=True)
class Response:
    """The products that involve y (one column per response in a matrix of them)."""
    ZtWy: list                      # per bucket (count, m, r)
    XtWy: np.ndarray                # (p, r)
    yWy: np.ndarray                 # (r,)


class CrossProducts:
    """Z'WZ and Z'WX blocked by component, X'WX, and the response's products."""

    def __init__(self, random_effects, X, weights):
        re = random_effects
        self.n_terms = len(re.terms)
        self.sizes = [t.size for t in re.terms]
        self.q, self.p = re.q, X.shape[1]
        self.weights = weights
        self.total_weight = float(np.sum(weights))
        n, K = re.cols.shape
        z_values = np.hstack([t.design.X for t in re.terms])
        indptr = np.arange(0, n * K + 1, K)
        self._Z = sp.csr_matrix((z_values.ravel(), re.cols.ravel(), indptr), shape=(n, self.q))
        # W Z transposed, kept for the response's products (a refit needs only those)
        self._ZtW = sp.csr_matrix(((z_values * weights[:, None]).ravel(), re.cols.ravel(), indptr),
                                  shape=(n, self.q)).T.tocsr()
        self.XtWX = X.T @ (weights[:, None] * X)
        ZtWZ = (self._ZtW @ self._Z).tocoo()
        ZtWX = self._ZtW @ X
        comp_of_col, local = self._components(re.cols, self.q)
        self.buckets = self._buckets(re, comp_of_col, local, ZtWZ, np.asarray(ZtWX))

    @staticmethod
    def _components(cols, q):
        """The component of each coefficient and its slot inside it (in column order)."""
        n, K = cols.shape
        if K > 1:
            edges = sp.coo_matrix((np.ones(n * (K - 1)), (np.repeat(cols[:, 0], K - 1),
                                                          cols[:, 1:].ravel())), shape=(q, q))
            _, comp_of_col = connected_components(edges, directed=False)
        else:
            comp_of_col = np.arange(q)
        order = np.argsort(comp_of_col, kind="stable")
        sizes = np.bincount(comp_of_col)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        local = np.empty(q, dtype=np.int64)
        local[order] = np.arange(q) - first[comp_of_col[order]]
        return comp_of_col, local

    def _buckets(self, re, comp_of_col, local, ZtWZ, ZtWX):
        comp_sizes = np.bincount(comp_of_col)
        term_of_col = np.repeat(np.arange(self.n_terms),
                                [t.n_levels * t.size for t in re.terms])
        buckets = []
        for m in np.unique(comp_sizes):
            comps = np.flatnonzero(comp_sizes == m)
            position = np.full(comp_sizes.size, -1)
            position[comps] = np.arange(comps.size)
            member = np.flatnonzero(position[comp_of_col] >= 0)
            global_cols = np.empty((comps.size, m), dtype=np.int64)
            global_cols[position[comp_of_col[member]], local[member]] = member
            inside = position[comp_of_col[ZtWZ.row]] >= 0
            blocks = np.zeros((comps.size, m, m))
            r, c = ZtWZ.row[inside], ZtWZ.col[inside]
            blocks[position[comp_of_col[r]], local[r], local[c]] = ZtWZ.data[inside]
            placements = []
            for k, (term, off) in enumerate(zip(re.terms, re.offsets)):
                s = term.size
                first_cols = off + np.arange(term.n_levels) * s
                levels = np.flatnonzero(position[comp_of_col[first_cols]] >= 0)
                if levels.size == 0:
                    continue
                cols = first_cols[levels][:, None] + np.arange(s)          # (levels, s)
                comp = np.repeat(position[comp_of_col[cols[:, 0]]], s * s)
                row = np.repeat(local[cols], s, axis=1).ravel()
                col = np.tile(local[cols], s).ravel()
                flat = np.tile(np.arange(s * s), levels.size)
                placements.append(Placement(k, s, comp, row, col, flat))
            terms_here = np.unique(term_of_col[member])
            single = (int(terms_here[0]) if terms_here.size == 1
                      and m == re.terms[terms_here[0]].size else None)
            buckets.append(Bucket(int(m), global_cols, blocks, ZtWX[global_cols],
                                  tuple(placements), single))
        return buckets

    def response(self, X, Y) -> Response:
        """The products of responses ``Y`` (n, r): what a refit with a new y recomputes."""
        w = self.weights
        ZtWY = self._ZtW @ Y
        return Response([ZtWY[b.global_cols] for b in self.buckets],
                        X.T @ (w[:, None] * Y), np.einsum("ir,ir->r", Y, w[:, None] * Y))
