#!/usr/bin/env python
"""Linear mixed models: glmm_lib's profiled objective against mixedlm-rs, statsmodels and lme4
(issue 21), in one run, printed as one table.

    PYTHONPATH=. python benchmarks/bench_lmm.py            # everything, lmer through Rscript
    PYTHONPATH=. python benchmarks/bench_lmm.py --no-r     # without R
    PYTHONPATH=. python benchmarks/bench_lmm.py --rows 200000 --groups 2000

Models (ML): sleepstudy ``Reaction ~ Days + (Days|Subject)`` (data/belenky_sleepstudy.csv),
and simulated ``y ~ x + (x|g)`` with --rows rows and --groups groups.  Times are wall clock:
the best of --reps runs for the small model (warm: the first run is not counted; a second
glmm_lib row builds the model afresh each time instead of reusing it, ``model_cache``), one
run for the large one; for glmm_lib ``gl.glmm(...)``, formula to results.  The last rows time
1000 parametric-bootstrap refits of the oats split plot (``ProfiledGaussianObjective.refit``).
mixedlm-rs is a benchmark-only dependency (benchmarks/requirements.txt).  The machine may be
shared: the load average is printed with the table.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import glmm_lib as gl
from glmm_lib import model_cache

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def simulate(rows, groups, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, rows)
    x = rng.normal(size=rows)
    y = 1 + 0.5 * x + rng.normal(0, 1.0, groups)[g] + rng.normal(0, 0.5, groups)[g] * x \
        + rng.normal(0, 1.0, rows)
    return pd.DataFrame({"y": y, "x": x,
                         "g": pd.Categorical.from_codes(g, [f"g{i}" for i in range(groups)])})


def glmm_lib_fit(formula, data):
    fit = gl.glmm(formula, data)
    return fit.llf


def mixedlm_rs_fit(fixed, group, re_formula, data):
    import mixedlm_rs
    return mixedlm_rs.mixedlm(fixed, data, groups=group, re_formula=re_formula).fit(reml=False).llf


def statsmodels_fit(fixed, group, re_formula, data):
    import statsmodels.formula.api as smf
    return smf.mixedlm(fixed, data, groups=data[group], re_formula=re_formula).fit(reml=False).llf


R_SCRIPT = """
suppressMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1]); d$g <- factor(d$g)
t <- system.time(f <- lmer(y ~ x + (x | g), d, REML = FALSE))[["elapsed"]]
cat(t, format(as.numeric(logLik(f)), digits = 15), "\\n")
"""


def lmer_fit(data):
    if shutil.which("Rscript") is None:
        return None, None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "fit.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True)
    if out.returncode:
        return None, None
    seconds, loglik = out.stdout.split()
    return float(seconds), float(loglik)


def bootstrap_refits(n_refits):
    oats = gl.datasets.load("yates_oats")
    fit = gl.glmm("yield ~ nitro * Variety + (1 | Block/Variety)", oats)
    objective = fit.model.objective()
    Y = np.asarray(fit.simulate(nsim=n_refits, seed=1)).reshape(fit.model.nobs, n_refits)
    start = time.perf_counter()
    _, logliks = objective.refit(Y)
    return time.perf_counter() - start, logliks


def row(name, seconds, loglik, reference=None):
    if seconds is None:
        return f"| {name} | — | — | — |"
    ratio = "" if reference is None else f"{seconds / reference:.1f}x"
    return f"| {name} | {seconds:.4f} s | {ratio} | {loglik:.6f} |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10**6)
    ap.add_argument("--groups", type=int, default=10**4)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--refits", type=int, default=1000)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()
    lines = ["| model / package | time | time / glmm_lib | logLik |", "|---|---|---|---|"]

    sleep = pd.read_csv(ROOT / "data" / "belenky_sleepstudy.csv")
    sleep["Subject"] = sleep["Subject"].astype(str).astype("category")
    ours, ll = best_of(lambda: glmm_lib_fit("Reaction ~ Days + (Days|Subject)", sleep), args.reps)
    lines.append(row("sleepstudy (Days|Subject) ML: glmm_lib", ours, ll))

    def built_each_time():
        model_cache.clear()
        return glmm_lib_fit("Reaction ~ Days + (Days|Subject)", sleep)

    t, llx = best_of(built_each_time, args.reps)
    lines.append(row("sleepstudy: glmm_lib, the model built each time", t, llx, ours))
    for name, fn in [("mixedlm-rs 0.2.0", mixedlm_rs_fit), ("statsmodels MixedLM", statsmodels_fit)]:
        t, llx = best_of(lambda: fn("Reaction ~ Days", "Subject", "~Days", sleep), args.reps)
        lines.append(row(f"sleepstudy: {name}", t, llx, ours))

    big = simulate(args.rows, args.groups)
    start = time.perf_counter()
    ll = glmm_lib_fit("y ~ x + (x|g)", big)
    ours = time.perf_counter() - start
    lines.append(row(f"{args.rows} rows x {args.groups} groups (x|g) ML: glmm_lib", ours, ll))
    start = time.perf_counter()
    llx = mixedlm_rs_fit("y ~ x", "g", "~x", big)
    lines.append(row("large: mixedlm-rs 0.2.0", time.perf_counter() - start, llx, ours))
    if not args.no_r:
        t, llx = lmer_fit(big)
        lines.append(row("large: lme4 lmer (system.time)", t, llx, ours))

    seconds, logliks = bootstrap_refits(args.refits)
    lines.append(f"| oats split plot: {args.refits} bootstrap refits, glmm_lib | {seconds:.3f} s "
                 f"| | mean {np.mean(logliks):.3f} |")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
          f"python {sys.version.split()[0]}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
