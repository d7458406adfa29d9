#!/usr/bin/env python
"""Coverage of parametric-bootstrap percentile intervals (issue 20, proof).

Run from the repository root (slow: data sets x nsim refits):

    PYTHONPATH=. python benchmarks/calibrate_bootstrap.py --datasets 200 --nsim 200 --workers 2

Data sets are simulated from a known gaussian RCBD with random blocks (4 treatments x
8 blocks, block SD 1, residual SD 1); each is fitted, bootstrapped, and the 95%
percentile intervals of a treatment effect and of the block SD are checked for
covering the true values.  The table gives the coverage and the binomial 99% band of
a nominal 95% rate over that many data sets: a coverage inside the band is calibrated.
(Percentile intervals of an SD estimated by ML from 8 blocks are expected to
under-cover somewhat: ML shrinks the SD and the bootstrap inherits that bias.)
"""
from __future__ import annotations

import argparse

from scipy import stats

import glmm_lib as gl

TRUTH = {"(Intercept)": 5.0, "trtT2": 0.5, "trtT3": 1.0, "trtT4": 1.5}
BLOCK_SD = 1.0
CHECKED = {"trtT2": TRUTH["trtT2"], "sd_(Intercept)|block": BLOCK_SD}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--nsim", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    design = gl.designs.rcbd(treatments=4, blocks=8)
    truth = gl.specify("y ~ trt + (1|block)", data=design, fixed=TRUTH, sd={"block": BLOCK_SD},
                       dispersion=1.0)
    responses = truth.simulate(args.datasets, seed=args.seed)
    covered = {name: 0 for name in CHECKED}
    for k in range(args.datasets):
        fit = gl.glmm("y ~ trt + (1|block)", design.assign(y=responses[:, k]))
        boot = gl.bootstrap(fit, nsim=args.nsim, seed=args.seed + k, workers=args.workers,
                            progress=False)
        table = boot.intervals
        lower, upper = table.columns[4], table.columns[5]
        for name, value in CHECKED.items():
            covered[name] += int(table.loc[name, lower] <= value <= table.loc[name, upper])
    low, high = stats.binom.ppf([0.005, 0.995], args.datasets, 0.95) / args.datasets
    print(f"95% percentile intervals, {args.datasets} data sets x {args.nsim} bootstrap refits")
    print(f"{'parameter':<24} {'coverage':>9}   binomial 99% band of 95%")
    for name in CHECKED:
        print(f"{name:<24} {covered[name] / args.datasets:9.3f}   [{low:.3f}, {high:.3f}]")


if __name__ == "__main__":
    main()
