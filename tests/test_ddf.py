"""Satterthwaite and Kenward-Roger inference for linear mixed models against lmerTest,
pbkrtest and emmeans (fixtures from tests/fixtures/make_ddf_fixtures.R)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy import stats

import glmm_lib as gl
from conftest import REPO
from glmm_lib import datasets
from glmm_lib.ddf import coef_table_ddf, linear_inference

FIXTURES = REPO / "tests" / "fixtures"
CASES = ["oats", "oats_ml", "alpha", "sleepstudy", "sleepstudy_diag", "bodyweight"]
# df 1% relative, F and t 0.1%, SE 0.5%, p 1% relative (issue 18)
TOL = {"DenDF": 0.01, "df": 0.01, "F value": 0.001, "t value": 0.001, "Std. Error": 0.005,
       "SE": 0.005, "Pr(>F)": 0.01, "Pr(>|t|)": 0.01, "Sum Sq": 0.001, "Mean Sq": 0.001}


def _python_formula(formula):
    """lme4's (x || g) is glmm_lib's diag(x | g)."""
    return re.sub(r"\((\w+) \|\| (\w+)\)", r"diag(\1 | \2)", formula)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    fx = json.loads((FIXTURES / f"ddf_{request.param}.json").read_text())
    data = datasets.load(fx["data"])
    if fx.get("dropped_plots"):
        data = data[~data["plot"].isin(fx["dropped_plots"])].reset_index(drop=True)
    fit = gl.glmm(_python_formula(fx["formula"]), data, REML=fx["REML"])
    assert fit.converged
    assert fit.nobs == fx["nobs"]
    return fx, fit


def _close(actual, expected, rtol):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


def test_anova_tables_match_lmertest(case):
    fx, fit = case
    for key, expected in fx["anova"].items():
        kind, method = key.split("_", 1)
        table = gl.anova(fit, type=int(kind[-1]), ddf=method)
        assert list(table.index) == expected["terms"], key
        assert table["NumDF"].tolist() == expected["NumDF"], key
        for column in ("Sum Sq", "Mean Sq", "DenDF", "F value", "Pr(>F)"):
            _close(table[column], expected[column], TOL[column])
        assert method in table.attrs["heading"]


def test_type3_hypotheses_span_lmertests(case):
    """Same row space as lmerTest's hypothesis matrices (the F test depends on nothing else;
    Satterthwaite's multi-row df also on the rows themselves, checked by the tables)."""
    fx, fit = case
    built = gl.anova(fit, type=3).attrs["hypotheses"]
    for term, rows in fx["anova"]["type3_Satterthwaite"]["hypotheses"].items():
        ours, theirs = built[term], np.atleast_2d(np.asarray(rows, float))
        rank = np.linalg.matrix_rank
        assert rank(ours) == rank(theirs) == rank(np.vstack([ours, theirs])), term


def test_coefficient_tables_match_lmertest_summary(case):
    fx, fit = case
    for method, expected in fx["coef"].items():
        table = coef_table_ddf(fit, ddf=method)
        assert list(table.index) == expected["names"]
        for column in ("Std. Error", "df", "t value", "Pr(>|t|)"):
            _close(table[column], expected[column], TOL[column])
        _close(table["Estimate"], expected["Estimate"], 1e-4)


def test_kenward_roger_adjusted_covariance_matches_vcovadj(case):
    fx, fit = case
    if not fx["REML"]:      # pbkrtest refits by REML; lmerTest and glmm_lib refuse
        with pytest.raises(gl.GLMMInputError, match="REML"):
            linear_inference(fit, np.eye(len(fit.params)), "Kenward-Roger")
        return
    got = linear_inference(fit, np.eye(len(fit.params)), "Kenward-Roger").covariance
    _close(np.sqrt(np.diag(got)), np.sqrt(np.diag(fx["vcov_kr"])), TOL["SE"])
    _close(got, fx["vcov_kr"], 0.01)


def test_emmeans_means_and_pairs_df_and_se(case):
    fx, fit = case
    for key, expected in (fx.get("emmeans") or {}).items():
        means = linear_inference(fit, np.array(expected["linfct"]), expected["df_method"])
        _close(means.estimate, expected["emmean"], 1e-5)
        _close(means.se, expected["SE"], TOL["SE"])
        _close(means.df, expected["df"], TOL["df"])
        pairs = expected["pairs"]
        diffs = linear_inference(fit, np.array(pairs["linfct"]), expected["df_method"])
        _close(diffs.se, pairs["SE"], TOL["SE"])
        _close(diffs.df, pairs["df"], TOL["df"])
        _close(diffs.t, pairs["t.ratio"], TOL["t value"])


@pytest.fixture(scope="module")
def oats_fit():
    return gl.glmm("yield ~ nitro * Variety + (1 | Block/Variety)", datasets.load("yates_oats"),
                   REML=True)


def test_residual_and_asymptotic_df(oats_fit):
    n, p = oats_fit.nobs, len(oats_fit.params)
    residual = coef_table_ddf(oats_fit, "residual")
    assert (residual["df"] == n - p).all()
    table = gl.anova(oats_fit, type=3, ddf="asymptotic")
    assert np.isinf(table["DenDF"]).all()
    satt = gl.anova(oats_fit, type=3, ddf="Satterthwaite")
    # the same Wald F; only the reference distribution changes
    _close(table["F value"], satt["F value"], 1e-12)
    # infinite denominator df: q F is chi-square with q df
    _close(table["Pr(>F)"], stats.chi2.sf(table["F value"] * table["NumDF"], table["NumDF"]), 1e-10)


def test_joint_test_of_rank_deficient_contrasts(oats_fit):
    """emmeans' three pairs of varieties (rank two) tested together: 2 numerator df and, the
    design being balanced, the type III Variety test."""
    fx = json.loads((FIXTURES / "ddf_oats.json").read_text())
    for key, method in (("Variety_kenward-roger", "Kenward-Roger"),
                        ("Variety_satterthwaite", "Satterthwaite")):
        L = np.array(fx["emmeans"][key]["pairs"]["linfct"])
        joint = linear_inference(oats_fit, L, method).joint_test()
        row = gl.anova(oats_fit, type=3, ddf=method).loc["Variety"]
        assert joint["NumDF"] == 2
        _close(joint["F value"], row["F value"], 1e-8)
        _close(joint["DenDF"], row["DenDF"], 1e-6)


def test_fixed_residual_variance_reproduces_the_split_plot(oats_fit):
    """dispformula = ~0 with the subplot as a random term is the same model as the oats fit:
    the same tables as lmerTest's (sigma^2 then is not a variance parameter of V)."""
    fx = json.loads((FIXTURES / "ddf_oats.json").read_text())
    fit = gl.glmm("yield ~ nitro * Variety + (1|Block) + (1|Block:Variety) "
                  "+ (1|Block:Variety:nitro)", datasets.load("yates_oats"), REML=True,
                  dispformula="~0")
    for method in ("Satterthwaite", "Kenward-Roger"):
        table = gl.anova(fit, type=3, ddf=method)
        expected = fx["anova"][f"type3_{method}"]
        for column in ("DenDF", "F value", "Pr(>F)"):
            _close(table[column], expected[column], TOL[column])
        coef = coef_table_ddf(fit, method)
        for column in ("Std. Error", "df", "t value"):
            _close(coef[column], fx["coef"][method][column], TOL[column])


def test_satterthwaite_df_do_not_depend_on_the_parametrization():
    """Curved structures (cs, ar1) are differentiated in their own parameters, with the
    second derivatives of V.  On sleepstudy's us term that path (log SDs and glmmTMB's
    correlation parameter) must give lmerTest's df as the covariance-element path does."""
    from glmm_lib.lmm_algebra import LMMAlgebra
    from glmm_lib.lmm_parts import lmm_parts
    from glmm_lib.satterthwaite import Satterthwaite

    fx = json.loads((FIXTURES / "ddf_sleepstudy.json").read_text())
    fit = gl.glmm(fx["formula"], datasets.load("belenky_sleepstudy"), REML=True)
    algebra = LMMAlgebra(lmm_parts(fit), native_parameters=True)
    assert not algebra.param.linear_in_v
    df = Satterthwaite(algebra).row_df(np.eye(2))
    _close(df, fx["coef"]["Satterthwaite"]["df"], TOL["df"])


def test_kenward_roger_refuses_a_curved_structure():
    fit = gl.glmm("weight ~ trt * week + (1|room) + ar1(time + 0 | pig)",
                  datasets.load("swine_weights"), REML=True)
    with pytest.raises(gl.GLMMInputError, match="cs or ar1 term: use ddf='Satterthwaite'"):
        gl.anova(fit, ddf="Kenward-Roger")
    table = gl.anova(fit, ddf="Satterthwaite")
    assert np.all(np.isfinite(table["DenDF"])) and np.all(table["DenDF"] > 1)


@pytest.mark.parametrize("bad, match", [
    (dict(ddf="kenward"), "ddf must be one of"),
    (dict(type=2), "type must be 1"),
])
def test_bad_options_are_refused(oats_fit, bad, match):
    with pytest.raises(gl.GLMMInputError, match=match):
        gl.anova(oats_fit, **bad)


def test_bad_contrast_matrix_is_refused(oats_fit):
    with pytest.raises(gl.GLMMInputError, match="one column per fixed-effect"):
        linear_inference(oats_fit, np.ones((2, 3)))
    with pytest.raises(gl.GLMMInputError, match="missing or infinite"):
        linear_inference(oats_fit, np.full((1, len(oats_fit.params)), np.nan))


def test_not_a_linear_mixed_model_is_refused():
    data = datasets.load("crowder_seeds")
    fit = gl.glmm("cbind(germ, n - germ) ~ gen * extract + (1 | plate)", data, family="binomial")
    with pytest.raises(gl.GLMMInputError, match="linear mixed models"):
        coef_table_ddf(fit)


def test_too_many_rows_for_dense_algebra_is_refused(oats_fit, monkeypatch):
    from glmm_lib import lmm_parts
    monkeypatch.setattr(lmm_parts, "MAX_DENSE_ROWS", 50)
    fit = gl.glmm("yield ~ nitro + (1 | Block)", datasets.load("yates_oats"), REML=True)
    with pytest.raises(gl.GLMMInputError, match="limited to 50 rows"):
        gl.anova(fit)


def test_a_dispersion_model_is_refused():
    fit = gl.glmm("yield ~ nitro + (1 | Block)", datasets.load("yates_oats"),
                  dispformula="~Variety")
    with pytest.raises(gl.GLMMInputError, match="constant residual variance"):
        coef_table_ddf(fit)
