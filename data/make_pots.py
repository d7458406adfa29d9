"""Make ``greenhouse_pots.csv``: a simulated greenhouse trial with subsampling.

The Day 1 lesson on subsampling needs a completely randomized design in which
the treatment is applied to pots and several plants are measured in every pot,
with known variances so that the analyses can be compared with the truth.

Run from the repository root:

    python data/make_pots.py            # rewrites data/greenhouse_pots.csv
    python data/make_pots.py --check    # fails if the file differs from a fresh run

Four fertilizers (F1..F4) are assigned at random to 16 pots, four pots each;
four plants grow in every pot.  The height of plant k in pot j of fertilizer i is

    30 + a_i + pot_ij + e_ijk

with a = 0, 2, 3, 5 cm for F1..F4, pot effects normal with SD 2 cm (the pots
differ in position on the bench, watering, soil) and plant effects normal with
SD 1.5 cm.  Heights are recorded to 0.1 cm.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_swine import write_or_check  # noqa: E402

OUT = Path(__file__).resolve().parent / "greenhouse_pots.csv"

SEED = 20261130
FERTILIZER = {"F1": 0.0, "F2": 2.0, "F3": 3.0, "F4": 5.0}   # cm above F1
POTS_PER_FERTILIZER = 4
PLANTS_PER_POT = 4
SD_POT = 2.0
SD_PLANT = 1.5


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    rows = []
    pot = 0
    for fertilizer, shift in FERTILIZER.items():
        for _ in range(POTS_PER_FERTILIZER):
            pot += 1
            pot_effect = rng.normal(0.0, SD_POT)
            for plant in range(1, PLANTS_PER_POT + 1):
                height = 30 + shift + pot_effect + rng.normal(0.0, SD_PLANT)
                rows.append({"pot": f"pot{pot:02d}", "fertilizer": fertilizer, "plant": plant,
                             "height": round(height, 1)})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    return write_or_check(make(), OUT, "make_pots.py", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
