#!/usr/bin/env python
"""Time of refit-based residual checks: ``simulate_residuals(fit, 250, refit=True)`` on
the webworm NB1 GLMM ``y ~ trt + (1|block)`` (1300 rows), split into the refits
themselves and the conditional simulations that give each refit its residuals.

    PYTHONPATH=. python benchmarks/bench_refit_residuals.py [--nsim 250] [--workers 2]

Wall-clock and CPU time of this process (with --workers, the CPU of the Dask workers is
not counted: compare wall clocks) and the load average, since the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import time

import glmm_lib as gl
from glmm_lib import diagnostics as dg
from glmm_lib.refit import refit


def timed(label, function):
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    print(f"{label:<52} wall {time.perf_counter() - wall:6.1f} s   "
          f"CPU {time.process_time() - cpu:6.1f} s")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nsim", type=int, default=250)
    parser.add_argument("--workers", type=int, default=0, help="also time on n Dask workers")
    args = parser.parse_args(argv)
    fit = gl.glmm("y ~ trt + (1|block)", gl.datasets.load("beall_webworms"), family="nbinom1")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    responses = fit.simulate(args.nsim, seed=1)
    timed(f"{args.nsim} refits alone", lambda: [
        refit(fit.model, responses[:, k], fit.optimizer.end) for k in range(args.nsim)])
    timed(f"{args.nsim} x {args.nsim} conditional simulations", lambda: [
        fit.simulate(args.nsim, seed=k, re="conditional") for k in range(args.nsim)])
    res = timed("simulate_residuals(refit=True), in process",
                lambda: dg.simulate_residuals(fit, args.nsim, seed=1, refit=True))
    if args.workers > 1:
        timed(f"simulate_residuals(refit=True), {args.workers} workers (cluster start "
              "included)", lambda: dg.simulate_residuals(fit, args.nsim, seed=1, refit=True,
                                                         workers=args.workers))
    print(res.tests()[["statistic", "p_value"]].to_string())
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
