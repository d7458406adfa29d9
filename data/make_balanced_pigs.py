"""Make ``balanced_pigs.csv``: a small, balanced, simulated repeated-measures trial whose
fits sit on the boundary of the parameter space (the oracle of glmm_lib's boundary fits,
``tests/fixtures/make_boundary_fixtures.R``).

Run from the repository root:

    python data/make_balanced_pigs.py            # rewrites data/balanced_pigs.csv
    python data/make_balanced_pigs.py --check    # fails if the file differs from a fresh run

24 pigs, 8 on each of 3 feeds (A, B, C: pig k is on feed k mod 3), two pigs to a pen (12
pens, each on one feed), weighed at weeks 0, 2, 4 and 6.  The weight of pig k at week t is

    20 + a_feed + 2 t + s_t (o_k + e_kt)

with a = 0, 1, 2 kg for A, B, C, pig offsets o_k ~ N(0, 2^2), errors e_kt ~ N(0, 1) and a
spread s_t = 1, 1.5, 2, 2.5 at weeks 0, 2, 4, 6: within a pig the weighings have a
heterogeneous compound-symmetry covariance and nothing else.  Pigs do not differ in growth rate (a
random slope's SD is zero), pens add nothing (their SD is zero), and a model giving each
weighing its own pig variance (cs(time + 0 | pig)) leaves no residual variance.  Weights are recorded to 0.1 kg.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_swine import write_or_check  # noqa: E402

OUT = Path(__file__).resolve().parent / "balanced_pigs.csv"

SEED = 20261208
WEEKS = (0, 2, 4, 6)
FEED_SHIFT = {"A": 0.0, "B": 1.0, "C": 2.0}
SPREAD = (1.0, 1.5, 2.0, 2.5)            # the SD of the pig effects grows with the week


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    n_pigs = 24
    offset = rng.normal(0.0, 2.0, n_pigs)
    rows = []
    for k in range(n_pigs):
        feed = "ABC"[k % 3]
        for week, sd in zip(WEEKS, SPREAD):
            weight = 20 + FEED_SHIFT[feed] + 2 * week + sd * (offset[k] + rng.normal())
            rows.append({"pig": f"pig{k + 1:02d}", "pen": f"pen{k // 2 + 1:02d}", "feed": feed,
                         "week": week, "time": f"w{week}", "weight": round(weight, 1)})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    return write_or_check(make(), OUT, "make_balanced_pigs.py",
                          sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
