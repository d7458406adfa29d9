#!/usr/bin/env python
"""Crossed random effects: glmm_lib against lme4's lmer and glmmTMB in the same run (issue 17).

Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_crossed.py            # every model, R included
    PYTHONPATH=. python benchmarks/bench_crossed.py --no-r     # glmm_lib only
    PYTHONPATH=. python benchmarks/bench_crossed.py --only verbagg
    PYTHONPATH=. python benchmarks/bench_crossed.py --write    # also rewrite the "Crossed
                                                               # random effects" section of
                                                               # benchmarks/RESULTS.md

Models (targets of issue 17):
  insteval_ml, insteval_reml  lme4's InstEval, y ~ service + (1|s) + (1|d) + (1|dept),
                              gaussian, against lmer with its default settings
                              (>= 10x faster, peak memory < 2 GB)
  verbagg                     lme4's VerbAgg, binomial, against glmmTMB (>= 10x)
  binary_1e5                  10^5 binary rows, 2000 subjects x 200 items (each subject
                              answers 50), against glmmTMB (>= 20x)
  binary_1e6                  10^6 rows, 20000 x 2000 (50 each): glmm_lib only, < 30 s, < 4 GB

Each glmm_lib fit runs in its own process (peak RSS is the process's ru_maxrss: Python,
the libraries, the data and the fit); the R fits run in Rscript on the same rows, written
to a temporary CSV.  Times are one fit each, formula to result.  The machine may be shared:
the load average is printed beside the table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_MD = HERE / "RESULTS.md"
SECTION = "## Crossed random effects"
VERBAGG = ROOT / "tests" / "fixtures" / "data" / "verbagg.csv"

INSTEVAL_FORMULA = "y ~ service + (1|s) + (1|d) + (1|dept)"
VERBAGG_FORMULA = "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"
BINARY_FORMULA = "y ~ x + cond + (1|subject) + (1|item)"

# name: (data maker, formula, glmm keyword arguments, R call or None, R package, target ratio)
MODELS = {
    "insteval_ml": ("insteval", INSTEVAL_FORMULA, {"REML": False},
                    "lmer(y ~ service + (1|s) + (1|d) + (1|dept), data = df, REML = FALSE)",
                    "lme4", 10),
    "insteval_reml": ("insteval", INSTEVAL_FORMULA, {"REML": True},
                      "lmer(y ~ service + (1|s) + (1|d) + (1|dept), data = df, REML = TRUE)",
                      "lme4", 10),
    "verbagg": ("verbagg", VERBAGG_FORMULA, {"family": "binomial"},
                "glmmTMB(r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item), data = df, "
                "family = binomial)", "glmmTMB", 10),
    "binary_1e5": ("binary_1e5", BINARY_FORMULA, {"family": "binomial"},
                   "glmmTMB(y ~ x + cond + (1|subject) + (1|item), data = df, family = binomial)",
                   "glmmTMB", 20),
    "binary_1e6": ("binary_1e6", BINARY_FORMULA, {"family": "binomial"}, None, None, None),
}


def crossed_binary(n_subjects, n_items, per_subject, seed):
    """Each subject answers ``per_subject`` distinct items drawn at random; x per row,
    cond an item-level factor; logit P(y) = -0.3 + 0.6 x + 0.4 [cond b] + u_s + v_i with
    SD(u) = 0.8, SD(v) = 0.5."""
    rng = np.random.default_rng(seed)
    items = np.argsort(rng.random((n_subjects, n_items)), axis=1)[:, :per_subject]
    subject = np.repeat(np.arange(n_subjects), per_subject)
    item = items.ravel()
    x = rng.normal(size=subject.size)
    cond = item % 2
    eta = (-0.3 + 0.6 * x + 0.4 * cond + rng.normal(0, 0.8, n_subjects)[subject]
           + rng.normal(0, 0.5, n_items)[item])
    y = (rng.random(subject.size) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({
        "subject": pd.Categorical.from_codes(subject, [f"S{i}" for i in range(n_subjects)]),
        "item": pd.Categorical.from_codes(item, [f"I{i}" for i in range(n_items)]),
        "x": x, "cond": pd.Categorical.from_codes(cond, ["a", "b"]), "y": y})


def load(kind):
    if kind == "insteval":
        from glmm_lib import datasets
        return datasets.load("lme4_insteval")
    if kind == "verbagg":
        df = pd.read_csv(VERBAGG)
        for col in ("id", "item", "Gender", "btype", "situ"):
            df[col] = df[col].astype(str).astype("category")
        return df
    if kind == "binary_1e5":
        return crossed_binary(2000, 200, 50, seed=17)
    return crossed_binary(20000, 2000, 50, seed=17)


def worker(name):
    """One glmm_lib fit in this process; prints a JSON line."""
    import glmm_lib as gl
    kind, formula, kwargs, *_ = MODELS[name]
    df = load(kind)
    start = time.perf_counter()
    fit = gl.glmm(formula, df, **kwargs)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20    # KiB -> GiB
    print(json.dumps({"seconds": seconds, "logLik": fit.llf, "peak_gb": rss, "rows": len(df)}))


R_SCRIPT = """
suppressMessages({library(lme4); library(glmmTMB); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1], stringsAsFactors = TRUE)
for (v in strsplit(args[2], ",")[[1]]) df[[v]] <- factor(df[[v]])
t <- system.time(fit <- %s)[["elapsed"]]
cat("RESULT", toJSON(list(seconds = t, logLik = as.numeric(logLik(fit))), auto_unbox = TRUE,
                     digits = NA), "\\n")
"""


def run_r(name, tmp):
    kind, _, _, call, *_ = MODELS[name]
    df = load(kind)
    csv = Path(tmp) / f"{kind}.csv"
    if not csv.exists():
        df.to_csv(csv, index=False)
    factors = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    script = Path(tmp) / f"{name}.R"
    script.write_text(R_SCRIPT % call)
    out = subprocess.run(["Rscript", str(script), str(csv), ",".join(factors)],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def table(rows):
    lines = ["| model | rows | glmm_lib (s) | R (s) | R package | R / glmm_lib | target "
             "| logLik glmm_lib | logLik R | peak RSS glmm_lib (GB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, py, r in rows:
        *_, package, target = MODELS[name]
        cells = [name, str(py["rows"]), f"{py['seconds']:.2f}",
                 f"{r['seconds']:.2f}" if r else "", package or "",
                 f"{r['seconds'] / py['seconds']:.1f}x" if r else "",
                 f">= {target}x" if target else "< 30 s, < 4 GB",
                 f"{py['logLik']:.4f}", f"{r['logLik']:.4f}" if r else "",
                 f"{py['peak_gb']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--only", nargs="*", default=list(MODELS))
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    rows = []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            out = subprocess.run([sys.executable, __file__, "--worker", name], env=env,
                                 capture_output=True, text=True, check=True).stdout
            py = json.loads(out.strip().splitlines()[-1])
            r = None if args.no_r or MODELS[name][3] is None else run_r(name, tmp)
            rows.append((name, py, r))
            print(name, py, r, flush=True)
    text = table(rows)
    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(text)
    print(f"\nload average at the end: {load_avg}")
    if args.write:
        section = (f"{SECTION}\n\nbenchmarks/bench_crossed.py, {time.strftime('%Y-%m-%d')}, "
                   f"load average at the end {load_avg}.\n\n{text}\n")
        current = RESULTS_MD.read_text(encoding="utf-8")
        if SECTION in current:
            before, rest = current.split(SECTION, 1)
            after = rest[rest.find("\n## "):] if "\n## " in rest else "\n"
            current = before + section + after
        else:
            current = current.rstrip("\n") + "\n\n" + section
        RESULTS_MD.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
