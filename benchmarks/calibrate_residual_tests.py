#!/usr/bin/env python
"""Calibration and power of the simulated-residual tests (issue 20, section 1).

Run from the repository root (slow: every data set is checked with n_sim refits):

    PYTHONPATH=. python benchmarks/calibrate_residual_tests.py --correct 60 --over 30 --nsim 250

Data: 30 groups x 10 observations, ``y ~ x + (1|g)``, log link, intercept 1, slope 0.3,
random-intercept SD 0.5.  *Correct*: Poisson responses fitted as Poisson (a test
should reject 5% of them at 0.05).  *Overdispersed*: NB2 responses (theta = 2, Var =
mu + mu^2/2) fitted as Poisson (a test should reject them).  Every data set is checked
three ways: residuals simulated with the random effects drawn anew (the default),
with them at their conditional modes (``re="conditional"``), and refitted
(``refit=True``).  The table gives, for each test and mode, the rejections at 0.05
among the correct fits, with the binomial 99% band of 5%, and among the overdispersed.

``--webworms N`` adds a check of the refit tests on a negative binomial model: N data
sets simulated from the webworm NB1 GLMM ``y ~ trt + (1|block)`` (1300 rows) and fitted
as NB1, refitted ``--webworm-nsim`` times each (rejections of correct models only).
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import glmm_lib as gl
from glmm_lib import diagnostics as dg
from glmm_lib.simulation_runner import local_cluster

GROUPS, PER_GROUP = 30, 10
INTERCEPT, SLOPE, GROUP_SD, THETA = 1.0, 0.3, 0.5, 2.0
TESTS = {"uniformity": dg.test_uniformity, "dispersion": dg.test_dispersion,
         "zero inflation": dg.test_zero_inflation, "outliers": dg.test_outliers}
MODES = {"random effects drawn anew": {"re": "new"},
         "conditional (re='conditional')": {"re": "conditional"},
         "refit (refit=True)": {"refit": True}}


def make_data(kind, i, seed):
    rng = np.random.default_rng([seed, {"correct": 1, "overdispersed": 2}[kind], i])
    g = np.repeat(np.arange(GROUPS), PER_GROUP)
    x = rng.normal(size=g.size)
    mu = np.exp(INTERCEPT + SLOPE * x + rng.normal(0, GROUP_SD, GROUPS)[g])
    if kind == "overdispersed":                     # NB2: a gamma-Poisson mixture
        mu = rng.gamma(THETA, mu / THETA)
    return pd.DataFrame({"y": rng.poisson(mu), "x": x, "g": [f"g{k}" for k in g]})


def check(kind, i, args, scheduler):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # near-singular fits are part of the study
        fit = gl.glmm("y ~ x + (1|g)", make_data(kind, i, args.seed), family="poisson")
        rows = []
        for mode, options in MODES.items():
            res = dg.simulate_residuals(fit, args.nsim, seed=args.seed + 1000 * i, **options,
                                        scheduler=scheduler)
            failed = res.refits.failed if res.refitted else 0
            for test, function in TESTS.items():
                rows.append({"kind": kind, "data set": i, "mode": mode, "test": test,
                             "p": function(res).p_value, "failed refits": failed})
    return rows


def webworm_check(args, scheduler):
    """Rejections of the refit tests on correct NB1 fits of webworm-like data."""
    worms = gl.datasets.load("beall_webworms")
    truth = gl.glmm("y ~ trt + (1|block)", worms, family="nbinom1")
    responses = truth.simulate(args.webworms, seed=args.seed)
    p_values = []
    for k in range(args.webworms):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = gl.glmm("y ~ trt + (1|block)", worms.assign(y=responses[:, k]),
                          family="nbinom1")
            res = dg.simulate_residuals(fit, args.webworm_nsim, seed=args.seed + k,
                                        refit=True, scheduler=scheduler)
        p_values.append({test: function(res).p_value for test, function in TESTS.items()})
    p_values = pd.DataFrame(p_values)
    low, high = (int(v) for v in stats.binom.interval(0.99, args.webworms, 0.05))
    lines = [f"\nRefit tests on {args.webworms} correct NB1 fits of webworm-like data "
             f"({args.webworm_nsim} refits each; band {low}-{high}):",
             "| test | rejects correct models | mean p-value |", "|---|---|---|"]
    for test in TESTS:
        lines.append(f"| {test} | {int((p_values[test] <= 0.05).sum())}/{args.webworms} | "
                     f"{p_values[test].mean():.2f} |")
    return "\n".join(lines)


def table(results, args):
    reject = results.assign(rejected=results["p"] <= 0.05)
    counts = reject.pivot_table(index=["test", "mode"], columns="kind", values="rejected",
                                aggfunc="sum", sort=False)
    low, high = (int(v) for v in stats.binom.interval(0.99, args.correct, 0.05))
    lines = [f"| test | mode | rejects correct models (band {low}-{high} of {args.correct}) "
             f"| detects NB2 theta={THETA:g} fitted as Poisson (of {args.over}) |",
             "|---|---|---|---|"]
    for (test, mode), row in counts.iterrows():
        correct = int(row.get("correct", 0))
        flag = "" if low <= correct <= high else " (outside)"
        over = int(row.get("overdispersed", 0))
        lines.append(f"| {test} | {mode} | {correct}/{args.correct}{flag} | "
                     f"{over}/{args.over} ({100 * over / max(args.over, 1):.0f}%) |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correct", type=int, default=60, help="correct Poisson data sets")
    parser.add_argument("--over", type=int, default=30, help="NB2 data sets fitted as Poisson")
    parser.add_argument("--nsim", type=int, default=250, help="simulations (and refits) each")
    parser.add_argument("--workers", type=int, default=1, help="local Dask workers for refits")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--csv", help="also write every p-value to this CSV file")
    parser.add_argument("--webworms", type=int, default=0,
                        help="also check the refit tests on this many NB1 webworm data sets")
    parser.add_argument("--webworm-nsim", type=int, default=100)
    args = parser.parse_args(argv)
    start, load_before = time.time(), os.getloadavg()[0]
    rows = []
    with local_cluster(args.workers) as scheduler:
        for kind, n in (("correct", args.correct), ("overdispersed", args.over)):
            for i in range(n):
                rows += check(kind, i, args, scheduler)
        webworms = webworm_check(args, scheduler) if args.webworms else ""
    results = pd.DataFrame(rows)
    if results.empty:
        print(webworms)
        return
    if args.csv:
        results.to_csv(args.csv, index=False)
    refit_rows = results[results["mode"].str.startswith("refit")].drop_duplicates(
        ["kind", "data set"])
    print(f"{GROUPS} groups x {PER_GROUP}, {args.correct} correct + {args.over} overdispersed "
          f"data sets, {args.nsim} simulations each; failed refits: "
          f"{int(refit_rows['failed refits'].sum())} of {len(refit_rows) * args.nsim}")
    print(f"wall clock {time.time() - start:.0f} s; load average before/after "
          f"{load_before:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(table(results, args))
    print(webworms)


if __name__ == "__main__":
    main()
