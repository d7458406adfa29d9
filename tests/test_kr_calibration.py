"""Kenward-Roger's small-sample F test keeps its level where the residual-df test does not
(issue 18): a fast version of ``benchmarks/calibrate_kr.py`` (200 simulated data sets
instead of 1000, and a wider band).

Under the null, on a small unbalanced split plot, the whole-plot F test with Kenward-Roger
df rejects at a rate inside the binomial 99.9 % band of 5 %, and the test on the residual df
(which judges the whole-plot factor against the subplot error) rejects above that band.
"""
from __future__ import annotations

import importlib.util

import numpy as np

from conftest import REPO

spec = importlib.util.spec_from_file_location("calibrate_kr", REPO / "benchmarks" / "calibrate_kr.py")
calibrate_kr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibrate_kr)


def test_the_design_is_a_small_unbalanced_split_plot():
    layout = calibrate_kr.design()
    assert len(layout) == 3 * 3 * 4 - 3
    per_wholeplot = layout.groupby("wholeplot", observed=True).size()
    assert sorted(per_wholeplot.unique()) == [3, 4]


def test_kenward_roger_keeps_the_level_and_residual_df_do_not():
    datasets = 200
    pvalues = calibrate_kr.whole_plot_pvalues(datasets, seed=18)
    low, high = calibrate_kr.binomial_band(datasets, level=0.999)
    rates = dict(zip(calibrate_kr.METHODS, np.mean(pvalues < calibrate_kr.ALPHA, axis=0)))
    assert low <= rates["Kenward-Roger"] <= high, rates
    assert rates["residual"] > high, rates
