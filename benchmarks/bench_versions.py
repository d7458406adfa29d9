#!/usr/bin/env python
"""Fit times of glmm_lib at two commits, in the same run (a refactor must not slow fits).

    PYTHONPATH=. python benchmarks/bench_versions.py deb1d15          # against HEAD's tree
    PYTHONPATH=. python benchmarks/bench_versions.py deb1d15 --reps 15 --only 'webworms*'

The old commit is checked out into a temporary git worktree (removed at the end); the
current working tree is the new version. Each model is timed in one worker process per
version, the workers taking turns round by round so that a change in the machine's load
falls on both alike; the table gives the minimum and the median over the rounds and the
ratio new/old of the medians (below 1: the new code is faster), and checks that both
versions reach the same log-likelihood.  Every fit builds its model from the data (a
version with ``model_cache`` forgets the model of the fit before), so both time the same work.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name -> (data set, formula, keyword arguments); only what both versions fit the same way
MODELS = {
    "webworms_nbinom1": ("beall_webworms", "y ~ trt + (1|block)", {"family": "nbinom1"}),
    "webworms_poisson": ("beall_webworms", "y ~ trt + (1|block)", {"family": "poisson"}),
    "webworms_nbinom2": ("beall_webworms", "y ~ trt + (1|block)", {"family": "nbinom2"}),
    "crowder_binomial": ("crowder_seeds", "cbind(germ, n - germ) ~ extract * gen + (1|plate)",
                         {"family": "binomial"}),
    "swine_ar1": ("swine_weights", "weight ~ trt * week + ar1(0 + time | pig)",
                  {"family": "gaussian"}),
    "swine_cs_reml": ("swine_weights", "weight ~ trt * week + (1|pig)",
                      {"family": "gaussian", "REML": True}),
}

WORKER = r"""
import json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
import glmm_lib as gl
name, formula, kwargs, reps = sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), int(sys.argv[5])
data = gl.datasets.load(name)
warnings.simplefilter("ignore")
fit = gl.glmm(formula, data, **kwargs)          # warm: imports and caches
try:            # a version that keeps the models of earlier fits builds each one afresh
    from glmm_lib.model_cache import clear as forget_models
except ImportError:
    forget_models = lambda: None
times = []
for _ in range(reps):
    forget_models()
    started = time.perf_counter()
    fit = gl.glmm(formula, data, **kwargs)
    times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "llf": float(fit.llf)}))
"""


def time_fits(tree: Path, model, reps: int) -> dict:
    name, formula, kwargs = model
    out = subprocess.run([sys.executable, "-c", WORKER, str(tree), name, formula,
                          json.dumps(kwargs), str(reps)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tree)})
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the commit to compare with (e.g. deb1d15)")
    parser.add_argument("--reps", type=int, default=9, help="fits per round (default 9)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per version (default 3)")
    parser.add_argument("--only", help="models matching this pattern")
    args = parser.parse_args()
    models = {k: v for k, v in MODELS.items() if not args.only or fnmatch.fnmatch(k, args.only)}
    with tempfile.TemporaryDirectory(prefix="glmm-old-") as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q",
                        str(old_tree), args.old], check=True)
        try:
            rows = []
            print(f"{'model':<20} {'old min':>9} {'new min':>9} {'old med':>9} {'new med':>9} "
                  f"{'new/old':>8}  logLik old / new", flush=True)
            for key, model in models.items():
                samples = {"old": [], "new": []}
                llf = {}
                error = None
                for _ in range(args.rounds):
                    for version, tree in (("old", old_tree), ("new", REPO)):
                        result = time_fits(tree, model, args.reps)
                        if "error" in result:
                            error = f"{version}: {result['error']}"
                            break
                        samples[version] += result["times"]
                        llf[version] = result["llf"]
                    if error:
                        break
                if error:
                    print(f"{key:<20} {error}", flush=True)
                    continue
                old_med, new_med = (statistics.median(samples[v]) for v in ("old", "new"))
                rows.append((key, min(samples["old"]), min(samples["new"]), old_med, new_med))
                print(f"{key:<20} {min(samples['old']) * 1e3:>7.1f}ms {min(samples['new']) * 1e3:>7.1f}ms "
                      f"{old_med * 1e3:>7.1f}ms {new_med * 1e3:>7.1f}ms {new_med / old_med:>8.2f}  "
                      f"{llf['old']:.6f} / {llf['new']:.6f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(old_tree)], check=False)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
