"""Make ``swine_weights.csv``: a simulated swine growth trial with known parameters.

The Day 3 lesson on repeated measures needs a data set with the structure of
the workshop's picture (rooms as blocks, pens as experimental units, three pigs
per pen, each pig weighed several times). No public data set with that exact
structure is shipped, so this script simulates one, seeded, from the
parameters below (the "truth" a reader can compare the fits with).

Run from the repository root:

    python data/make_swine.py            # rewrites data/swine_weights.csv
    python data/make_swine.py --check    # fails if the file differs from a fresh run

The model (see ``course.lessonkit.simulate_designs.simulate_swine``): weight of pig k
in the pen of treatment i in room r at week t is

    25 + a_i + (6 + b_i) t + room_r + pen_ri + pig_rik + e_rikt

with room, pen and pig effects normal with SDs 1.5, 1.0 and 2.0 kg, and
within-pig errors following an AR(1) process over the weighings (SD 1.2 kg,
correlation 0.6 between successive weighings). The design mirrors the
repeated-measures fixture of ``tests/fixtures/make_data.R`` (same parameters),
scaled down to four rooms and five weighings so that the lesson's fits run in
seconds; the values differ because numpy's generator is not R's.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.lessonkit.simulate_designs import simulate_swine  # noqa: E402

OUT = Path(__file__).resolve().parent / "swine_weights.csv"

#: The parameters of the simulation (the truth the lesson's fits estimate).
TRUTH = dict(
    seed=20261125,
    n_rooms=4,                       # rooms = blocks of the RCBD
    pigs_per_pen=3,                  # observational units per experimental unit
    weeks=(0, 2, 4, 6, 8),           # weighings
    treatments={                     # feed: (shift at week 0 in kg, extra growth in kg/week)
        "T1": (0.0, 0.0),
        "T2": (0.5, 0.3),
        "T3": (0.2, 0.6),
        "T4": (-0.3, 0.2),
    },
    intercept=25.0,                  # kg at week 0 under T1
    slope=6.0,                       # kg/week under T1
    sd_room=1.5,                     # sigma_rooms
    sd_pen=1.0,                      # sigma_pens
    sd_pig=2.0,                      # sigma_pigs
    sd_e=1.2,                        # sigma_e, marginal SD of the AR(1) errors
    rho=0.6,                         # AR(1) correlation of successive weighings
    decimals=1,                      # weights recorded to 0.1 kg
)


def make():
    return simulate_swine(**TRUTH)


def write_or_check(frame, out, script, argv) -> int:
    """Write ``frame`` to ``out`` as CSV, or with ``--check`` in ``argv`` fail (return 1) if
    ``out`` differs from it; ``script`` is the command that rewrites it."""
    text = frame.to_csv(index=False, lineterminator="\n")
    if "--check" in argv:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} differs from a fresh simulation; run python data/{script}")
            return 1
        print(f"{out} matches a fresh simulation")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({text.count(chr(10)) - 1} rows)")
    return 0


def main(argv=None) -> int:
    return write_or_check(make(), OUT, "make_swine.py", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
