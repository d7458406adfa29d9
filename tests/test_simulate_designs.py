"""Simulated designs (course.lessonkit.simulate_designs), the shipped swine data, the
data readers (glmm_lib.datasets.read, course.lessonkit.data.read) and the lesson figures
(course.lessonkit.figures)."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from conftest import REPO  # noqa: E402
import glmm_lib as gl  # noqa: E402
from course.lessonkit import data as lesson_data  # noqa: E402
from course.lessonkit import figures  # noqa: E402
from course.lessonkit.simulate_designs import (compare_with_truth,  # noqa: E402
                                               rcbd_treatment_means, simulate_rcbd,
                                               simulate_swine)
from glmm_lib.errors import GLMMInputError  # noqa: E402

EFFECTS = {"Control": 0.0, "H1": -1.0, "H2": -2.0}


def test_rcbd_layout_is_one_plot_per_treatment_and_block():
    df = simulate_rcbd(EFFECTS, 4, family="beta", phi=20, sd_block=0.3, seed=1, response="damage")
    assert df.shape == (12, 3)
    assert list(df["trt"].cat.categories) == ["Control", "H1", "H2"]
    assert list(df["block"].cat.categories) == ["B1", "B2", "B3", "B4"]
    assert (df.groupby(["block", "trt"], observed=True).size() == 1).all()
    assert ((df["damage"] > 0) & (df["damage"] < 1)).all()
    assert df.attrs["truth"]["phi"] == 20 and df.attrs["truth"]["link"] == "logit"


def test_rcbd_is_reproducible_from_its_seed_and_scale_multiplies():
    a = simulate_rcbd(EFFECTS, 3, family="gamma", cv=0.5, seed=7)
    b = simulate_rcbd(EFFECTS, 3, family="gamma", cv=0.5, seed=7)
    c = simulate_rcbd(EFFECTS, 3, family="gamma", cv=0.5, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["y"], c["y"])
    pct = simulate_rcbd(EFFECTS, 3, family="beta", phi=10, seed=3, scale=100)
    prop = simulate_rcbd(EFFECTS, 3, family="beta", phi=10, seed=3)
    np.testing.assert_allclose(pct["y"], 100 * prop["y"])


def test_rcbd_recovers_its_parameters_in_a_large_trial():
    df = simulate_rcbd({"A": 0.0, "B": 1.0, "C": -0.5}, 400, family="gaussian", intercept=5.0,
                       sd_block=0.0, sigma=0.5, seed=11)
    means = df.groupby("trt", observed=True)["y"].mean()
    np.testing.assert_allclose(means.to_numpy(), [5.0, 6.0, 4.5], atol=0.08)
    assert df.groupby("trt", observed=True)["y"].std().between(0.45, 0.55).all()


def test_rcbd_bad_input_is_a_clear_error():
    with pytest.raises(GLMMInputError, match="takes phi, not sigma"):
        simulate_rcbd(EFFECTS, 3, family="beta", sigma=1.0, phi=3)
    with pytest.raises(GLMMInputError, match="needs cv > 0"):
        simulate_rcbd(EFFECTS, 3, family="gamma")
    with pytest.raises(GLMMInputError, match="unknown family"):
        simulate_rcbd(EFFECTS, 3, family="weibull", sigma=1)
    with pytest.raises(GLMMInputError, match="at least two treatments"):
        simulate_rcbd({"A": 0.0}, 3, sigma=1)


def test_treatment_means_and_geometric_means():
    t = rcbd_treatment_means(EFFECTS, family="gamma", intercept=np.log(40), cv=0.6)
    np.testing.assert_allclose(t["mean"], 40 * np.exp([0.0, -1.0, -2.0]))
    # exp(E log y) of a Gamma, checked by simulation
    k = 1 / 0.6**2
    draws = np.random.default_rng(0).gamma(k, 40 / k, 400_000)
    assert t["exp_mean_log"].iloc[0] == pytest.approx(np.exp(np.mean(np.log(draws))), rel=5e-3)
    b = rcbd_treatment_means(EFFECTS, family="beta", phi=30, scale=100)
    assert b["mean"].iloc[0] == pytest.approx(50.0)


def test_compare_with_truth_lines_up_estimates_and_true_values():
    df = simulate_rcbd({"Control": 0.0, "H1": 0.8}, 6, family="gaussian", intercept=6.0,
                       sd_block=0.5, sigma=0.4, seed=3, response="grain_yield")
    fit = gl.glmm("grain_yield ~ trt + (1|block)", data=df)
    table = compare_with_truth(fit, df.attrs["truth"])
    assert list(table.index) == ["(Intercept)", "trtH1", "block variance", "sigma"]
    assert table.loc["trtH1", "true"] == pytest.approx(0.8)
    assert table.loc["block variance", "true"] == pytest.approx(0.25)
    assert table.loc["sigma", "estimate"] == pytest.approx(fit.sigma)
    assert table.loc["trtH1", "estimate"] == pytest.approx(fit.params["trtH1"])


def test_swine_layout():
    df = simulate_swine(seed=5, n_rooms=2, weeks=(0, 1, 2))
    assert len(df) == 2 * 4 * 3 * 3
    assert list(df.columns) == ["room", "pen", "trt", "pig", "week", "time", "weight"]
    # one pen per treatment in every room, three pigs per pen, each weighed at every time
    pens = df.groupby(["room", "pen"], observed=True)["trt"].nunique()
    assert (pens == 1).all()
    per_room = df.groupby("room", observed=True)["trt"].nunique()
    assert (per_room == 4).all()
    assert (df.groupby("pig", observed=True).size() == 3).all()
    assert (df.groupby(["room", "pen"], observed=True)["pig"].nunique() == 3).all()
    assert list(df["time"].cat.categories) == ["w0", "w1", "w2"]


def test_swine_errors_follow_the_stated_ar1():
    df = simulate_swine(seed=2, n_rooms=200, weeks=(0, 1, 2), sd_room=0, sd_pen=0, sd_pig=0,
                        sd_e=1.0, rho=0.6, intercept=0.0, slope=0.0,
                        treatments={"A": (0, 0), "B": (0, 0)}, decimals=6)
    wide = df.pivot(index="pig", columns="week", values="weight").to_numpy()
    corr = np.corrcoef(wide.T)
    assert corr[0, 1] == pytest.approx(0.6, abs=0.06)
    assert corr[0, 2] == pytest.approx(0.36, abs=0.07)


def test_shipped_swine_data_match_their_script():
    result = subprocess.run([sys.executable, str(REPO / "data" / "make_swine.py"), "--check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    df = gl.datasets.load("swine_weights")
    assert df.shape == (240, 7)
    assert df["weight"].dtype == "float64" and df["week"].dtype == "int64"
    assert list(df["time"].cat.categories) == ["w0", "w2", "w4", "w6", "w8"]


def test_read_takes_a_name_or_a_csv_path(tmp_path):
    shipped = gl.datasets.read("beall_webworms", factors=["trt", "block"])
    file = tmp_path / "copy.csv"
    shipped.to_csv(file, index=False)
    copy = gl.datasets.read(str(file), factors=["trt", "block"])
    assert list(copy["block"].cat.categories) == [f"B{i}" for i in range(1, 14)]
    assert (copy["y"].to_numpy() == shipped["y"].to_numpy()).all()
    with pytest.raises(gl.datasets.DatasetError, match="neither a shipped data set"):
        gl.datasets.read(str(tmp_path / "missing.csv"))
    with pytest.raises(gl.datasets.DatasetError, match="no column"):
        gl.datasets.read("beall_webworms", factors=["plot"])


def test_lesson_data_reads_a_relative_path_from_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                     # lessons run in their own folder
    relative = "data/beall_webworms.csv"
    with pytest.raises(gl.datasets.DatasetError, match="neither a shipped data set"):
        gl.datasets.read(relative)                  # the library knows no repository
    frame = lesson_data.read(relative, factors=["trt", "block"])
    assert list(frame["block"].cat.categories)[:3] == ["B1", "B2", "B3"]
    assert (frame["y"].to_numpy() == gl.datasets.load("beall_webworms")["y"].to_numpy()).all()


def test_figures_draw():
    plt.close("all")     # figures another test in this worker left open are not counted
    df = gl.datasets.load("beall_webworms")
    sw = gl.datasets.load("swine_weights")
    figures.plot_rcbd(df, "y", "trt", "block")
    figures.plot_mean_variance(df, "y", ["block", "trt"], colour_by="trt")
    figures.plot_swine_design(sw)
    figures.plot_profiles(sw, "weight", "week", "pig", "trt")
    figures.plot_correlations({"a": np.eye(3) + 0.5, "b": np.eye(3)})
    t = pd.DataFrame({"estimate": [1.0, 2.0], "lower": [0.5, 1.5], "upper": [1.5, 2.5]},
                     index=["A", "B"])
    figures.plot_estimates({"one": t, "two": t}, truth=pd.Series([1.0, 2.0], index=["A", "B"]))
    assert len(plt.get_fignums()) == 6
    plt.close("all")
