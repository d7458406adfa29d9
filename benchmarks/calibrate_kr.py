#!/usr/bin/env python
"""Type I error of the Kenward-Roger F test on a small unbalanced split plot (issue 18, proof).

Run from the repository root (slow: one REML fit and three F tests per data set):

    PYTHONPATH=. python benchmarks/calibrate_kr.py --datasets 1000

Data sets are simulated, with no effect of the whole-plot factor, from a split plot in 3
blocks: 3 whole-plot treatments, 4 subplot treatments, block SD 1, whole-plot SD 1.5,
subplot (residual) SD 1; three subplots are removed (a different one of each of three
whole plots) so that the design is unbalanced.  Each data set is fitted by REML and the
whole-plot factor is tested at 5 % with Kenward-Roger, Satterthwaite and residual
(n - rank X) denominator df.  The table gives the rejection rate of each and the binomial
99 % band of a true 5 % rate over that many data sets: a rate inside the band is
calibrated.  The residual-df test judges the whole-plot factor against the subplot error
and rejects far too often.
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy import stats

import glmm_lib as gl

FORMULA = "y ~ main * sub + (1|block) + (1|wholeplot)"
BLOCKS = 3
MAIN_LEVELS = 3
SUB_LEVELS = 4
SD = {"block": 1.0, "wholeplot": 1.5}
SIGMA = 1.0
#: subplots removed (block, main, sub) to unbalance the design
DROPPED = [("B1", "A1", "S2"), ("B2", "A2", "S3"), ("B3", "A3", "S4")]
METHODS = ("Kenward-Roger", "Satterthwaite", "residual")
ALPHA = 0.05


def design():
    """The unbalanced split plot: the layout of ``gl.designs.split_plot`` less ``DROPPED``."""
    full = gl.designs.split_plot(MAIN_LEVELS, SUB_LEVELS, BLOCKS)
    keys = list(zip(full["block"].astype(str), full["main"].astype(str), full["sub"].astype(str)))
    keep = np.array([key not in DROPPED for key in keys])
    return full[keep].reset_index(drop=True)


def whole_plot_pvalues(datasets: int, seed: int):
    """p-values of the whole-plot F test under the null, one row per data set, one column
    per df method in ``METHODS``."""
    layout = design()
    names = gl.GLMMModel(FORMULA, data=layout.assign(y=0.0)).fixed.names
    truth = gl.specify(FORMULA, layout, fixed={name: 0.0 for name in names}, sd=SD,
                       dispersion=SIGMA, REML=True)
    responses = truth.simulate(datasets, seed=seed)
    pvalues = np.empty((datasets, len(METHODS)))
    with warnings.catch_warnings():
        # a whole-plot or block variance estimated as zero is part of what is calibrated
        warnings.simplefilter("ignore", gl.SingularFitWarning)
        for k in range(datasets):
            fit = gl.glmm(FORMULA, data=layout.assign(y=responses[:, k]), REML=True)
            for j, method in enumerate(METHODS):
                pvalues[k, j] = gl.anova(fit, type=3, ddf=method).loc["main", "Pr(>F)"]
    return pvalues


def binomial_band(datasets: int, rate: float = ALPHA, level: float = 0.99):
    """The central ``level`` band of the rejection rate of a test of true size ``rate``."""
    tail = (1 - level) / 2
    low, high = stats.binom.ppf([tail, 1 - tail], datasets, rate)
    return low / datasets, high / datasets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1997)
    args = parser.parse_args(argv)
    pvalues = whole_plot_pvalues(args.datasets, args.seed)
    low, high = binomial_band(args.datasets)
    print(f"Whole-plot F test at {ALPHA:g} under the null: {args.datasets} simulated data sets "
          f"of a {BLOCKS}-block split plot ({len(design())} subplots)")
    print(f"binomial 99% band of a true {ALPHA:g} rate: [{low:.3f}, {high:.3f}]")
    print(f"{'df method':<15} {'rejection rate':>15} {'in band':>8}")
    for j, method in enumerate(METHODS):
        rate = float(np.mean(pvalues[:, j] < ALPHA))
        print(f"{method:<15} {rate:>15.3f} {'yes' if low <= rate <= high else 'no':>8}")


if __name__ == "__main__":
    main()
