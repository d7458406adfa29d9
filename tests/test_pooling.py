"""Group-by-group views of a fit (glmm_lib.pooling) and the covariance a fit implies
(glmm_lib.implied_covariance), checked against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import glmm_lib as gl
from glmm_lib.implied_covariance import implied_covariance
from glmm_lib.pooling import group_effects, pooling_table


def test_pooling_table_shrinks_by_the_balanced_formula():
    df = gl.datasets.load("beall_webworms")
    sample = df.groupby(["block", "trt"], observed=True).sample(n=2, random_state=1)
    fit = gl.glmm("y ~ trt + (1|block)", data=sample, REML=True)
    table = pooling_table(fit, "block")
    vc = fit.varcorr
    s2u = float(vc["variance"].iloc[0])
    lam = s2u / (s2u + fit.sigma**2 / 8)
    ratio = ((table["partial_pooling"] - table["complete_pooling"])
             / (table["no_pooling"] - table["complete_pooling"]))
    np.testing.assert_allclose(ratio, lam, rtol=1e-4)


def test_implied_covariance_of_a_random_intercept_model():
    df = gl.datasets.load("swine_weights")
    fit = gl.glmm("weight ~ trt * week + (1|pig)", data=df)
    rows = np.flatnonzero((df["pig"] == "pig01").to_numpy())
    cov = implied_covariance(fit, rows).to_numpy()
    s2 = float(fit.varcorr["variance"].iloc[0])
    np.testing.assert_allclose(cov[0, 1], s2, rtol=1e-8)
    np.testing.assert_allclose(cov[0, 0], s2 + fit.sigma**2, rtol=1e-8)




def test_group_effects_of_a_model_without_interaction_are_the_average():
    df = gl.datasets.load("beall_webworms")
    fit = gl.glmm("y ~ trt + (1|block)", data=df, family="poisson")
    table = group_effects(fit, "trt", "block", "T2")
    assert table.attrs["contrast"] == "T2 / T1"
    # one log-link treatment effect for every block: the ratio is exp(coefficient)
    np.testing.assert_allclose(table["model"], np.exp(fit.params["trtT2"]), rtol=1e-8)
    np.testing.assert_allclose(table["average"], np.exp(fit.params["trtT2"]), rtol=1e-8)
    with pytest.raises(gl.GLMMInputError, match="levels are"):
        group_effects(fit, "trt", "block", "T9")
