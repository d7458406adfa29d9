"""A large coupled block of H = A' W A + I, factored by eliminating its largest factor.

Crossed grouping factors join their random effects into one connected block of H
(``blocks.py``).  Factored as a dense matrix it costs m^3 / 3 for m coefficients and
m^2 memory: minutes and gigabytes for lme4's InstEval (m = 4114).  But every row of
the data has exactly one level of each grouping factor, so the coefficients of one
factor, E (s per level), meet only themselves within a row: their part of H is block
diagonal, D = diag(D_j) with s x s blocks.  Ordering E first,

    H = [ D   C ]     C = A_E' W A_R   (sparse: level j touches the columns N_j of R
        [ C'  R ]                      that its rows use)

    L = [ L_D          0  ]   with L_D L_D' = D,  G = L_D^-1 C  (the pattern of C),
        [ G'           L_S]        L_S L_S' = S = R - G'G,

so log det H = log det D + log det S and H x = v is two block-triangular solves.  E is
the factor with the most coefficients in the block; S is dense over the other factors'
q2 coefficients (InstEval: 1128 lecturers + 14 departments, after the 2972 students).

The exact gradient of the Laplace likelihood needs H^-1 only at the pairs of
coefficients that share a row.  With T = G S^-1 restricted to the pattern of G,

    (H^-1)_RR = S^-1,   (H^-1)_EjR = -L_Dj^-T T_j,   (H^-1)_EjEj = L_Dj^-T (I + T_j G_j') L_Dj^-1,

and T_j = G_j S^-1[N_j, N_j] needs only the entries of S^-1 among the columns that
level j touches: sum_j |N_j|^2 work, never the dense q1 x q2 block of H^-1.

Why this and not a general sparse Cholesky (CHOLMOD through scikit-sparse): the
elimination above is what a fill-reducing ordering finds for crossed factors anyway,
it needs no compiled dependency, and it gives the selected inverse the gradient
needs directly from S^-1; scikit-sparse exposes no selected inversion, so the
Takahashi recursions would have to run as a Python loop over the factor's columns.
Its limit is memory: S is dense, so several large factors crossed with one another
need q2^2 doubles a few times over, and the constructor refuses a block that does
not fit before any work starts (``memory.require``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from . import memory

# S^-1 is gathered for a chunk of pairs at once; the entries gathered for a chunk stay
# under this many doubles, which with their indices stay in cache (measured at 10^6
# pairs: 0.19 s at 2e5 doubles, 0.22 s at 2e6, 0.27 s at 4e6)
GATHER_DOUBLES = 200_000
# up to this many doubles G S^-1 is formed whole (one product, then read at the pairs);
# beyond it S^-1 is gathered pair by pair at the columns of the pair's level
PRODUCT_DOUBLES = 10_000_000
# levels are grouped by how many columns of R they touch; within a group each is padded
# to the group's largest, and the groups' sizes grow by this ratio (padding waste <= 25%)
GROUP_RATIO = 1.25


@dataclass
class CoupledFactor:
    """The factor L of one coupled block at one parameter vector."""
    LD_inv: np.ndarray         # (levels, s, s) inverses of the Cholesky factors of D_j
    logdet_D: float
    G_values: np.ndarray       # (pairs, s): G = L_D^-1 C at each (level, column of R) pair
    G: sp.csr_matrix | np.ndarray   # the same as a (levels * s, q2) matrix, sparse or dense
    LS: np.ndarray             # lower Cholesky factor of the Schur complement S


@dataclass
class CoupledInverse:
    """The entries of H^-1 the gradient and the conditional variances read."""
    EE: np.ndarray             # (levels, s, s) diagonal blocks of the eliminated factor
    ER: np.ndarray             # (pairs, s) (H^-1)[level's coefficients, column of R]
    RR: np.ndarray             # S^-1, dense (q2, q2)


class CoupledBlock:
    """One connected block of H too large to factor densely, by elimination.

    ``rows`` are the observations whose coefficients lie in the block, ``row_cols`` their
    global columns (len(rows), K), ``columns`` the block's global columns and
    ``slot_factors`` the grouping factor of each of the K slots of a row."""

    def __init__(self, rows, row_cols, columns, slot_factors):
        self.rows = rows
        # the rows as a slice where they are a run (all rows, in a crossed design): reading
        # and writing row-wise arrays through it copies nothing, through the index does
        contiguous = rows.size and rows[-1] - rows[0] == rows.size - 1
        self._row_index = slice(int(rows[0]), int(rows[-1]) + 1) if contiguous else rows
        self.columns = columns
        slot_factors = np.asarray(slot_factors)
        factors = np.unique(slot_factors)
        sizes = [np.unique(row_cols[:, slot_factors == f]).size for f in factors]
        eliminated = factors[int(np.argmax(sizes))]
        self.slots_E = np.flatnonzero(slot_factors == eliminated)
        self.slots_R = np.flatnonzero(slot_factors != eliminated)
        s, r = self.slots_E.size, self.slots_R.size
        self.s, self.r = s, r
        # the eliminated factor's levels: each row has one, named by its first column
        first_col = row_cols[:, self.slots_E[0]]
        _, first_row, self.row_level = np.unique(first_col, return_index=True, return_inverse=True)
        self.row_level = self.row_level.ravel()
        self.level_cols = row_cols[first_row][:, self.slots_E]        # (levels, s) global
        self.n_levels = n_levels = first_row.size
        self.R_cols = np.setdiff1d(columns, self.level_cols.ravel())  # global, sorted
        self.q2 = q2 = self.R_cols.size
        self.row_R = np.searchsorted(self.R_cols, row_cols[:, self.slots_R])    # (n, r) local
        # the pattern of C: the (level, column of R) pairs that some row has
        keys, pair_of = np.unique(self.row_level[:, None] * q2 + self.row_R, return_inverse=True)
        self.pair_of = pair_of.reshape(self.row_R.shape)
        self.pair_level, self.pair_col = keys // q2, keys % q2
        n_pairs = keys.size
        memory.require(8.0 * (5 * q2 * q2 + n_pairs * (6 * s + 4) + 2 * rows.size * (r + s) ** 2),
                       f"factoring the {columns.size} coupled random-effect coefficients "
                       f"(a dense Schur complement of {q2} x {q2})")
        counts = np.bincount(self.pair_level, minlength=n_levels)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # G as CSR with rows (level, slot): row j*s+e holds the pairs of level j in order
        p = np.repeat(np.arange(n_pairs), s)
        e = np.tile(np.arange(s), n_pairs)
        csr_row = self.pair_level[p] * s + e
        order = np.lexsort((self.pair_col[p], csr_row))
        self._csr_pair, self._csr_slot = p[order], e[order]
        self._csr_indices = self.pair_col[p][order].astype(np.int32)
        self._csr_indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(csr_row, minlength=n_levels * s))]).astype(np.int32)
        # G'G by BLAS on a dense G when that is not much more work than the sparse
        # product (few columns of R, as items against subjects): no sparse overhead
        sparse_work = float(np.sum((counts * s) ** 2))
        self.dense_G = n_levels * s * q2 * q2 <= 20 * sparse_work + 2e6
        self._dense_index = csr_row[order] * q2 + self._csr_indices
        # where each row's contributions to D, C and R land (fixed by the design)
        self._D_index = (self.row_level[:, None, None] * s * s
                         + np.arange(s)[None, :, None] * s + np.arange(s)[None, None, :]).ravel()
        self._C_index = (self.pair_of[:, :, None] * s + np.arange(s)[None, None, :]).ravel()
        self._R_index = (self.row_R[:, :, None] * q2 + self.row_R[:, None, :]).ravel()
        self._groups = self._level_groups(counts, starts)

    def _level_groups(self, counts, starts):
        """Levels grouped by how many pairs they have.  Per group: the levels' pairs padded
        to the group's width (padding points at pair -1), the columns of R of those pairs
        (padding at column 0) and, for the gather, the group's pairs ordered by their own
        column of R, in chunks of (pairs, the row of their level in the group)."""
        groups = []
        touched = np.flatnonzero(counts)
        bucket = np.ceil(np.log(counts[touched]) / np.log(GROUP_RATIO)).astype(np.int64)
        for key in np.unique(bucket):
            levels = touched[bucket == key]
            width = int(counts[levels].max())
            offsets = np.arange(width)[None, :]
            pairs = np.where(offsets < counts[levels][:, None], starts[levels][:, None] + offsets, -1)
            cols = np.where(pairs >= 0, self.pair_col[pairs], 0)
            rows, _ = np.nonzero(pairs >= 0)
            members = pairs[pairs >= 0]
            order = np.argsort(self.pair_col[members], kind="stable")
            members, rows = members[order], rows[order]
            chunk = max(1, GATHER_DOUBLES // width)
            groups.append((pairs, cols, [(members[i:i + chunk], rows[i:i + chunk])
                                         for i in range(0, members.size, chunk)]))
        return groups

    # ---- assembly and factorization ------------------------------------------
    def assemble(self, A, w):
        """The blocks D (levels, s, s), C (pairs, s) and R (q2, q2) of H for A, w over all
        rows of the model."""
        a, wr = A[self._row_index], w[self._row_index]
        aE, aR = a[:, self.slots_E], a[:, self.slots_R]
        s, q2 = self.s, self.q2
        D = np.bincount(self._D_index, weights=(wr[:, None, None] * aE[:, :, None] * aE[:, None, :]).ravel(),
                        minlength=self.n_levels * s * s).reshape(self.n_levels, s, s)
        D[:, np.arange(s), np.arange(s)] += 1.0
        C = np.bincount(self._C_index, weights=(wr[:, None, None] * aR[:, :, None] * aE[:, None, :]).ravel(),
                        minlength=self.pair_level.size * s).reshape(-1, s)
        R = np.bincount(self._R_index, weights=(wr[:, None, None] * aR[:, :, None] * aR[:, None, :]).ravel(),
                        minlength=q2 * q2).reshape(q2, q2)
        R[np.arange(q2), np.arange(q2)] += 1.0
        return D, C, R

    def factor(self, assembled) -> CoupledFactor | None:
        """The block's Cholesky factor, or None where H is not positive definite."""
        D, C, R = assembled
        if not np.all(np.isfinite(D)) or not np.all(np.isfinite(R)):
            return None
        try:
            LD = np.linalg.cholesky(D)
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(LD, axis1=1, axis2=2)
        if self.s == 1:
            LD_inv = 1.0 / LD
            G_values = C / LD[self.pair_level, 0]
        else:
            LD_inv = np.linalg.inv(LD)
            G_values = np.einsum("pab,pb->pa", LD_inv[self.pair_level], C)
        data = G_values[self._csr_pair, self._csr_slot]
        shape = (self.n_levels * self.s, self.q2)
        if self.dense_G:
            G = np.zeros(shape)
            G.ravel()[self._dense_index] = data
            S = R - G.T @ G
        else:
            G = sp.csr_matrix((data, self._csr_indices, self._csr_indptr), shape=shape)
            S = R - (G.T @ G).toarray()
        try:
            LS = scipy.linalg.cholesky(S, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        logdet_D = 2.0 * float(np.sum(np.log(diag)))
        return CoupledFactor(LD_inv, logdet_D, G_values, G, LS)

    @staticmethod
    def logdet(factor: CoupledFactor) -> float:
        return factor.logdet_D + 2.0 * float(np.sum(np.log(np.diag(factor.LS))))

    def solve(self, factor: CoupledFactor, vector, out):
        """Write the block's part of H^-1 vector into ``out`` (global vectors)."""
        z = np.einsum("jab,jb->ja", factor.LD_inv, vector[self.level_cols])      # L_D^-1 v_E
        rhs = vector[self.R_cols] - factor.G.T @ z.ravel()
        x_R = scipy.linalg.cho_solve((factor.LS, True), rhs, check_finite=False)
        t = (z.ravel() - factor.G @ x_R).reshape(self.n_levels, self.s)
        out[self.level_cols] = np.einsum("jba,jb->ja", factor.LD_inv, t)          # L_D^-T t
        out[self.R_cols] = x_R

    # ---- selected inversion --------------------------------------------------
    def inverse(self, factor: CoupledFactor) -> CoupledInverse:
        """H^-1 at the diagonal blocks of the eliminated factor, at the pairs of C and
        over R (where it is S^-1, dense)."""
        S_inv = self._schur_inverse(factor.LS)
        s = self.s
        if self.n_levels * s * self.q2 <= PRODUCT_DOUBLES:
            # G S^-1 in one product (BLAS, or sparse times dense), read at the pairs
            GS = np.asarray(factor.G @ S_inv).reshape(self.n_levels, s, self.q2)
            T = GS[self.pair_level, :, self.pair_col]                    # (pairs, s)
        else:
            T = self._gathered_products(factor, S_inv)
        outer = (T[:, :, None] * factor.G_values[:, None, :]).reshape(-1, s * s)
        TG = np.stack([np.bincount(self.pair_level, weights=outer[:, k], minlength=self.n_levels)
                       for k in range(s * s)], axis=1).reshape(self.n_levels, s, s)
        eye = np.eye(s)
        LD_inv = factor.LD_inv
        EE = np.einsum("jba,jbc,jcd->jad", LD_inv, eye + TG, LD_inv)
        ER = -np.einsum("pba,pb->pa", LD_inv[self.pair_level], T)
        return CoupledInverse(EE, ER, S_inv)

    @staticmethod
    def _schur_inverse(LS):
        """S^-1 from its Cholesky factor: LAPACK's potri (2 q2^3 / 3 flops, a third of two
        triangular solves against the identity; measured 0.11 s against 0.28 s at
        q2 = 2000 on one thread) fills the lower triangle, mirrored to the upper."""
        lower, info = scipy.linalg.lapack.dpotri(LS, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("the Schur complement is singular")
        lower = np.tril(lower)
        full = lower + lower.T
        full[np.diag_indices_from(full)] *= 0.5
        return full

    def _gathered_products(self, factor, S_inv):
        """T = G S^-1 at the pairs, from S^-1 gathered at the columns each level touches
        (sum_j |N_j|^2 entries; where G S^-1 whole would be too large).

        T at pair (j, c) is G_j times column c of S^-1 at the columns N_j, read as row c
        (S^-1 is symmetric).  Taken pair by pair in the order of c, consecutive pairs read
        the same row, which stays in cache: a third less time than level by level, where
        each level's N_j x N_j block is spread over the whole of S^-1 (32 MB at q2 = 2000)."""
        T = np.empty_like(factor.G_values)
        padded_values = np.vstack([factor.G_values, np.zeros((1, self.s))])
        flat = S_inv.ravel()
        for pairs, cols, chunks in self._groups:
            values = padded_values[pairs]                    # (levels, width, s); zero padding
            for members, rows in chunks:
                index = cols[rows]
                index += (self.pair_col[members] * self.q2)[:, None]
                T[members] = np.einsum("pk,pks->ps", flat.take(index), values[rows])
        return T

    def row_products(self, inverse: CoupledInverse, A, out):
        """Write each of the block's rows' H^-1 a_i, at the row's own K coefficients, into
        ``out`` (n, K): the row's K x K block of H^-1 times a_i, without forming the block."""
        a = A[self._row_index]
        aE, aR = a[:, self.slots_E], a[:, self.slots_R]
        er = inverse.ER.reshape(-1, self.s)[self.pair_of]    # (n, r, s)
        if self.r == 1:     # one coefficient of R per row: a product, no gather of pairs
            rr = inverse.RR.ravel()[self.row_R[:, 0] * (self.q2 + 1)][:, None, None]
        else:
            rr = inverse.RR[self.row_R[:, :, None], self.row_R[:, None, :]]
        # sums over the few coefficients of a row by broadcasting (einsum is slower here)
        products_E = ((inverse.EE[self.row_level] * aE[:, None, :]).sum(2)
                      + (er * aR[:, :, None]).sum(1))
        products_R = (er * aE[:, None, :]).sum(2) + (rr * aR[:, None, :]).sum(2)
        products = np.empty_like(a)
        products[:, self.slots_E] = products_E
        products[:, self.slots_R] = products_R
        out[self._row_index] = products

    def unit_variances(self, inverse: CoupledInverse, out):
        out[self.level_cols] = np.diagonal(inverse.EE, axis1=1, axis2=2)
        out[self.R_cols] = np.diag(inverse.RR)

    def locate(self):
        """For each of the block's global columns: (level or -1, slot or index in R)."""
        level = np.concatenate([np.repeat(np.arange(self.n_levels), self.s),
                                np.full(self.q2, -1)])
        index = np.concatenate([np.tile(np.arange(self.s), self.n_levels), np.arange(self.q2)])
        return np.concatenate([self.level_cols.ravel(), self.R_cols]), level, index

    @staticmethod
    def entries(inverse: CoupledInverse, level1, index1, level2, index2):
        """(H^-1) between coefficients of one level of one grouping factor: both in the
        same level of the eliminated factor, or both in R."""
        eliminated = level1 >= 0
        if np.any(eliminated != (level2 >= 0)) or np.any(level1[eliminated] != level2[eliminated]):
            raise ValueError("entries of H^-1 are available within one level of a factor only")
        out = np.empty(level1.shape)
        out[eliminated] = inverse.EE[level1[eliminated], index1[eliminated], index2[eliminated]]
        out[~eliminated] = inverse.RR[index1[~eliminated], index2[~eliminated]]
        return out
