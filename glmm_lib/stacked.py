"""Products and Cholesky factors of stacks of small matrices, (count, m, m).

numpy's batched ``matmul``, ``cholesky`` and ``inv`` pay a fixed cost per matrix: on 10^4
blocks of 2 x 2 each call takes about 0.5-3 ms, longer than the arithmetic.  Written entry
by entry (products) or column by column (Cholesky factors), each step vectorized over the
whole stack, the same work takes tens of microseconds.  Large blocks (crossed factors: one
big component) go to LAPACK as before.
"""
from __future__ import annotations

import numpy as np

# Up to this size the Cholesky loops beat numpy's per-matrix batched kernels...
SMALL = 8
# ...on stacks of more than this many matrices; on fewer, the per-matrix cost is below the
# loops' own fixed cost (a few microseconds per numpy call).
FEW = 64
# A product is written entry by entry up to this many multiplications per matrix (m k n):
# 3 x 3 blocks; from 4 x 4 numpy's batched matmul is faster (measured on 10^4 blocks).
ENTRIES = 36


def matmul(a, b):
    """a @ b for stacks (count, m, k) @ (count, k, n); either may be one (m, k) matrix
    shared by the whole stack."""
    if a.ndim == 2 and b.ndim == 2:
        return a @ b
    if b.ndim == 2:                                   # one BLAS call on the stacked rows
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[1],))
    (m, k), n = a.shape[-2:], b.shape[-1]
    if b.shape[0] <= FEW or m * k * n > ENTRIES:
        return a @ b
    shared = a.ndim == 2
    out = np.empty((b.shape[0], m, n))
    for i in range(m):
        for j in range(n):
            entry = (a[i, 0] if shared else a[:, i, 0]) * b[:, 0, j]
            for l in range(1, k):
                entry += (a[i, l] if shared else a[:, i, l]) * b[:, l, j]
            out[:, i, j] = entry
    return out


def transpose(a):
    return np.swapaxes(a, -1, -2)


def cholesky_inverse(H):
    """(log det of each factor summed, L^-1) for the lower Cholesky factors L of the
    stack H; raises LinAlgError where a block is not positive definite."""
    count, m, _ = H.shape
    if m > SMALL or count <= FEW:
        chol = np.linalg.cholesky(H)
        logdet = float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        return logdet, np.linalg.inv(chol)
    L = np.zeros_like(H)
    for j in range(m):
        d = H[:, j, j] - (L[:, j, :j] ** 2).sum(axis=1) if j else H[:, 0, 0]
        if not (d > 0).all():
            raise np.linalg.LinAlgError("a block is not positive definite")
        L[:, j, j] = np.sqrt(d)
        if j + 1 < m:
            below = H[:, j + 1:, j]
            if j:
                below = below - np.einsum("cik,ck->ci", L[:, j + 1:, :j], L[:, j, :j])
            L[:, j + 1:, j] = below / L[:, j, j, None]
    inverse = np.zeros_like(H)
    for i in range(m):                                # forward substitution, row by row
        inverse[:, i, i] = 1.0 / L[:, i, i]
        for j in range(i):
            inverse[:, i, j] = -(L[:, i, j:i] * inverse[:, j:i, j]).sum(axis=1) / L[:, i, i]
    logdet = float(np.log(np.diagonal(L, axis1=1, axis2=2)).sum())
    return logdet, inverse
