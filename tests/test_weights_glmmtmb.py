"""Prior weights with non-binomial families against glmmTMB.

Oracle (committed, R is never needed to run these tests): ``fixtures/weights_fixtures.json``
with ``fixtures/data/weights_sim.csv``, both written by ``fixtures/make_weights_fixtures.R``
(glmmTMB 1.1.5): a seeded simulation of 30 groups x 12 rows with weights ``w`` ~ U(0.5, 2),
fitted with ``weights = w`` as gaussian, nbinom1 and nbinom2 random-intercept models (ML) and a
gaussian random-slope model (REML). glmmTMB multiplies each observation's log-likelihood by its
weight, for every family but binomial.

Tolerances are those of ``test_glmmtmb.py`` (issue 4): estimates within 1% of their glmmTMB
standard error, standard errors within 0.5% relative, logLik within 1e-3, sigma() within 0.5%,
random-effect SDs within 1% relative, correlations within 0.01; nobs and df.resid exact.
"""
from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from test_glmmtmb import Checks

FIX = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILE = FIX / "weights_fixtures.json"
DATA_FILE = FIX / "data" / "weights_sim.csv"

EST_SE = 0.01       # |estimate - R| <= 1% of R's SE
SE_REL = 0.005      # SEs within 0.5% relative
LOGLIK_ABS = 1e-3
SIGMA_REL = 0.005
SD_REL = 0.01
CORR_ABS = 0.01

FIXTURES = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))
MODELS = FIXTURES["models"]


@functools.lru_cache(maxsize=None)
def load_data() -> pd.DataFrame:
    """weights_sim.csv with factor columns as categoricals in R's level order."""
    levels = FIXTURES["levels"]
    df = pd.read_csv(DATA_FILE, dtype={k: str for k in levels})
    for col, levs in levels.items():
        df[col] = pd.Categorical(df[col], categories=levs)
    return df


def test_fixtures_present():
    assert set(MODELS) == {"gaussian_ri", "nbinom1_ri", "nbinom2_ri", "gaussian_slope_reml"}
    df = load_data()
    assert len(df) == 360 and df["g"].nunique() == 30
    assert not np.allclose(df["w"], 1.0)
    for key, entry in MODELS.items():
        conv = entry["convergence"]
        assert conv["code"] == 0 and conv["pdHess"] and not conv["warnings"], key


@pytest.mark.parametrize("key", list(MODELS))
def test_weighted_fit_matches_glmmtmb(key):
    entry = MODELS[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gl.glmm(entry["formula"], load_data(), family=entry["family"],
                      weights=entry["weights"], REML=bool(entry["REML"]))
    check = Checks(key)
    if not fit.converged:
        check.fail(f"glmm_lib did not converge: {fit.convergence_problems}")
    if caught:
        check.fail(f"glmm_lib warned where glmmTMB did not: {[str(w.message) for w in caught]}")
    if fit.nobs != entry["nobs"]:
        check.fail(f"nobs {fit.nobs} vs {entry['nobs']}")
    if fit.df_resid != entry["df.resid"]:
        check.fail(f"df.resid {fit.df_resid} vs {entry['df.resid']}")

    check.close("logLik", fit.llf, entry["logLik"], abs_tol=LOGLIK_ABS)
    check.close("sigma()", fit.sigma, entry["sigma"], rel_tol=SIGMA_REL)

    est, se = fit.params, fit.bse
    if list(est.index) != list(entry["coef"]):
        check.fail(f"coef names: glmm_lib {list(est.index)} vs glmmTMB {list(entry['coef'])}")
    else:
        for name, value in entry["coef"].items():
            s = entry["se"][name]
            if not abs(est[name] - value) <= EST_SE * s:
                check.fail(f"coef {name}: glmm_lib {est[name]:.10g} vs glmmTMB {value:.10g} = "
                           f"{abs(est[name] - value) / s:.3g} SE (tolerance {EST_SE} SE)")
            check.close(f"SE {name}", se[name], s, rel_tol=SE_REL)

    vc = fit.varcorr
    for group, ref in entry["varcorr"].items():
        rows = vc[vc["group"] == group]
        if list(rows["term"]) != list(ref["terms"]):
            check.fail(f"random terms of {group}: glmm_lib {list(rows['term'])} vs glmmTMB "
                       f"{ref['terms']}")
            continue
        for term, sd, ref_sd in zip(ref["terms"], rows["sd"], ref["sd"]):
            check.close(f"SD of {term} | {group}", sd, ref_sd, rel_tol=SD_REL)
        if ref.get("corr") is not None:
            ref_corr = np.asarray(ref["corr"], float)
            for i in range(1, len(ref["terms"])):
                for j in range(i):
                    check.close(f"corr({ref['terms'][i]}, {ref['terms'][j]}) | {group}",
                                rows.iloc[i][f"corr_{j + 1}"], ref_corr[i, j], abs_tol=CORR_ABS)
    if len(vc["group"].unique()) != len(entry["varcorr"]):
        check.fail(f"grouping factors: glmm_lib {list(vc['group'].unique())} vs glmmTMB "
                   f"{list(entry['varcorr'])}")
    check.done()
