"""Block-diagonal algebra for H = A' W A + I.

Random-effect coefficients that never share a row of Z are independent given
the data, so H splits into blocks: the connected components of the graph that
links coefficients appearing in the same row.  One grouping factor gives one
block per level (a 1x1 block for a random intercept), nesting gives one block
per outer level, crossing joins everything into one block.  Blocks of equal
size are stacked and handled by numpy's batched linear algebra, so no sparse
factorization is needed and every operation is vectorized.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_solve
from scipy.sparse.csgraph import connected_components

from .elimination import CoupledBlock

# From this block size on, LAPACK's triangular solves one block at a time beat numpy's
# batched LU solve, which factors the (already triangular) Cholesky factor again:
# measured 0.27 ms against 1.0 ms for six 101 x 101 blocks; batched wins for many small ones.
LARGE_BLOCK = 24
# From this size on a connected block is factored by elimination: a dense 200 x 200
# Cholesky takes ~1 ms, and below it the elimination's bookkeeping is not worth it.
ELIMINATE_FROM = 200


class _Bucket:
    """All components of one size m: stacked arrays of shape (count, m, m)."""

    def __init__(self, size, global_cols, rows, flat_rows):
        self.size = size
        self.global_cols = global_cols    # (count, m) global column of each local slot
        self.rows = rows                  # observation rows whose coefficients live here
        self.flat_rows = flat_rows        # (len(rows), K) flat index comp*m + local
        m = size
        self.comp = flat_rows // m        # the component of each row (constant along K)
        self.local = flat_rows % m
        # where each row's K x K outer product lands in the stacked (count, m, m) blocks:
        # fixed by the design, so computed once rather than at every assembly
        self.outer_index = ((self.comp[:, :, None] * m + self.local[:, :, None]) * m
                            + self.local[:, None, :]).ravel() if m > 1 else None


class BlockStructure:
    """The connected blocks of H for the row-wise pattern ``cols`` (n, K) of q columns.

    ``slot_factors`` names the grouping factor of each of a row's K slots (slots of terms
    on the same factor share a name; by default every slot is its own factor), which the
    elimination of a large block reads; ``eliminate_from`` is the size from which a block
    is factored by elimination rather than densely."""

    def __init__(self, cols: np.ndarray, q: int, slot_factors=None,
                 eliminate_from: int = ELIMINATE_FROM):
        n, K = cols.shape
        self.q, self.K, self.n = q, K, n
        if K > 1:
            first = np.repeat(cols[:, :1], K - 1, axis=1).ravel()
            graph = sp.coo_matrix((np.ones(first.size), (first, cols[:, 1:].ravel())), shape=(q, q))
            n_comp, comp_of_col = connected_components(graph, directed=False)
        else:
            n_comp, comp_of_col = q, np.arange(q)
        comp_sizes = np.bincount(comp_of_col, minlength=n_comp)
        row_comp = comp_of_col[cols[:, 0]]
        slot_factors = np.arange(K) if slot_factors is None else np.asarray(slot_factors)
        self.coupled = []
        for c in np.flatnonzero(comp_sizes >= eliminate_from):
            rows = np.flatnonzero(row_comp == c)
            self.coupled.append(CoupledBlock(rows, cols[rows], np.flatnonzero(comp_of_col == c),
                                             slot_factors))
        # local slot of each column inside its component, in column order
        order = np.argsort(comp_of_col, kind="stable")
        starts = np.concatenate([[0], np.cumsum(comp_sizes)[:-1]])
        local = np.empty(q, dtype=np.int64)
        local[order] = np.arange(q) - np.repeat(starts, comp_sizes)
        self.buckets = []
        for m in np.unique(comp_sizes[comp_sizes < eliminate_from]):
            comps = np.flatnonzero(comp_sizes == m)
            position = np.full(n_comp, -1, dtype=np.int64)
            position[comps] = np.arange(comps.size)
            global_cols = np.empty((comps.size, m), dtype=np.int64)
            member = position[comp_of_col] >= 0
            global_cols[position[comp_of_col[member]], local[member]] = np.flatnonzero(member)
            rows = np.flatnonzero(position[row_comp] >= 0)
            flat_rows = position[row_comp[rows]][:, None] * m + local[cols[rows]]
            self.buckets.append(_Bucket(int(m), global_cols, rows, flat_rows))
        self.single_scalar = (not self.coupled and len(self.buckets) == 1
                              and self.buckets[0].size == 1 and K == 1)
        self._cols = cols

    def components(self):
        """Every connected block as (its rows, their columns' local index (rows, K), size)."""
        for bucket in self.buckets:
            comp = bucket.flat_rows[:, 0] // bucket.size
            order = np.argsort(comp, kind="stable")
            rows, comp = bucket.rows[order], comp[order]
            splits = np.flatnonzero(np.diff(comp)) + 1
            for block_rows, block_flat in zip(np.split(rows, splits),
                                              np.split(bucket.flat_rows[order], splits)):
                yield block_rows, block_flat % bucket.size, bucket.size
        for block in self.coupled:
            yield (block.rows, np.searchsorted(block.columns, self._cols[block.rows]),
                   block.columns.size)

    # ---- assembly ----------------------------------------------------------
    def assemble(self, A, w):
        """Blocks of H = A' diag(w) A + I: one stacked array per bucket, then the parts of
        each coupled block."""
        out = []
        for b in self.buckets:
            m, count = b.size, b.global_cols.shape[0]
            if m == 1:
                flat = b.flat_rows[:, 0]
                vals = w[b.rows] * A[b.rows, 0] ** 2   # m == 1 only happens when K == 1
                h = np.bincount(flat, weights=vals, minlength=count) + 1.0
                out.append(h.reshape(count, 1, 1))
                continue
            a = A[b.rows]
            vals = w[b.rows, None, None] * a[:, :, None] * a[:, None, :]
            h = np.bincount(b.outer_index, weights=vals.ravel(), minlength=count * m * m)
            h = h.reshape(count, m, m)
            h[:, np.arange(m), np.arange(m)] += 1.0
            out.append(h)
        return out + [block.assemble(A, w) for block in self.coupled]

    # ---- factorization -----------------------------------------------------
    def cholesky(self, blocks):
        """Cholesky factors per bucket and coupled block, or None if some block is not
        positive definite."""
        out = []
        for h in blocks[:len(self.buckets)]:
            if h.shape[1] == 1:
                if np.any(h <= 0) or not np.all(np.isfinite(h)):
                    return None
                out.append(np.sqrt(h))
                continue
            try:
                out.append(np.linalg.cholesky(h))
            except np.linalg.LinAlgError:
                return None
        for block, assembled in zip(self.coupled, blocks[len(self.buckets):]):
            factor = block.factor(assembled)
            if factor is None:
                return None
            out.append(factor)
        return out

    def logdet(self, chol):
        n = len(self.buckets)
        return (float(sum(2 * np.sum(np.log(np.diagonal(c, axis1=1, axis2=2))) for c in chol[:n]))
                + sum(block.logdet(f) for block, f in zip(self.coupled, chol[n:])))

    def solve(self, chol, vector):
        """H^-1 vector for a global vector of length q."""
        out = np.empty_like(vector)
        for b, c in zip(self.buckets, chol):
            rhs = vector[b.global_cols]
            if b.size == 1:
                out[b.global_cols] = rhs / c[:, :, 0] ** 2
                continue
            if b.size >= LARGE_BLOCK:
                out[b.global_cols] = [cho_solve((ck, True), rk, check_finite=False)
                                      for ck, rk in zip(c, rhs)]
                continue
            y = np.linalg.solve(c, rhs[:, :, None])
            x = np.linalg.solve(np.swapaxes(c, 1, 2), y)
            out[b.global_cols] = x[:, :, 0]
        for block, factor in zip(self.coupled, chol[len(self.buckets):]):
            block.solve(factor, vector, out)
        return out

    def inverse(self, chol):
        """H^-1 where the gradient reads it: whole blocks for the buckets, the selected
        entries (``CoupledInverse``) for each coupled block."""
        out = []
        for c in chol[:len(self.buckets)]:
            m = c.shape[1]
            if m == 1:
                out.append(1.0 / c**2)
            elif m >= LARGE_BLOCK:
                eye = np.eye(m)
                out.append(np.stack([cho_solve((ck, True), eye, check_finite=False) for ck in c]))
            else:
                cinv = np.linalg.inv(c)
                out.append(np.swapaxes(cinv, 1, 2) @ cinv)
        return out + [block.inverse(f) for block, f in zip(self.coupled, chol[len(self.buckets):])]

    def row_products(self, inverse, A):
        """For each row i, H^-1 a_i at its own coefficients: (n, K), the K x K block of
        H^-1 at the row's coefficients applied to its row of A (coupled blocks never form
        those blocks)."""
        out = np.empty((self.n, self.K))
        for b, hinv in zip(self.buckets, inverse):
            rows = hinv[b.comp[:, :, None], b.local[:, :, None], b.local[:, None, :]]
            out[b.rows] = np.einsum("ikl,il->ik", rows, A[b.rows])
        for block, hinv in zip(self.coupled, inverse[len(self.buckets):]):
            block.row_products(hinv, A, out)
        return out

    def unit_variances(self, inverse):
        """Diagonal of H^-1 as a global vector (conditional variances of b)."""
        out = np.empty(self.q)
        for b, hinv in zip(self.buckets, inverse):
            out[b.global_cols] = np.diagonal(hinv, axis1=1, axis2=2)
        for block, hinv in zip(self.coupled, inverse[len(self.buckets):]):
            block.unit_variances(hinv, out)
        return out

    def entries(self, inverse, first, second):
        """(H^-1)[first, second] for global columns of one level of one grouping factor
        (arrays of the same shape): the conditional covariance of a level's coefficients."""
        if not hasattr(self, "_where"):
            # each column's (bucket or coupled block, component or level, local index)
            where = np.empty((self.q, 3), dtype=np.int64)
            for k, b in enumerate(self.buckets):
                comp, local = np.indices(b.global_cols.shape)
                where[b.global_cols.ravel()] = np.column_stack(
                    [np.full(comp.size, k), comp.ravel(), local.ravel()])
            for k, block in enumerate(self.coupled, start=len(self.buckets)):
                columns, level, index = block.locate()
                where[columns] = np.column_stack([np.full(columns.size, k), level, index])
            self._where = where
        w1, w2 = self._where[first], self._where[second]
        out = np.empty(np.shape(first))
        for k, hinv in enumerate(inverse):
            sel = w1[..., 0] == k
            if k < len(self.buckets):
                out[sel] = hinv[w1[sel][:, 1], w1[sel][:, 2], w2[sel][:, 2]]
            else:
                out[sel] = CoupledBlock.entries(hinv, w1[sel][:, 1], w1[sel][:, 2],
                                                w2[sel][:, 1], w2[sel][:, 2])
        return out
