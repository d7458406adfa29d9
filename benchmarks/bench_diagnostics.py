#!/usr/bin/env python
"""Simulated-residual diagnostics benchmark (issue 6).

Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_diagnostics.py            # print the table
    PYTHONPATH=. python benchmarks/bench_diagnostics.py --write    # and write the
                                                                   # "Diagnostics" section of
                                                                   # benchmarks/RESULTS.md
    PYTHONPATH=. python benchmarks/bench_diagnostics.py --reps 9 --n-sim 1000

The model is the webworm nbinom1 GLMM ``y ~ trt + (1|block)`` (1300 rows, 13
blocks), fitted once (its time is shown but not part of the target).  Each step
is timed --reps times and the median wall-clock and CPU times are reported:
``simulate_residuals`` with 250 simulations (random effects drawn anew, and
conditional), each of the five tests, all of them together, and the two-panel
figure (drawn and saved as PNG into a temporary folder).  Target (issue 6): simulations + all tests < 1 s.

The machine is shared with other sessions: the load average is sampled before
and after the run and printed with the table.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import glmm_lib as gl  # noqa: E402
from glmm_lib import datasets  # noqa: E402
from glmm_lib import diagnostic_plots as dp  # noqa: E402
from glmm_lib import diagnostics as dg  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADING = "## Diagnostics"
TARGET_S = 1.0


def _median_time(fn, reps):
    """Median wall and CPU (process) seconds of ``reps`` calls, and the last result."""
    wall, cpu = [], []
    out = None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return (statistics.median(wall), statistics.median(cpu)), out


def run(reps: int, n_sim: int):
    load_before = os.getloadavg()
    data = datasets.load("beall_webworms")
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm("y ~ trt + (1|block)", data, family="nbinom1")
    fit_s = (time.perf_counter() - t0, time.process_time() - c0)

    rows = [("fit nbinom1 (once, not in the target)", fit_s, "")]
    totals = {}
    for re_mode in ("new", "conditional"):
        sim_s, res = _median_time(lambda: dg.simulate_residuals(fit, n_sim, seed=1, re=re_mode),
                                  reps)
        rows.append((f"simulate_residuals({n_sim}, re={re_mode!r})", sim_s, ""))
        for name, fn in (("uniformity", dg.test_uniformity), ("dispersion", dg.test_dispersion),
                         ("zero_inflation", dg.test_zero_inflation),
                         ("outliers", dg.test_outliers), ("quantiles", dg.test_quantiles)):
            s, result = _median_time(lambda: fn(res), reps)
            rows.append((f"  test_{name}", s, f"p = {result.p_value:.3g}"))
        all_s, _ = _median_time(
            lambda: dg.test_all(dg.simulate_residuals(fit, n_sim, seed=1, re=re_mode)), reps)
        totals[re_mode] = all_s
        rows.append((f"simulations + all tests (re={re_mode!r})", all_s,
                     "target met" if all_s[0] < TARGET_S else f"over {TARGET_S:g} s wall"
                     + (" (CPU under)" if all_s[1] < TARGET_S else "")))
        with tempfile.TemporaryDirectory() as tmp:
            def figure():
                fig = dp.plot_diagnostics(res)
                fig.savefig(Path(tmp) / "fig.png", dpi=90)
                plt.close(fig)
            plot_s, _ = _median_time(figure, max(1, reps // 2))
        rows.append((f"  plot_diagnostics + savefig (re={re_mode!r})", plot_s, ""))
    load_after = os.getloadavg()
    return rows, totals, load_before, load_after


def table(rows):
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'step':<{width}} | wall (s) | CPU (s) | note |",
             f"|{'-' * (width + 2)}|---------:|--------:|------|"]
    for name, (wall, cpu), note in rows:
        lines.append(f"| {name:<{width}} | {wall:8.3f} | {cpu:7.3f} | {note} |")
    return "\n".join(lines)


def section(rows, reps, n_sim, load_before, load_after, date):
    return "\n".join([
        HEADING,
        "",
        f"`benchmarks/bench_diagnostics.py` ({date}; machine: 2 cores, 24 GB, Debian 12, "
        "Python 3.11; shared with other sessions). Webworm nbinom1 GLMM "
        f"`y ~ trt + (1|block)`, 1300 rows; {n_sim} simulations; median of {reps} runs "
        f"per step, wall clock and CPU time of the process. Load average before / after: "
        f"{load_before[0]:.1f} / {load_after[0]:.1f} (on 2 cores: above 2, wall times are "
        f"inflated by other sessions' work; the CPU column is the better guide). "
        f"Target (issue 6): simulations + all tests < {TARGET_S:g} s.",
        "",
        table(rows),
        "",
    ])


def write_section(text):
    """Replace this benchmark's own section of RESULTS.md (or append it), leaving
    every other section as it is; the file is re-read just before writing."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        new = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        new = current.rstrip("\n") + "\n\n" + text
    tmp = RESULTS.with_suffix(".md.diagnostics.tmp")
    tmp.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, RESULTS)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n-sim", type=int, default=250)
    ap.add_argument("--write", action="store_true",
                    help="write the Diagnostics section of benchmarks/RESULTS.md")
    ap.add_argument("--date", default=_dt.date.today().isoformat())
    args = ap.parse_args(argv)
    rows, totals, lb, la = run(args.reps, args.n_sim)
    text = section(rows, args.reps, args.n_sim, lb, la, args.date)
    print(text)
    if args.write:
        write_section(text)
        print(f"wrote the {HEADING!r} section of {RESULTS}")
    return 0 if all(v[0] < TARGET_S for v in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
