"""One component of crossed grouping factors in the profiled gaussian criterion
(``lmm_profiled``), factored by eliminating its largest factor first.

Crossed factors join their levels into one connected component of Z'WZ (lme4's InstEval:
2972 students, 1128 lecturers and 14 departments, 4114 coefficients).  Every row has one
level of each factor, so the coefficients of one factor, E (s per level), meet only
themselves within a row; ordered first, with Lambda relative to sigma,

    H = Lambda' Z'WZ Lambda + I = [ D    A ]    D_j = Lambda_E' N_j Lambda_E + I  (s x s)
                                  [ A'   B ]    A_j = Lambda_E' C_j Lambda_R      (C = Z_E'WZ_R)
                                                B   = Lambda_R' Z_R'WZ_R Lambda_R + I,

    L = [ L_D  0   ]   L_D L_D' = D,  S = L_S L_S' = B - A' D^-1 A
        [ G'   L_S ]   G = L_D^-1 A,

so log det L = log det L_D + log det L_S and S is dense over the other factors' q2
coefficients only (InstEval: 1142).  A' D^-1 A = Lambda_R' [sum_j C_j' c_j C_j] Lambda_R,
c_j = Lambda_E D_j^-1 Lambda_E', is linear in the small matrices c_j with coefficients
fixed by the design: the ``pair products`` (one sparse matrix, a row per entry of the
lower triangle that some level touches, a column per (level, e, f)) give it in one sparse
product, and their transpose gives back what the gradient reads.

The gradient (``lmm_profiled``) needs, per term, the sum over its levels of the diagonal
blocks of v u' / sigma^2 - Z'WZ Lambda H^-1 (+ F under REML).  With Lambda invertible,
Lambda' Z'WZ Lambda = H - I turns each into Lambda^-T times

    u u' / sigma^2 - I + (H^-1)_jj  [+ E_j S_X^-1 E_j'],   E = H^-1 Lambda' Z'WX,

(v = Z'W(y - X beta) - Z'WZ Lambda u = Lambda^-T u, and likewise for F), so only the
diagonal blocks of H^-1 are needed: S^-1 on R, and on E

    (H^-1)_jj = D_j^-1 + V_j (C_j P C_j') V_j',   V_j = D_j^-1 Lambda_E',
                                                  P = Lambda_R S^-1 Lambda_R',

where C_j P C_j' is the transposed pair product applied to P: never the dense q1 x q2
block of H^-1.  Compared with the general Laplace objective on the same block
(``elimination.py``), the criterion moves theta alone and reads H^-1 only through sums.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.linalg import lapack

from . import memory, stacked
from .laplace import InnerModeError


def eliminated_factor(slot_factors, row_cols):
    """The grouping factor with the most coefficients among ``row_cols`` (rows, K)."""
    factors = np.unique(slot_factors)
    sizes = [np.unique(row_cols[:, slot_factors == f]).size for f in factors]
    return factors[int(np.argmax(sizes))]


@dataclass
class CrossedPart:
    """What one theta gives on one crossed component."""
    component: CrossedComponent
    factors: list
    lam_E: np.ndarray        # (s, s) Lambda on one level of E
    D_inv: np.ndarray        # (levels, s, s)
    LD_inv: np.ndarray       # (levels, s, s) inverses of the Cholesky factors of D_j
    LS: np.ndarray           # lower Cholesky factor of S_0 (``CrossedComponent.factorize``)
    logdet_L: float
    R_E: np.ndarray          # (levels, s, p + 1)  L_D^-1 Lambda_E' Z_E'W[X y]
    R_R: np.ndarray          # (q2, p + 1)        the rest of L^-1 Lambda' Z'W[X y]
    _inverse_blocks: tuple | None = None

    @property
    def gram(self):
        flat = self.R_E.reshape(-1, self.R_E.shape[-1])
        return flat.T @ flat + self.R_R.T @ self.R_R

    def modes(self, gamma):
        return self.component.modes(self, gamma)

    def gradient_sums(self, u, sigma2, n_beta=0, S_X_inv=None):
        return self.component.gradient_sums(self, u, sigma2, n_beta, S_X_inv)

    def fixed_effect_sums(self, u, n_beta):
        return self.component.fixed_effect_sums(self, u, n_beta)

    def inverse_blocks(self):
        """``CrossedComponent.inverse_blocks``, once per factorization."""
        if self._inverse_blocks is None:
            self._inverse_blocks = self.component.inverse_blocks(self)
        return self._inverse_blocks


class CrossedComponent:
    """The fixed, design-given products of one crossed component.

    ``rows`` are its observations, ``row_cols`` their global columns (rows, K), ``z`` the
    random-effect design values (rows, K), ``w`` the prior weights and ``Xy`` = [X y] on
    those rows; ``slot_term`` and ``slot_factors`` name each of the K slots' term and
    grouping factor; ``term_offsets`` and ``term_sizes`` place the terms' columns."""

    def __init__(self, rows, row_cols, z, w, Xy, slot_term, slot_factors, term_offsets,
                 term_sizes):
        self.rows = rows
        self.slot_term = np.asarray(slot_term)
        self.n_terms = len(term_sizes)
        slot_factors = np.asarray(slot_factors)
        eliminated = eliminated_factor(slot_factors, row_cols)
        self.slots_E = np.flatnonzero(slot_factors == eliminated)
        self.slots_R = np.flatnonzero(slot_factors != eliminated)
        s = self.s = self.slots_E.size
        # the eliminated factor's levels, each named by its first column
        _, first_row, level = np.unique(row_cols[:, self.slots_E[0]], return_index=True,
                                        return_inverse=True)
        self.row_level = level.ravel()
        self.level_cols = row_cols[first_row][:, self.slots_E]          # (levels, s)
        self.n_levels = n_levels = first_row.size
        self.R_cols = np.unique(row_cols[:, self.slots_R])
        self.q2 = q2 = self.R_cols.size
        self.columns = np.concatenate([self.level_cols.ravel(), self.R_cols])
        self.row_R = np.searchsorted(self.R_cols, row_cols[:, self.slots_R])
        self.z, self.w = z, w
        keys, pair_of = np.unique(self.row_level[:, None] * q2 + self.row_R, return_inverse=True)
        self.pair_of = pair_of.reshape(self.row_R.shape)
        self.pair_level, self.pair_col = keys // q2, keys % q2
        n_pairs = keys.size
        counts = np.bincount(self.pair_level, minlength=n_levels)
        n_products = int(np.sum(counts * (counts + 1) // 2)) * s * s
        memory.require(8.0 * (7 * q2 * q2 + 4 * n_products + 2 * n_pairs * s),
                       f"the crossed random effects' {self.columns.size} coefficients "
                       f"(a dense Schur complement of {q2} x {q2})")
        zE, zR = z[:, self.slots_E], z[:, self.slots_R]
        wzE = w[:, None] * zE
        self.N = np.zeros((n_levels, s, s))
        for e in range(s):
            for f in range(s):
                self.N[:, e, f] = np.bincount(self.row_level, wzE[:, e] * zE[:, f],
                                              minlength=n_levels)
        C = np.zeros((n_pairs, s))                       # C at each (level, R column) pair
        for r in range(self.slots_R.size):
            for e in range(s):
                C[:, e] += np.bincount(self.pair_of[:, r], wzE[:, e] * zR[:, r], minlength=n_pairs)
        C_rows = np.repeat(self.pair_level * s, s) + np.tile(np.arange(s), n_pairs)
        self.C = sp.csr_matrix((C.ravel(), (C_rows, np.repeat(self.pair_col, s))),
                               shape=(n_levels * s, q2))
        wzR = w[:, None] * zR
        ZRZR = np.zeros(q2 * q2)
        for r1 in range(self.slots_R.size):
            for r2 in range(self.slots_R.size):
                ZRZR += np.bincount(self.row_R[:, r1] * q2 + self.row_R[:, r2],
                                    wzR[:, r1] * zR[:, r2], minlength=q2 * q2)
        self.ZRZR = ZRZR.reshape(q2, q2)
        self._pair_products(C, counts)
        self._place_terms(row_cols, term_offsets, term_sizes)
        self.set_response(Xy)

    def _pair_products(self, C, counts):
        """The sparse map from the per-level s x s coefficients c to the lower triangle of
        sum_j C_j' c_j C_j (flattened q2 x q2), stored as its transpose: a row per (level,
        e, f), a column per entry k >= l that the level touches."""
        s, q2 = self.s, self.q2
        index_type = np.int32 if q2 * q2 < 2**31 else np.int64
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        position = np.arange(self.pair_level.size) - starts[self.pair_level]
        # each pair (column k) with the pairs of its level up to itself (columns l <= k)
        upper = np.repeat(np.arange(self.pair_level.size, dtype=index_type), position + 1)
        block_start = np.cumsum(position + 1) - (position + 1)     # of each pair's partners
        lower = np.repeat((starts[self.pair_level] - block_start).astype(index_type), position + 1)
        lower += np.arange(upper.size, dtype=index_type)
        # entry (k, l), k >= l, of the lower triangle at l * q2 + k: the upper triangle of a
        # C-ordered array, the lower of its transpose, which LAPACK reads without a copy
        cols = self.pair_col.astype(index_type)
        flat = cols[lower] * q2 + cols[upper]
        if s == 1:                 # pairs come level by level: rows already in order
            values = C[upper, 0] * C[lower, 0]
            indptr = np.concatenate([[0], np.cumsum(counts * (counts + 1) // 2)])
        else:
            e, f = np.divmod(np.arange(s * s), s)
            values = (C[upper][:, e] * C[lower][:, f]).ravel()
            coef = (self.pair_level[upper][:, None] * s * s + np.arange(s * s)[None, :]).ravel()
            order = np.argsort(coef, kind="stable")
            flat, values = np.repeat(flat, s * s)[order], values[order]
            indptr = np.concatenate(
                [[0], np.cumsum(np.bincount(coef, minlength=self.n_levels * s * s))])
        # its transpose, the forward map, is the same arrays read as CSC: a scatter that
        # measured faster than the gather of a CSR copy, and no copy to build
        self.products_T = sp.csr_matrix((values, flat, indptr.astype(index_type)),
                                        shape=(self.n_levels * s * s, q2 * q2))

    def _place_terms(self, row_cols, term_offsets, term_sizes):
        """Which term each E slot and each R coefficient belongs to, for Lambda and the
        per-term sums."""
        self.E_term = self.slot_term[self.slots_E]
        self.R_term = np.searchsorted(term_offsets, self.R_cols, side="right") - 1
        sizes = np.asarray(term_sizes)
        # each R term's coefficients as (levels, s_k) indices into R
        self.R_blocks = {int(k): np.flatnonzero(self.R_term == k).reshape(-1, int(sizes[k]))
                         for k in np.unique(self.R_term)}

    def set_response(self, Xy):
        """Z_E'W[X y] per level and Z_R'W[X y] (the products a new response changes)."""
        s = self.s
        wz = self.w[:, None] * self.z
        self.bE = np.zeros((self.n_levels, s, Xy.shape[1]))
        self.bR = np.zeros((self.q2, Xy.shape[1]))
        for c in range(Xy.shape[1]):
            for e, slot in enumerate(self.slots_E):
                self.bE[:, e, c] = np.bincount(self.row_level, wz[:, slot] * Xy[:, c],
                                               minlength=self.n_levels)
            for r, slot in enumerate(self.slots_R):
                self.bR[:, c] += np.bincount(self.row_R[:, r], wz[:, slot] * Xy[:, c],
                                             minlength=self.q2)

    def with_response(self, y_rows):
        """A copy whose products with y are those of ``y_rows`` (this component's rows)."""
        new = object.__new__(CrossedComponent)
        new.__dict__.update(self.__dict__)
        wz = self.w[:, None] * self.z
        new.bE, new.bR = self.bE.copy(), self.bR.copy()
        for e, slot in enumerate(self.slots_E):
            new.bE[:, e, -1] = np.bincount(self.row_level, wz[:, slot] * y_rows,
                                           minlength=self.n_levels)
        new.bR[:, -1] = 0.0
        for r, slot in enumerate(self.slots_R):
            new.bR[:, -1] += np.bincount(self.row_R[:, r], wz[:, slot] * y_rows,
                                         minlength=self.q2)
        return new

    # ---- Lambda -----------------------------------------------------------
    def _lam_E(self, factors):
        lam = np.zeros((self.s, self.s))
        for k in np.unique(self.E_term):
            slots = np.flatnonzero(self.E_term == k)
            lam[np.ix_(slots, slots)] = factors[k]
        return lam

    def _inverse_factors(self, factors):
        """Lambda_k^-1 of each term on R (its factor is invertible: ``lmm_profiled``)."""
        return {k: np.linalg.inv(factors[k]) for k in self.R_blocks}

    # ---- one theta ---------------------------------------------------------
    def factorize(self, factors) -> CrossedPart:
        """With S = Lambda_R' S_0 Lambda_R, S_0 = Z_R'WZ_R - sum_j C_j' c_j C_j
        + (Lambda_R Lambda_R')^-1, the factor of S_0 serves throughout: Lambda_R drops out
        of L^-1 Lambda'Z'W[X y] and of P = Lambda_R S^-1 Lambda_R' = S_0^-1."""
        lam_E = self._lam_E(factors)
        D = stacked.matmul(stacked.matmul(lam_E.T, self.N), lam_E) + np.eye(self.s)
        try:
            logdet_D, LD_inv = stacked.cholesky_inverse(D)
        except np.linalg.LinAlgError:
            raise InnerModeError("Lambda'Z'WZ Lambda + I is not positive definite") from None
        D_inv = stacked.matmul(stacked.transpose(LD_inv), LD_inv)
        c = stacked.matmul(stacked.matmul(lam_E, D_inv), lam_E.T)
        # the lower triangle of S_0 is that of S0.T (``_pair_products``)
        S0 = self.products_T.T @ c.ravel()
        np.subtract(self.ZRZR.ravel(), S0, out=S0)          # in place: no second q2^2 array
        S0 = S0.reshape(self.q2, self.q2)
        inverse = self._inverse_factors(factors)
        logdet_lam = 0.0
        for k, idx in self.R_blocks.items():
            S0[idx[:, :, None], idx[:, None, :]] += inverse[k].T @ inverse[k]
            logdet_lam += idx.shape[0] * np.log(abs(np.linalg.det(factors[k])))
        try:
            LS = scipy.linalg.cholesky(S0.T, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise InnerModeError("Lambda'Z'WZ Lambda + I is not positive definite") from None
        R_E = stacked.matmul(LD_inv, stacked.matmul(lam_E.T, self.bE))
        # the rest of L^-1 Lambda'Z'W[X y]: L_S0^-1 (b_R - C' c b_E)
        reduced = self.bR - self.C.T @ stacked.matmul(c, self.bE).reshape(-1, self.bE.shape[-1])
        R_R = scipy.linalg.solve_triangular(LS, reduced, lower=True, check_finite=False)
        logdet_L = logdet_D + float(np.sum(np.log(np.diag(LS)))) + logdet_lam
        return CrossedPart(self, factors, lam_E, D_inv, LD_inv, LS, logdet_L, R_E, R_R)

    def solve_transposed(self, part, rhs_E, rhs_R):
        """L^-T [rhs_E; rhs_R] (rhs_E (levels, s, r), rhs_R (q2, r)): u on E and on R."""
        rho = scipy.linalg.solve_triangular(part.LS, rhs_R, lower=True, trans="T",
                                            check_finite=False)           # Lambda_R u_R
        u_R = np.empty_like(rho)
        for k, inv in self._inverse_factors(part.factors).items():
            idx = self.R_blocks[k]
            u_R[idx] = np.einsum("ab,lbr->lar", inv, rho[idx])
        # L_D^-T G u_R = D^-1 Lambda_E' C Lambda_R u_R
        coupled = stacked.matmul(part.lam_E.T, (self.C @ rho).reshape(self.n_levels, self.s, -1))
        u_E = (stacked.matmul(stacked.transpose(part.LD_inv), rhs_E)
               - stacked.matmul(part.D_inv, coupled))
        return u_E, u_R

    def modes(self, part, gamma):
        """The relative modes u on this component's ``columns`` given gamma = (-beta, 1)."""
        u_E, u_R = self.solve_transposed(part, (part.R_E @ gamma)[:, :, None],
                                         (part.R_R @ gamma)[:, None])
        return np.concatenate([u_E.ravel(), u_R.ravel()])

    def inverse_blocks(self, part):
        """Per term on R the sum over its levels of the diagonal blocks of S^-1, and the
        diagonal blocks of H^-1 on E, (levels, s, s)."""
        P, info = lapack.dpotri(part.LS, lower=1)    # the lower triangle of S_0^-1 = P
        if info != 0:
            raise InnerModeError("the Schur complement of the crossed block is singular")
        R_sums = {}
        for k, inv in self._inverse_factors(part.factors).items():
            idx = self.R_blocks[k]
            block = P[idx[:, :, None], idx[:, None, :]].sum(axis=0)       # lower: P's part
            block = np.tril(block) + np.tril(block, -1).T
            R_sums[k] = inv @ block @ inv.T              # S^-1 = Lambda_R^-1 P Lambda_R^-T
        P[np.diag_indices(self.q2)] *= 0.5       # each diagonal entry once in P_kl + P_lk
        half = (self.products_T @ P.T.ravel(order="K")).reshape(self.n_levels, self.s, self.s)
        V = stacked.matmul(part.D_inv, part.lam_E.T)
        H_inv_E = part.D_inv + stacked.matmul(stacked.matmul(V, half + stacked.transpose(half)),
                                              stacked.transpose(V))
        return R_sums, H_inv_E

    def gradient_sums(self, part, u, sigma2, n_beta=0, S_X_inv=None):
        """Per term, the sum over its levels of the diagonal blocks of
        G = v u'/sigma^2 - Z'WZ Lambda H^-1 (+ F = Lambda^-T E S_X^-1 E' under REML, given
        S_X^-1, the inverse of the penalized X'WX); and sum u'u, tr H^-1 and <Lambda, F>
        on this component.  u is on ``columns``."""
        q1 = self.n_levels * self.s
        R_sums, H_inv_E = part.inverse_blocks()
        u_E, u_R = u[:q1].reshape(self.n_levels, self.s), u[q1:]
        inner_E = (np.einsum("je,jf->ef", u_E, u_E) / sigma2 + H_inv_E.sum(axis=0)
                   - self.n_levels * np.eye(self.s))
        lam_f = 0.0
        if S_X_inv is not None:
            # E = H^-1 Lambda'Z'WX = L^-T (the columns of R for X)
            E_E, E_R = self.solve_transposed(part, part.R_E[..., :n_beta], part.R_R[:, :n_beta])
            ESE = stacked.matmul(stacked.matmul(E_E, S_X_inv), stacked.transpose(E_E))
            inner_E = inner_E + ESE.sum(axis=0)
            F_R = E_R @ S_X_inv
            lam_f = float(np.sum(ESE.diagonal(axis1=1, axis2=2)) + np.sum(F_R * E_R))
        sums = [None] * self.n_terms
        for k in np.unique(self.E_term):
            slots = np.flatnonzero(self.E_term == k)
            sums[k] = inner_E[np.ix_(slots, slots)]
        for k, idx in self.R_blocks.items():
            u_k = u_R[idx]
            block = u_k.T @ u_k / sigma2 + R_sums[k] - idx.shape[0] * np.eye(idx.shape[1])
            if S_X_inv is not None:
                block += np.einsum("lap,pq,lbq->ab", E_R[idx], S_X_inv, E_R[idx])
            sums[k] = block
        grads = [None if m is None else np.linalg.solve(part.factors[k].T, m)
                 for k, m in enumerate(sums)]
        trace = float(np.sum(H_inv_E.diagonal(axis1=1, axis2=2))
                      + sum(np.trace(block) for block in R_sums.values()))
        return grads, float(u @ u), trace, lam_f

    def fixed_effect_sums(self, part, u, n_beta):
        """Per term, the sum over its levels of the diagonal blocks of Y u' + v E', each
        (s, s, n_beta) (column c with E's column c), what d beta / d Lambda reads
        (``lmm_profiled``): Y = Z'WX - Z'WZ Lambda E = Lambda^-T E and v = Lambda^-T u
        (see the top), so the sum is Lambda_k^-T times that of E u' + u E'."""
        q1 = self.n_levels * self.s
        E_E, E_R = self.solve_transposed(part, part.R_E[..., :n_beta], part.R_R[:, :n_beta])
        u_E, u_R = u[:q1].reshape(self.n_levels, self.s), u[q1:]
        outer_E = np.einsum("lac,lb->abc", E_E, u_E)
        sums = [None] * self.n_terms
        for k in np.unique(self.E_term):
            slots = np.flatnonzero(self.E_term == k)
            sums[k] = outer_E[np.ix_(slots, slots)]
        for k, idx in self.R_blocks.items():
            sums[k] = np.einsum("lac,lb->abc", E_R[idx], u_R[idx])
        return [None if m is None else
                np.einsum("da,dbc->abc", np.linalg.inv(part.factors[k]), m + m.transpose(1, 0, 2))
                for k, m in enumerate(sums)]
