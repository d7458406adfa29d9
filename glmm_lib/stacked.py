"""Products and Cholesky factors of stacks of small matrices, (count, m, m).

numpy's batched ``matmul``, ``cholesky`` and ``inv`` pay a fixed cost per matrix: on 10^4
blocks of 2 x 2 each call takes about 1-3 ms, longer than the arithmetic.  Written as a
few loops over the (small) inner dimension, each step vectorized over the whole stack,
the same work takes tens of microseconds.  Large blocks (crossed factors: one big
component) go to LAPACK as before.
"""
from __future__ import annotations

import numpy as np

# Up to this inner size the loops over it beat numpy's per-matrix batched kernels...
SMALL = 8
# ...on stacks of more than this many matrices; on fewer, the per-matrix cost is below the
# loops' own fixed cost (a few microseconds per numpy call).
FEW = 64


def matmul(a, b):
    """a @ b for stacks (count, m, k) @ (count, k, n); either may be one (m, k) matrix
    shared by the whole stack."""
    if a.ndim == 2 and b.ndim == 2:
        return a @ b
    if b.ndim == 2:                                   # one BLAS call on the stacked rows
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[1],))
    if a.ndim == 2:
        if b.shape[0] <= FEW:
            return a @ b
        return np.swapaxes(np.tensordot(b, a, axes=([1], [1])), 1, 2)
    k = a.shape[-1]
    if k > SMALL or a.shape[0] <= FEW:
        return a @ b
    out = a[:, :, :1] * b[:, None, 0, :]
    for j in range(1, k):
        out += a[:, :, j:j + 1] * b[:, None, j, :]
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
