"""R's dotted column names against glmmTMB (issue 17, item 2): lme4's Arabidopsis.

Oracle: ``fixtures/arabidopsis_fixtures.json``, written by
``fixtures/make_arabidopsis_fixtures.R`` from exactly the CSV read here.  The response is
``total.fruits``, written unquoted as an R user would; the means are emmeans'
``~ amd | nutrient`` on the response scale.

Tolerances are those of tests/test_glmmtmb.py: the log-likelihood to 1e-6 relative,
estimates within 1% of R's standard error, standard errors within 0.5%, random-effect SDs
within 1% and the dispersion within 0.5% relative; the means within 0.5% of their SE.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl

FIX = Path(__file__).resolve().parent / "fixtures"
FIXTURES = json.loads((FIX / "arabidopsis_fixtures.json").read_text(encoding="utf-8"))
FORMULA = "total.fruits ~ nutrient * amd + rack + status + (1|popu) + (1|gen)"


def arabidopsis():
    df = pd.read_csv(FIX / "data" / "arabidopsis.csv", dtype=str)
    df["total.fruits"] = df["total.fruits"].astype(int)
    for col, levels in FIXTURES["levels"].items():
        df[col] = pd.Categorical(df[col], categories=levels)
    return df


@pytest.fixture(scope="module")
def data():
    return arabidopsis()


@pytest.mark.parametrize("family", ["poisson", "nbinom2"])
def test_dotted_response_matches_glmmtmb(data, family):
    ref = FIXTURES[family]
    assert ref["converged"]
    fit = gl.glmm(FORMULA, data, family=family)
    assert fit.converged and fit.nobs == ref["nobs"]
    assert abs(fit.llf - ref["logLik"]) <= 1e-6 * abs(ref["logLik"])
    table = fit.coef_table()
    for name, value in ref["fixef"].items():
        estimate, se = table.loc[name].iloc[0], table.loc[name].iloc[1]
        assert abs(estimate - value) <= 0.01 * ref["se"][name], name
        assert abs(se - ref["se"][name]) <= 0.005 * ref["se"][name], name
    sds = fit.varcorr.set_index("group")["sd"]
    for group, value in ref["sd"].items():
        value = value[0] if isinstance(value, list) else value
        assert abs(sds[group] - value) <= 0.01 * value, group
    if ref.get("sigma"):
        assert abs(fit.sigma - ref["sigma"]) <= 0.005 * ref["sigma"]


@pytest.mark.parametrize("family", ["poisson", "nbinom2"])
def test_means_of_a_dotted_response_match_emmeans(data, family):
    ref = FIXTURES[family]["emmeans"]
    fit = gl.glmm(FORMULA, data, family=family)
    means = gl.emmeans(fit, "~ amd | nutrient").table
    got = means.set_index(["amd", "nutrient"]).loc[list(zip(ref["amd"], ref["nutrient"]))]
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(), ref["response"],
                               atol=0.005 * min(ref["SE"]))
    np.testing.assert_allclose(got["SE"].to_numpy(), ref["SE"], rtol=0.005)
