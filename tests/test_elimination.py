"""The factorization of a coupled block of H by elimination (``glmm_lib/elimination.py``)
against the dense one, on small crossed, nested and random-slope designs.

The same model is evaluated twice: with every block factored densely (the oracle: one
Cholesky of the whole block) and with every block of two or more coefficients factored
by elimination.  log det H, solves, the selected entries of H^-1, the Laplace value and
its exact gradient must agree to 1e-10.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import glmm_lib.elimination
import glmm_lib.memory
from glmm_lib.blocks import BlockStructure
from glmm_lib.errors import GLMMInputError
from glmm_lib.model import GLMMModel
from glmm_lib.objectives import make_objective
from glmm_lib.start import starting_values

TOL = 1e-10


def crossed(n_a=9, n_b=7, seed=11, drop=0.3):
    """Unbalanced crossing: each (a, b) cell kept with probability 1 - drop, 1-3 rows."""
    rng = np.random.default_rng(seed)
    cells = [(i, j) for i in range(n_a) for j in range(n_b) if rng.uniform() > drop]
    reps = rng.integers(1, 4, len(cells))
    a = np.repeat([c[0] for c in cells], reps)
    b = np.repeat([c[1] for c in cells], reps)
    c = rng.integers(0, 3, a.size)
    x = rng.normal(size=a.size)
    eta = (-0.2 + 0.4 * x + rng.normal(0, 0.7, n_a)[a] + rng.normal(0, 0.3, n_a)[a] * x
           + rng.normal(0, 0.5, n_b)[b] + rng.normal(0, 0.3, 3)[c])
    n = rng.integers(3, 9, a.size)
    return pd.DataFrame({"a": pd.Categorical([f"a{i}" for i in a]),
                         "b": pd.Categorical([f"b{j}" for j in b]),
                         "c": pd.Categorical([f"c{k}" for k in c]), "x": x,
                         "n": n.astype(float), "s": rng.binomial(n, special.expit(eta)).astype(float),
                         "count": rng.poisson(np.exp(0.5 + 0.5 * eta)).astype(float),
                         "y": eta + rng.normal(0, 0.5, a.size)})


def nested(seed=12):
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(5), 15)
    b = np.tile(np.repeat(np.arange(5), 3), 5)
    x = rng.normal(size=a.size)
    eta = 0.1 + 0.5 * x + rng.normal(0, 0.6, 5)[a] + rng.normal(0, 0.4, 25)[a * 5 + b]
    return pd.DataFrame({"a": pd.Categorical([f"A{i}" for i in a]),
                         "b": pd.Categorical([f"b{i}" for i in b]), "x": x,
                         "count": rng.poisson(np.exp(eta)).astype(float)})


DESIGNS = {
    "binomial crossed": (crossed, "cbind(s, n - s) ~ x + (1|a) + (1|b)", dict(family="binomial")),
    "poisson three crossed": (crossed, "count ~ x + (1|a) + (1|b) + (1|c)", dict(family="poisson")),
    "binomial slope crossed": (crossed, "cbind(s, n - s) ~ x + (x|a) + (1|b)",
                               dict(family="binomial")),
    "poisson two terms on a": (crossed, "count ~ x + (1|a) + (0 + x|a) + (1|b)",
                               dict(family="poisson")),
    "gaussian slope on the smaller factor": (crossed, "y ~ x + (1|a) + (x|b)", dict(family="gaussian")),
    "poisson nested": (nested, "count ~ x + (1|a/b)", dict(family="poisson")),
    "gaussian REML crossed": (crossed, "y ~ x + (1|a) + (1|b)", dict(family="gaussian", REML=True)),
}


def objectives(key, sparse_G, monkeypatch):
    """(dense, eliminated) objectives of one model; ``sparse_G`` takes G'G by the sparse
    product even where the dense one is chosen (these designs are small), and the
    selected inverse by the gather that large designs use."""
    make, formula, kwargs = DESIGNS[key]
    model = GLMMModel(formula, make(), **kwargs)
    re = model.random_effects
    out = []
    for eliminate_from in (10**9, 2):
        # the general objectives (gaussian models are otherwise fitted on cross-products)
        objective = make_objective(model, profiled=False)
        objective.blocks = BlockStructure(re.cols, re.q, re.slot_factors(),
                                          eliminate_from=eliminate_from)
        out.append(objective)
    for block in out[1].blocks.coupled:
        block.dense_G = block.dense_G and not sparse_G
    if sparse_G:    # and the selected inverse by gathering S^-1 level by level
        monkeypatch.setattr(glmm_lib.elimination, "PRODUCT_DOUBLES", 0)
    assert not out[0].blocks.coupled and out[1].blocks.coupled
    p = starting_values(model)
    p = out[0].start(p + np.random.default_rng(0).normal(0, 0.15, p.size))
    return out[0], out[1], p


@pytest.mark.parametrize("sparse_G", [False, True])
@pytest.mark.parametrize("key", list(DESIGNS))
def test_elimination_gives_the_dense_value_gradient_and_log_determinant(key, sparse_G,
                                                                         monkeypatch):
    dense, eliminated, p = objectives(key, sparse_G, monkeypatch)
    state_d = dense.mode(p)
    state_e = eliminated.mode(p, b_start=state_d.b)
    assert state_d.inner_converged and state_e.inner_converged
    np.testing.assert_allclose(state_e.b, state_d.b, rtol=0, atol=TOL)
    np.testing.assert_allclose(eliminated.blocks.logdet(state_e.chol),
                               dense.blocks.logdet(state_d.chol), rtol=TOL)
    np.testing.assert_allclose(state_e.value, state_d.value, rtol=TOL)
    np.testing.assert_allclose(eliminated.gradient(state_e), dense.gradient(state_d),
                               rtol=TOL, atol=TOL)


@pytest.mark.parametrize("sparse_G", [False, True])
@pytest.mark.parametrize("key", list(DESIGNS))
def test_elimination_solves_and_selects_the_entries_of_the_inverse(key, sparse_G, monkeypatch):
    dense, eliminated, p = objectives(key, sparse_G, monkeypatch)
    state = dense.mode(p)
    w = np.random.default_rng(1).uniform(0.2, 2.0, state.eta.size)
    chol_d = dense.blocks.cholesky(dense.blocks.assemble(state.A, w))
    chol_e = eliminated.blocks.cholesky(eliminated.blocks.assemble(state.A, w))
    # the oracle: H assembled densely from A (rows), inverted by numpy
    q, cols = dense.re.q, dense.re.cols
    Z = np.zeros((state.A.shape[0], q))
    np.put_along_axis(Z, cols, state.A, axis=1)
    H = Z.T @ (w[:, None] * Z) + np.eye(q)
    H_inv = np.linalg.inv(H)
    np.testing.assert_allclose(eliminated.blocks.logdet(chol_e), np.linalg.slogdet(H)[1], rtol=TOL)
    v = np.random.default_rng(2).normal(size=q)
    np.testing.assert_allclose(eliminated.blocks.solve(chol_e, v), np.linalg.solve(H, v),
                               rtol=0, atol=TOL)
    inverse_e = eliminated.blocks.inverse(chol_e)
    rows = H_inv[cols[:, :, None], cols[:, None, :]]
    products = np.einsum("ikl,il->ik", rows, state.A)      # each row's H^-1 a_i
    np.testing.assert_allclose(eliminated.blocks.row_products(inverse_e, state.A), products,
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(eliminated.blocks.unit_variances(inverse_e), np.diag(H_inv),
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(dense.blocks.row_products(dense.blocks.inverse(chol_d), state.A),
                               products, rtol=0, atol=TOL)
    # each level's own coefficients, as the conditional variances of ranef read them
    for term, off in zip(dense.re.terms, dense.re.offsets):
        s = term.size
        level_cols = off + np.arange(term.n_levels)[:, None] * s + np.arange(s)[None, :]
        first, second = level_cols[:, :, None].repeat(s, 2), level_cols[:, None, :].repeat(s, 1)
        np.testing.assert_allclose(eliminated.blocks.entries(inverse_e, first, second),
                                   H_inv[first, second], rtol=0, atol=TOL)


def test_a_block_too_large_for_memory_is_refused_before_any_work(monkeypatch):
    make, formula, kwargs = DESIGNS["binomial crossed"]
    model = GLMMModel(formula, make(), **kwargs)
    re = model.random_effects
    monkeypatch.setattr(glmm_lib.memory, "available_bytes", lambda: 1000)
    with pytest.raises(GLMMInputError, match=r"needs about .* GB of memory"):
        BlockStructure(re.cols, re.q, re.slot_factors(), eliminate_from=2)
