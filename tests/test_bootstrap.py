"""Refit engine, parametric bootstrap, bootstrap LRT and the simulation runner."""
import warnings

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib.bootstrap import parameter_values
from glmm_lib.refit import refit, refit_all, with_response
from glmm_lib.simulation_runner import run


@pytest.fixture(scope="module")
def webworms():
    df = gl.datasets.load("beall_webworms")
    return df, gl.glmm("y ~ trt + (1|block)", df, family="nbinom1")


@pytest.fixture(scope="module")
def gaussian_rcbd():
    design = gl.designs.rcbd(treatments=4, blocks=5)
    truth = gl.specify("y ~ trt + (1|block)", data=design,
                       fixed={"(Intercept)": 5.0, "trtT2": 0.5, "trtT3": 1.0, "trtT4": 1.5},
                       sd={"block": 1.0}, dispersion=0.8)
    data = design.assign(y=truth.simulate(1, seed=4)[:, 0])
    return data, gl.glmm("y ~ trt + (1|block)", data)


def test_refit_on_a_new_response_equals_a_fit_to_a_copy_of_the_data(webworms):
    df, fit = webworms
    y = fit.simulate(1, seed=12)[:, 0]
    swapped = refit(fit.model, y, start=fit.optimizer.end)
    direct = gl.glmm("y ~ trt + (1|block)", df.assign(y=y), family="nbinom1")
    assert swapped.status == "ok"
    assert swapped.fit.llf == pytest.approx(direct.llf, abs=1e-8)
    np.testing.assert_allclose(swapped.fit.params, direct.params, atol=1e-6)
    # the fit's own model is untouched
    np.testing.assert_array_equal(fit.model.y, df["y"].to_numpy(float))
    again = refit(fit.model, fit.model.y, start=fit.optimizer.end)
    assert again.fit.llf == pytest.approx(fit.llf, abs=1e-9)


def test_an_invalid_response_is_a_recorded_failure(webworms):
    _, fit = webworms
    responses = np.column_stack([fit.simulate(1, seed=1)[:, 0], -np.ones(fit.nobs)])
    rows = refit_all(fit, responses, lambda o: {"status": o.status, "message": o.message})
    assert rows[0]["status"] in ("ok", "warning")
    assert rows[1]["status"] == "failed" and "GLMMInputError" in rows[1]["message"]
    with pytest.raises(gl.GLMMInputError, match="rows"):
        with_response(fit.model, np.ones(3))


def test_bootstrap_standard_error_matches_the_gls_standard_error(gaussian_rcbd):
    # In a balanced gaussian model the fixed effects are GLS estimates; their sampling SD
    # at the fitted variances is the fit's standard error.  200 replicates estimate a SD to
    # about 5% (1/sqrt(2n)); the band is 3 of those.
    _, fit = gaussian_rcbd
    boot = gl.bootstrap(fit, nsim=200, seed=8, progress=False)
    assert boot.failed == 0 and boot.nsim == 200
    se = boot.intervals.loc[fit.params.index, "std. error"]
    np.testing.assert_allclose(se, fit.bse, rtol=0.15)
    table = boot.intervals
    assert {"sd_(Intercept)|block", "sigma"} <= set(table.index)
    lower, upper = table.columns[4], table.columns[5]
    assert (table[lower] <= table["Estimate"]).all() and (table["Estimate"] <= table[upper]).all()
    narrower = boot.conf_int(level=0.5)
    assert (narrower.iloc[:, 0] >= table[lower]).all()


def test_results_do_not_depend_on_chunking_and_resume_continues(gaussian_rcbd, tmp_path):
    _, fit = gaussian_rcbd
    whole = gl.bootstrap(fit, nsim=12, seed=3, progress=False, chunk_size=12)
    pieces = gl.bootstrap(fit, nsim=12, seed=3, progress=False, chunk_size=5,
                          store=tmp_path / "run")
    pd.testing.assert_frame_equal(whole.replicates, pieces.replicates)
    chunks = sorted((tmp_path / "run").glob("chunk-*.parquet"))
    assert len(chunks) == 3
    chunks[1].unlink()                 # as if the run had stopped before this chunk
    with pytest.raises(gl.GLMMInputError, match="resume=True"):
        gl.bootstrap(fit, nsim=12, seed=3, progress=False, store=tmp_path / "run")
    resumed = gl.bootstrap(fit, nsim=12, seed=3, progress=False, store=tmp_path / "run",
                           resume=True)
    assert resumed.info.resumed == 7 and resumed.info.computed == 5
    pd.testing.assert_frame_equal(whole.replicates, resumed.replicates)
    with pytest.raises(gl.GLMMInputError, match="different run"):
        gl.bootstrap(fit, nsim=12, seed=4, progress=False, store=tmp_path / "run", resume=True)


def test_bootstrap_lrt_p_value(webworms):
    df, fit = webworms
    m0 = gl.glmm("y ~ trt", df, family="nbinom1")
    table = gl.compare(m0, fit, method="bootstrap", nsim=19, seed=2, progress=False)
    sims = table.attrs["bootstrap"]
    used = sims.loc[sims["status"] == "ok", "LRT"].to_numpy()
    observed = table["Chisq"].iloc[1]
    assert table["Pr(boot)"].iloc[1] == pytest.approx((1 + np.sum(used >= observed)) /
                                                      (1 + used.size))
    # the block variance is clearly needed: no simulation under the null comes close
    assert table["Pr(boot)"].iloc[1] == pytest.approx(1 / 20)
    with pytest.raises(gl.GLMMInputError, match="method must be"):
        gl.compare(m0, fit, method="parametric")
    with pytest.raises(gl.GLMMInputError, match="exactly two"):
        gl.compare(m0, fit, fit, method="bootstrap", nsim=2)


def test_runner_rejects_bad_settings():
    with pytest.raises(gl.GLMMInputError, match="nsim"):
        run(lambda sim, seed: {}, 0, seed=1, progress=False)
    with pytest.raises(gl.GLMMInputError, match="seed"):
        run(lambda sim, seed: {}, 2, seed=-1, progress=False)
    with pytest.raises(gl.GLMMInputError, match="store="):
        run(lambda sim, seed: {}, 2, seed=1, resume=True, progress=False)


def test_two_dask_workers_give_the_same_results_as_one(gaussian_rcbd):
    _, fit = gaussian_rcbd
    local = gl.bootstrap(fit, nsim=8, seed=21, progress=False)
    on_dask = gl.bootstrap(fit, nsim=8, seed=21, progress=False, workers=2, chunk_size=3)
    assert on_dask.info.workers == 2
    pd.testing.assert_frame_equal(local.replicates, on_dask.replicates)


@pytest.mark.parametrize("formula, options", [
    ("y ~ x + (x|g)", {"family": "poisson"}),
    ("y ~ x + (1|g)", {"family": "nbinom2", "ziformula": "~1"}),
    ("y ~ x + (1|g)", {"family": "nbinom1", "dispformula": "~x"}),
    ("z ~ x + ar1(tf + 0|g)", {}),
    ("z ~ x + (1|g)", {"dispformula": "~0"}),
])
def test_bootstrapped_parameters_are_those_the_fit_reports(formula, options):
    """Each replicate's values are read from the estimates, not from the fit's tables; they
    are the tables' numbers under the names of the module docstring."""
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(12), 8)
    data = pd.DataFrame({"g": group.astype(str), "x": rng.normal(size=group.size),
                         "tf": pd.Categorical(np.tile(np.arange(8), 12))})
    data["y"] = rng.poisson(np.exp(0.5 + 0.3 * data["x"] + rng.normal(size=12)[group]))
    data["z"] = data["y"] + rng.normal(size=group.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # convergence is not what is checked here
        fit = gl.glmm(formula, data, **options)
    values = parameter_values(fit)
    expected = {str(k): v for k, v in fit.params.items()}
    vc = fit.varcorr
    for _, row in vc.iterrows():
        expected[f"sd_{row['term']}|{row['group']}"] = row["sd"]
        names = vc.loc[vc["group"] == row["group"], "term"].tolist()
        for j, other in enumerate(names):
            if pd.notna(row.get(f"corr_{j + 1}", np.nan)):
                expected[f"cor_{row['term']}.{other}|{row['group']}"] = row[f"corr_{j + 1}"]
        if pd.notna(row.get("rho", np.nan)):
            expected[f"rho|{row['group']}"] = row["rho"]
    if fit.params_disp.size == 1:
        expected["sigma"] = fit.sigma
    else:
        expected.update({f"disp~{k}": v for k, v in fit.params_disp.items()})
    expected.update({f"zi~{k}": v for k, v in fit.params_zi.items()})
    assert list(values) == list(expected)
    assert values == pytest.approx(expected, rel=1e-12, abs=1e-15)
