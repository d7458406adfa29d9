"""Power simulation (glmm_lib.power, specify, designs) against exact results.

Oracle: in a balanced gaussian RCBD with random blocks the treatment F statistic has
the noncentral F(t-1, (t-1)(b-1)) distribution with noncentrality
b * sum((tau_i - mean tau)^2) / sigma^2.  Away from the boundary of the block variance,
the ML likelihood-ratio and Wald statistics are monotone functions of F (the treatment
contrasts live in the within-block stratum, whose variance is sigma^2 alone):
LRT = b(t-1) log(1 + F/(b-1)) and Wald = b(t-1) F/(b-1).  So their power is a
noncentral-F probability.  A block SD of 5 (sigma 1) keeps the boundary out of reach.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import glmm_lib as gl
from glmm_lib.power import PowerJob, drop_term
from glmm_lib.specify import SpecifiedModel

TAU = {"trtT2": 0.4, "trtT3": 0.7, "trtT4": 1.0}
T = 4


def _rcbd_model(blocks):
    design = gl.designs.rcbd(treatments=["T1", "T2", "T3", "T4"], blocks=blocks)
    return gl.specify("y ~ trt + (1|block)", data=design, family="gaussian",
                      fixed={"(Intercept)": 10.0, **TAU}, sd={"block": 5.0}, dispersion=1.0)


def _anova_f(y, blocks):
    table = y.reshape(blocks, T)
    grand = table.mean()
    sst = blocks * np.sum((table.mean(0) - grand) ** 2)
    ssb = T * np.sum((table.mean(1) - grand) ** 2)
    sse = np.sum((table - grand) ** 2) - sst - ssb
    return (sst / (T - 1)) / (sse / ((T - 1) * (blocks - 1)))


def _exact_power(method, blocks, alpha=0.05):
    tau = np.array([0.0] + list(TAU.values()))
    noncentrality = blocks * np.sum((tau - tau.mean()) ** 2)
    d1, d2 = T - 1, (T - 1) * (blocks - 1)
    q = stats.chi2.ppf(1 - alpha, d1)
    n_within = blocks * (T - 1)
    critical = {"lrt": (blocks - 1) * np.expm1(q / n_within),
                "wald": q * (blocks - 1) / n_within,
                "kr": stats.f.ppf(1 - alpha, d1, d2)}[method]
    return stats.ncf.sf(critical, d1, d2, noncentrality)


@pytest.mark.parametrize("method", ["lrt", "wald"])
def test_statistics_are_the_exact_functions_of_the_f_statistic(method):
    blocks = 6
    model = _rcbd_model(blocks)
    job = PowerJob(model, "trt", method)
    n_within = blocks * (T - 1)
    for sim in range(3):
        seed = np.random.SeedSequence(11, spawn_key=(sim,))
        row = job(sim, seed)
        f = _anova_f(model.simulate(1, seed=np.random.SeedSequence(11, spawn_key=(sim,)))[:, 0],
                     blocks)
        expected = n_within * (np.log1p(f / (blocks - 1)) if method == "lrt" else f / (blocks - 1))
        assert row["status"] == "ok"
        assert row["statistic"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("method", ["lrt", "wald"])
def test_power_matches_noncentral_f_at_three_design_sizes(method):
    nsim = 120
    curve = gl.power(_rcbd_model(4), test="trt", method=method, nsim=nsim, seed=3,
                     along="block", levels=[4, 6, 10], progress=False)
    assert list(curve["block"]) == [4, 6, 10]
    assert (curve["failed"] == 0).all() and (curve["nsim"] == nsim).all()
    for _, row in curve.iterrows():
        exact = _exact_power(method, int(row["block"]))
        se = np.sqrt(exact * (1 - exact) / nsim)
        assert abs(row["power"] - exact) < 3 * se, (row["block"], row["power"], exact)
        assert row["lower"] <= row["power"] <= row["upper"]


@pytest.mark.skipif(not hasattr(gl, "anova"),
                    reason="the Kenward-Roger F test (gl.anova with ddf=) is not in glmm_lib yet")
def test_kenward_roger_power_is_the_exact_f_power():
    nsim = 150
    design = gl.designs.rcbd(treatments=["T1", "T2", "T3", "T4"], blocks=4)
    model = gl.specify("y ~ trt + (1|block)", data=design, fixed={"(Intercept)": 10.0, **TAU},
                       sd={"block": 1.0}, dispersion=1.0, REML=True)
    curve = gl.power(model, test="trt", method="kr", nsim=nsim, seed=5, along="block",
                     levels=[4, 6, 10], progress=False)
    for _, row in curve.iterrows():
        exact = _exact_power("kr", int(row["block"]))
        assert abs(row["power"] - exact) < 3 * np.sqrt(exact * (1 - exact) / nsim)


def _split_plot_model(blocks):
    design = gl.designs.split_plot(main=2, sub=3, blocks=blocks)
    fixed = {"(Intercept)": 1.0, "mainA2": 0.5, "subS2": 0.0, "subS3": 0.2,
             "mainA2:subS2": 0.0, "mainA2:subS3": 0.0}
    return gl.specify("y ~ main * sub + (1|block) + (1|wholeplot)", data=design, fixed=fixed,
                      sd={"block": 1.0, "wholeplot": 0.5}, dispersion=1.0)


def test_extended_design_is_the_larger_design():
    small = _split_plot_model(3)
    data = small.extended("block", 7).model.frame.data
    fresh = gl.designs.split_plot(main=2, sub=3, blocks=7)
    assert data["block"].nunique() == 7 and len(data) == len(fresh)
    assert data["wholeplot"].nunique() == 14     # whole plots nested in blocks become new ones
    assert (data.groupby("block", observed=True)["wholeplot"].nunique() == 2).all()
    fewer = small.extended("block", 2).model.frame.data
    assert list(fewer["block"].cat.categories) == ["B1", "B2"]


def test_specified_model_simulates_as_the_fit_and_specify_inverts_the_reported_values():
    df = gl.datasets.load("beall_webworms")
    fit = gl.glmm("y ~ trt + (1|block)", df, family="nbinom1")
    truth = SpecifiedModel.from_fit(fit)
    np.testing.assert_array_equal(truth.simulate(4, seed=9), fit.simulate(4, seed=9))
    again = gl.specify("y ~ trt + (1|block)", data=df, family="nbinom1",
                       fixed=fit.params.to_dict(), sd={"block": fit.varcorr["sd"].iloc[0]},
                       dispersion=fit.sigma)
    np.testing.assert_allclose(again.parameters, truth.parameters, rtol=0, atol=1e-9)


def test_specify_sets_correlations_of_an_unstructured_term():
    design = gl.designs.repeated_measures(treatments=2, subjects=6, times=4)
    model = gl.specify("y ~ trt * time + (time | subject)", data=design,
                       fixed={"(Intercept)": 1, "trtT2": 0, "time": 0.5, "trtT2:time": 0.2},
                       sd={"subject": {"(Intercept)": 1.5, "time": 0.3}}, corr={"subject": -0.4},
                       dispersion=0.7)
    term = model.model.random_effects.terms[0]
    report = term.structure.report(model.theta)
    np.testing.assert_allclose(report["sd"], [1.5, 0.3], rtol=1e-10)
    assert report["corr"][1, 0] == pytest.approx(-0.4, abs=1e-10)


def test_failed_refits_are_counted_not_dropped():
    # an exponent of 40 makes Poisson counts overflow: the refits fail and are reported
    design = gl.designs.rcbd(treatments=3, blocks=4)
    model = gl.specify("y ~ trt + (1|block)", data=design, family="poisson",
                       fixed={"(Intercept)": 40.0, "trtT2": 0.0, "trtT3": 0.0}, sd={"block": 0.1})
    curve = gl.power(model, test="trt", nsim=4, seed=1, progress=False)
    assert int(curve["nsim"].iloc[0]) == 4
    assert int(curve["failed"].iloc[0]) == 4
    assert np.isnan(curve["power"].iloc[0])
    sims = curve.attrs["simulations"][None]
    assert (sims["status"] == "failed").all() and sims["problems"].str.len().gt(0).all()


def test_power_from_a_fit_with_a_changed_effect_and_bad_input():
    df = gl.datasets.load("beall_webworms")
    fit = gl.glmm("y ~ trt + (1|block)", df, family="nbinom1")
    curve = gl.power(fit, test="trt", effect={"trtT2": 0.0, "trtT3": 0.0, "trtT4": 0.0},
                     nsim=20, seed=2, progress=False)
    # no treatment effect: power is the type I error, near 5%
    assert curve["power"].iloc[0] <= 0.25
    with pytest.raises(gl.GLMMInputError, match="not a term"):
        gl.power(fit, test="spray", nsim=2, progress=False)
    with pytest.raises(gl.GLMMInputError, match="effect names"):
        gl.power(fit, test="trt", effect={"trtT9": 1.0}, nsim=2, progress=False)
    with pytest.raises(gl.GLMMInputError, match="along= and levels="):
        gl.power(fit, test="trt", along="block", nsim=2, progress=False)
    with pytest.raises(gl.GLMMInputError, match="method must be"):
        gl.power(fit, test="trt", method="score", nsim=2, progress=False)


def test_drop_term_and_specify_errors():
    assert drop_term("y ~ trt + x + (1|b)", "trt") == "y ~ x + (1|b)"
    assert drop_term("y ~ trt + (1|b)", "trt") == "y ~ 1 + (1|b)"
    design = gl.designs.rcbd(3, blocks=3)
    with pytest.raises(gl.GLMMInputError, match="missing"):
        gl.specify("y ~ trt + (1|block)", data=design, fixed={"(Intercept)": 1}, sd={"block": 1},
                   dispersion=1)
    with pytest.raises(gl.GLMMInputError, match="sd="):
        gl.specify("y ~ trt + (1|block)", data=design,
                   fixed={"(Intercept)": 1, "trtT2": 0, "trtT3": 0}, dispersion=1)
    with pytest.raises(gl.GLMMInputError, match="dispersion="):
        gl.specify("y ~ trt + (1|block)", data=design,
                   fixed={"(Intercept)": 1, "trtT2": 0, "trtT3": 0}, sd={"block": 1})


def test_designs_have_the_documented_layout():
    sp = gl.designs.split_plot(main=2, sub=3, blocks=4)
    assert len(sp) == 24 and sp["wholeplot"].nunique() == 8
    rm = gl.designs.repeated_measures(treatments=["a", "b"], subjects=3, times=[0, 2, 4])
    assert len(rm) == 18 and rm["subject"].nunique() == 6 and list(rm["trt"].cat.categories) == ["a", "b"]
    ss = gl.designs.subsampling(treatments=3, units=4, subsamples=2)
    assert len(ss) == 24 and ss["unit"].nunique() == 12
    assert isinstance(gl.designs.rcbd(2, blocks=2), pd.DataFrame)
    with pytest.raises(gl.GLMMInputError, match="blocks"):
        gl.designs.rcbd(["T1", "T2"], blocks=0)


def test_power_command_line(tmp_path, capsys):
    import argparse

    from course.power_cli import add_parser, cmd_power
    from course.errors import UsageError

    spec = tmp_path / "spec.yaml"
    spec.write_text("design: {type: rcbd, treatments: [T1, T2, T3], blocks: 4}\n"
                    "formula: y ~ trt + (1|block)\nfamily: poisson\n"
                    "fixed: {'(Intercept)': 1.0, trtT2: 0.5, trtT3: 1.0}\nsd: {block: 0.3}\n"
                    "test: trt\nmethod: wald\nalong: block\nlevels: [3, 5]\n")
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["power", str(spec), "--nsim", "6", "--seed", "2", "-q",
                              "--out", str(tmp_path / "out")])
    assert cmd_power(args) == 0
    written = pd.read_csv(tmp_path / "out" / "power.csv")
    assert list(written["block"]) == [3, 5] and (written["nsim"] == 6).all()
    assert (tmp_path / "out" / "power.png").stat().st_size > 0
    assert "wald test of trt" in capsys.readouterr().out
    spec.write_text("formula: y ~ trt\nfixed: {}\ntest: trt\n")
    with pytest.raises(UsageError, match="design"):
        cmd_power(parser.parse_args(["power", str(spec), "-q"]))


def _repeated_measures_model(subjects):
    design = gl.designs.repeated_measures(treatments=["A", "B", "C"], subjects=subjects, times=3)
    return gl.specify("y ~ trt + (1|subject)", data=design, family="poisson",
                      fixed={"(Intercept)": 1.0, "trtB": 0.3, "trtC": 0.6}, sd={"subject": 0.4})


@pytest.mark.parametrize("subjects, n", [(4, 6), (4, 2), (2, 5)])
def test_extending_along_subjects_nested_in_treatments_extends_every_group(subjects, n):
    data = _repeated_measures_model(subjects).extended("subject", n).model.frame.data
    fresh = gl.designs.repeated_measures(treatments=["A", "B", "C"], subjects=n, times=3)
    assert len(data) == len(fresh)
    per_group = data.groupby("trt", observed=True)["subject"].nunique()
    assert list(per_group.index) == ["A", "B", "C"] and (per_group == n).all()
    assert data["subject"].nunique() == 3 * n          # copied subjects are new subjects
    assert (data.groupby("subject", observed=True).size() == 3).all()
    assert (data.groupby("subject", observed=True)["trt"].nunique() == 1).all()


def test_extending_the_whole_plots_of_a_split_plot_extends_every_cell():
    data = _split_plot_model(2).extended("wholeplot", 3).model.frame.data
    assert len(data) == 2 * 2 * 3 * 3
    assert (data.groupby(["block", "main"], observed=True)["wholeplot"].nunique() == 3).all()


def test_power_along_subjects_nested_in_treatments_runs():
    curve = gl.power(_repeated_measures_model(2), test="trt", nsim=3, seed=1, along="subject",
                     levels=[2, 4], workers=1, progress=False)
    assert list(curve["subject"]) == [2, 4]
    assert (curve["nsim"] == 3).all() and (curve["failed"] == 0).all()
    assert curve["power"].between(0, 1).all()
