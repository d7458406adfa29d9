"""Central differences: the Jacobian of a vector function where no exact one is at hand."""
from __future__ import annotations

import numpy as np


def central_jacobian(f, params, step=1e-5) -> np.ndarray:
    """d f / d params (rows: f's values, columns: params), each column from f at
    params +- h, h = step * max(1, |params_k|)."""
    columns = []
    for k in range(params.size):
        h = step * max(1.0, abs(params[k]))
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        columns.append((np.asarray(f(up)) - np.asarray(f(down))) / (2 * h))
    return np.column_stack(columns)
