"""gl.emmeans and gl.pairs with Kenward-Roger and Satterthwaite df for linear mixed models,
against emmeans' lmer.df (fixtures from tests/fixtures/make_ddf_fixtures.R), and the choice of
the df method."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import glmm_lib as gl
from conftest import REPO
from glmm_lib import datasets
from glmm_lib.errors import GLMMInputError

FIXTURES = REPO / "tests" / "fixtures"
# issue 18: df 1% relative, t 0.1%, SE 0.5%, p 1% relative
TOL = {"df": 0.01, "t": 0.001, "SE": 0.005, "p": 0.01}


def _python_formula(formula):
    """lme4's (x || g) is glmm_lib's diag(x | g)."""
    return re.sub(r"\((\w+) \|\| (\w+)\)", r"diag(\1 | \2)", formula)


def _load(case):
    fx = json.loads((FIXTURES / f"ddf_{case}.json").read_text())
    data = datasets.load(fx["data"])
    if fx.get("dropped_plots"):
        data = data[~data["plot"].isin(fx["dropped_plots"])].reset_index(drop=True)
    return fx, gl.glmm(_python_formula(fx["formula"]), data, REML=fx["REML"])


@pytest.fixture(scope="module", params=["oats", "alpha", "bodyweight"])
def case(request):
    return _load(request.param)


@pytest.fixture(scope="module")
def oats():
    return _load("oats")[1]


def _close(actual, expected, rtol, what=""):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol,
                               err_msg=what)


def _notes(printed):
    """The note lines printed under the first table of a fixture's printout."""
    lines = [line.rstrip() for line in printed]
    start = lines.index("") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(" "))
    return lines[start:end]


def test_means_and_tukey_pairs_match_emmeans(case):
    fx, fit = case
    for key, expected in fx["emmeans"].items():
        spec, method = key.rsplit("_", 1)
        em = gl.emmeans(fit, spec, df=method)
        table = em.table
        assert table[spec].astype(str).tolist() == expected["levels"], key
        _close(table["emmean"], expected["emmean"], 1e-5, key)
        _close(table["SE"], expected["SE"], TOL["SE"], key)
        _close(table["df"], expected["df"], TOL["df"], key)
        assert f"Degrees-of-freedom method: {method}" in em.notes
        assert list(em.notes) == _notes(expected["printed"])
        pairs = gl.pairs(em)
        ptable, want = pairs.table, expected["pairs"]
        assert ptable["contrast"].tolist() == want["contrast"], key
        _close(ptable["SE"], want["SE"], TOL["SE"], key)
        _close(ptable["df"], want["df"], TOL["df"], key)
        _close(ptable["t.ratio"], want["t.ratio"], TOL["t"], key)
        big = np.asarray(want["p.value_tukey"]) > 1e-8
        _close(ptable["p.value"][big], np.asarray(want["p.value_tukey"])[big], TOL["p"], key)
        assert f"Degrees-of-freedom method: {method}" in pairs.notes


def test_kenward_roger_is_the_default_for_reml_and_satterthwaite_for_ml(oats):
    default = gl.emmeans(oats, "nitro")
    assert default.df_method == "Kenward-Roger"
    assert default.table.equals(gl.emmeans(oats, "nitro", df="kenward-roger").table)
    ml = gl.glmm("yield ~ nitro * Variety + (1 | Block/Variety)", datasets.load("yates_oats"))
    assert gl.emmeans(ml, "nitro").df_method == "Satterthwaite"
    with pytest.raises(GLMMInputError, match="REML"):
        gl.emmeans(ml, "nitro", df="kenward-roger")


def test_kenward_roger_means_use_the_adjusted_covariance(oats):
    fx = json.loads((FIXTURES / "ddf_oats.json").read_text())
    em = gl.emmeans(oats, "nitro", df="Kenward-Roger")
    _close(em.vcov, fx["vcov_kr"], 0.01)


def test_residual_asymptotic_and_numeric_df(oats):
    n, p = oats.nobs, len(oats.params)
    residual = gl.emmeans(oats, "nitro", df="residual")
    assert residual.df == n - p and np.ndim(residual.df) == 0
    assert "Degrees-of-freedom method: residual" in residual.notes
    asym = gl.emmeans(oats, "nitro", df="asymptotic")
    assert "asymp.LCL" in asym.table.columns and np.isinf(asym.df)
    assert "z.ratio" in gl.pairs(asym).table.columns
    fixed = gl.emmeans(oats, "nitro", df=20)
    assert fixed.df == 20.0 and (fixed.table["df"] == 20).all()
    assert (gl.pairs(fixed).table["df"] == 20).all()
    assert not any(n.startswith("Degrees-of-freedom") for n in fixed.notes)


def test_glmm_keeps_df_residual_and_refuses_small_sample_methods():
    fit = gl.glmm("y ~ trt + (1|block)", datasets.load("beall_webworms"), family="poisson")
    em = gl.emmeans(fit, "trt")
    assert em.df == fit.df_resid and em.df_method is None
    assert not any(n.startswith("Degrees-of-freedom") for n in em.notes)
    asym = gl.emmeans(fit, "trt", df="asymptotic")
    assert np.isinf(asym.df) and "Degrees-of-freedom method: asymptotic" in asym.notes
    with pytest.raises(GLMMInputError, match="linear mixed models"):
        gl.emmeans(fit, "trt", df="Satterthwaite")


@pytest.mark.parametrize("bad", ["containment", "", -3, 0, [1, 2]])
def test_bad_df_is_refused(oats, bad):
    with pytest.raises(GLMMInputError):
        gl.emmeans(oats, "nitro", df=bad)


def test_compact_letters_use_each_pairs_own_df(oats):
    """The letters of the Variety means within nitro rest on KR pairs (df about 30), not on
    the means' df."""
    em = gl.emmeans(oats, "~ Variety | nitro")
    letters = gl.cld(em)
    pairs = gl.pairs(em)
    assert (pairs.table["p.value"] > 0.05).all()          # no variety differs within a nitro
    assert all(letter == "a" for letter in letters.letters)
    assert np.all(np.abs(pairs.table["df"] - 30.2) < 0.1)
