"""Crossed random effects against lme4 and glmmTMB (issue 17, item 1).

Oracle: ``fixtures/crossed_fixtures.json``, written by ``fixtures/make_crossed_fixtures.R``
from exactly the data these tests read: lme4's InstEval (``data/lme4_insteval.csv.gz``;
here its first 600 students, the whole set is in benchmarks/bench_crossed.py), lme4's
VerbAgg and a seeded crossed binary design (``fixtures/data``).  Each of these designs has
more than ``blocks.ELIMINATE_FROM`` coupled coefficients, so it is factored by elimination
(the gaussian ones on the profiled criterion, ``lmm_crossed.py``).

Tolerances: the log-likelihood to 1e-6 relative (the issue's "exact"), and those of
tests/test_glmmtmb.py for the rest: estimates within 1% of R's standard error, glmmTMB's
standard errors within 0.5%, random-effect SDs within 1% and sigma within 0.5% relative.
(lmer's standard errors are conditional on the variance estimates, glmmTMB's and
glmm_lib's are not, so they are not compared for the lmer fits.)
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib import datasets

FIX = Path(__file__).resolve().parent / "fixtures"
FIXTURES = json.loads((FIX / "crossed_fixtures.json").read_text(encoding="utf-8"))

LOGLIK_REL = 1e-6
EST_SE = 0.01
SE_REL = 0.005
SD_REL = 0.01
SIGMA_REL = 0.005


def insteval_subset():
    df = datasets.load("lme4_insteval")
    df = df[df["s"].astype(int) <= 600].copy()
    for col in ("s", "d", "dept"):
        df[col] = df[col].cat.remove_unused_categories()
    return df


def fixture_csv(name):
    df = pd.read_csv(FIX / "data" / f"{name}.csv")
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("category")
    return df


def check(fit, ref, compare_se):
    problems = []
    loglik_error = abs(fit.llf - ref["logLik"]) / abs(ref["logLik"])
    if loglik_error > LOGLIK_REL:
        problems.append(f"logLik {fit.llf} vs {ref['logLik']}")
    table = fit.coef_table()
    for name, value in ref["fixef"].items():
        estimate, se = table.loc[name].iloc[0], table.loc[name].iloc[1]
        if abs(estimate - value) > EST_SE * ref["se"][name]:
            problems.append(f"{name}: {estimate} vs {value}")
        if compare_se and abs(se - ref["se"][name]) > SE_REL * ref["se"][name]:
            problems.append(f"se({name}): {se} vs {ref['se'][name]}")
    sds = fit.varcorr.set_index("group")["sd"]
    for group, value in ref["sd"].items():
        value = value[0] if isinstance(value, list) else value
        if abs(sds[group] - value) > SD_REL * value:
            problems.append(f"sd({group}): {sds[group]} vs {value}")
    if "sigma" in ref and abs(fit.sigma - ref["sigma"]) > SIGMA_REL * ref["sigma"]:
        problems.append(f"sigma: {fit.sigma} vs {ref['sigma']}")
    assert fit.nobs == ref["nobs"]
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("REML", [False, True])
def test_insteval_students_1_to_600_match_lmer(REML):
    ref = FIXTURES["insteval_subset_reml" if REML else "insteval_subset_ml"]
    df = insteval_subset()
    assert [df[c].cat.categories.size for c in ("s", "d", "dept")] == list(ref["levels"].values())
    fit = gl.glmm("y ~ service + (1|s) + (1|d) + (1|dept)", df, REML=REML)
    assert fit.model.random_effects.blocks.coupled
    assert fit.model.objective().cross.crossed     # the profiled criterion, by elimination
    check(fit, ref, compare_se=False)


@pytest.mark.parametrize("key, formula", [
    ("verbagg", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
    ("crossed_binary", "y ~ x + cond + (1|subject) + (1|item)"),
])
def test_crossed_binomial_matches_glmmtmb(key, formula):
    ref = FIXTURES[key]
    assert ref["converged"]
    fit = gl.glmm(formula, fixture_csv(key), family="binomial")
    assert fit.model.random_effects.blocks.coupled
    check(fit, ref, compare_se=True)
