"""Profile-likelihood intervals for variance parameters against glmmTMB's confint(method="profile")."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = json.loads((FIXTURES / "glmmtmb_fixtures.json").read_text())["models"]
LEVELS = json.loads((FIXTURES / "data" / "levels.json").read_text())


def _fit(key):
    m = MODELS[key]
    df = pd.read_csv(FIXTURES / "data" / m["data"])
    for col, levels in LEVELS.get(m["data"][:-4], {}).items():
        df[col] = pd.Categorical(df[col].astype(str), categories=levels)
    return gl.glmm(m["formula"], df, family=m["family"], link=m["link"])


@pytest.mark.parametrize("key", ["sleepstudy_ri_ml", "webworms_nbinom1"])
def test_profile_limits_match_glmmtmb(key):
    fit = _fit(key)
    ref = MODELS[key]["profile_ci"]
    prof = fit.profile()
    theta_rows = [n for n in prof.index if n.startswith("theta:")]
    assert len(theta_rows) == len(ref["parm"])
    got = prof.loc[theta_rows]
    # limits on the log-SD scale agree with glmmTMB's to 1e-3
    np.testing.assert_allclose(got["lower"], ref["lower"], atol=1e-3)
    np.testing.assert_allclose(got["upper"], ref["upper"], atol=1e-3)
    # and the interval is wider than nothing, around the estimate
    assert np.all(got["lower"] < got["estimate"]) and np.all(got["estimate"] < got["upper"])


def test_profile_lower_limit_at_zero_when_profile_is_flat():
    """Orobanche with a plate effect: the deviance never reaches the cut-off as the SD -> 0
    (glmmTMB's uniroot gives no lower limit), so the SD interval starts at 0."""
    fit = _fit("crowder_plate_binomial")
    ref = MODELS["crowder_plate_binomial"]["profile_ci"]["uniroot"]
    ci = fit.conf_int(method="profile")
    row = ci.loc["sd_(Intercept)|plate"]
    assert row.iloc[0] == 0.0
    assert row.iloc[1] == pytest.approx(np.exp(ref["upper"][0]), rel=1e-3)
    # fixed-effect rows stay Wald intervals
    wald = fit.conf_int()
    np.testing.assert_allclose(ci.loc[wald.index, wald.columns].to_numpy(), wald.to_numpy())
