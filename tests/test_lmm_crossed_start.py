"""The start and search scale of the profiled criterion on crossed scalar terms
(``glmm_lib/lmm_crossed_start.py``).

- the design sums of the moment equations, formed from the crossed component's products,
  against the same sums taken row by row with pandas;
- the moment estimates start close to the maximum (lme4's InstEval, its first 600 students:
  the department SD is 0.07 sigma, a start at sigma is 2.7 units away in its log) and on a
  large simulated crossed and nested design;
- they apply only to one crossed component of scalar terms.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
import glmm_lib.lmm_crossprod
from glmm_lib.lmm_crossed_start import crossed_moments, start_and_scale
from glmm_lib.model import GLMMModel
from test_crossed_fixtures import insteval_subset
from test_lmm_crossed import weighted_crossed

FACTORS = ("a", "b", "c")


def moments_of(model):
    objective = model.objective()
    assert objective.cross.crossed
    return crossed_moments(objective.cross, objective.re, objective.theta_table), objective


def test_design_sums_are_those_of_the_rows(monkeypatch):
    monkeypatch.setattr(glmm_lib.lmm_crossprod, "ELIMINATE_FROM", 2)
    data = weighted_crossed()
    model = GLMMModel("y ~ x + (1|a) + (1|b) + (1|c)", data, weights="w")
    moments, _ = moments_of(model)
    w = data["w"].to_numpy()
    n = {f: data.assign(w=w).groupby(f, observed=True)["w"].sum() for f in FACTORS}
    for k, f in enumerate(FACTORS):
        for l, g in enumerate(FACTORS):
            if f == g:
                expected = n[f].sum()
            else:
                cell = data.assign(w=w).groupby([f, g], observed=True)["w"].sum()
                expected = np.sum(cell.to_numpy() ** 2
                                  / n[f].loc[cell.index.get_level_values(0)].to_numpy())
            assert moments.M[k, l] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(np.sort(moments.n_levels[k]), np.sort(n[f].to_numpy()),
                                   rtol=1e-12)
        # the level sums of w y (the last column of [X y])
        wy = data.assign(wy=w * data["y"]).groupby(f, observed=True)["wy"].sum()
        np.testing.assert_allclose(np.sort(moments.level_sums[k][:, -1]), np.sort(wy.to_numpy()),
                                   rtol=1e-12)


def relative_log_sds(fit):
    """log(SD / sigma) of each term, in the order of the model's terms."""
    sds = fit.varcorr.set_index("group")["sd"]
    return np.array([np.log(sds[t.group_name] / fit.sigma)
                     for t in fit.model.random_effects.terms])


def test_the_start_is_close_to_the_maximum_on_insteval():
    fit = gl.glmm("y ~ service + (1|s) + (1|d) + (1|dept)", insteval_subset())
    moments, objective = moments_of(fit.model)
    start, scale = start_and_scale(moments, objective.re, objective.cross.XyWXy)
    np.testing.assert_allclose(start, relative_log_sds(fit), atol=0.3)
    assert np.all(np.log2(scale) == np.round(np.log2(scale)))   # powers of two


def test_the_start_recovers_crossed_and_nested_variances():
    """Students crossed with lecturers, lecturers nested in departments (InstEval's layout):
    a department's mean carries its lecturers' variance, which the equations take out."""
    rng = np.random.default_rng(4)
    n_s, n_d, per = 1500, 400, 20
    s = np.repeat(np.arange(n_s), per)
    d = rng.integers(0, n_d, s.size)
    dept = np.arange(n_d) % 10
    sds = {"s": 0.4, "d": 0.6, "dept": 0.3}
    y = (rng.normal(0, sds["s"], n_s)[s] + rng.normal(0, sds["d"], n_d)[d]
         + rng.normal(0, sds["dept"], 10)[dept[d]] + rng.normal(0, 1.0, s.size))
    data = pd.DataFrame({"s": pd.Categorical(s), "d": pd.Categorical(d),
                         "dept": pd.Categorical(dept[d]), "y": y})
    fit = gl.glmm("y ~ 1 + (1|s) + (1|d) + (1|dept)", data)
    moments, objective = moments_of(fit.model)
    start, _ = start_and_scale(moments, objective.re, objective.cross.XyWXy)
    # equations without the cross terms M_kl would start 0.2 to 0.25 away on s and d
    np.testing.assert_allclose(start, relative_log_sds(fit), atol=0.1)
    truth = np.log([sds[t.group_name] for t in objective.re.terms])
    np.testing.assert_allclose(start, truth, atol=0.25)      # ten departments: a rough SD


def test_terms_with_slopes_keep_their_own_start(monkeypatch):
    monkeypatch.setattr(glmm_lib.lmm_crossprod, "ELIMINATE_FROM", 2)
    model = GLMMModel("y ~ x + (x|a) + (1|b)", weighted_crossed())
    moments, objective = moments_of(model)
    assert moments is None
    np.testing.assert_array_equal(objective.theta_start(), objective.re.theta_start())
