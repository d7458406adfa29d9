#!/usr/bin/env python
"""Model-fitting benchmark: glmm_lib against glmmTMB and gpboost (issues 4, 5, 9).

Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_fit.py            # full run, rewrites the
                                                           # "Model fitting" section of
                                                           # benchmarks/RESULTS.md
    PYTHONPATH=. python benchmarks/bench_fit.py --quick    # no 10^6 rows, no R
    PYTHONPATH=. python benchmarks/bench_fit.py --only poisson_1e5 --no-r
    PYTHONPATH=. python benchmarks/bench_fit.py --only 'sleepstudy*'
    PYTHONPATH=. python benchmarks/bench_fit.py --profile poisson_1e6   # cProfile, top 10
    PYTHONPATH=. python benchmarks/bench_fit.py --list

For every model it prints one row: rows, groups, the time of a glmm_lib fit
(median of --reps runs of ``gl.glmm(...)``, formula to result), of glmmTMB
(``system.time(glmmTMB(...))`` in Rscript on the same rows, written to a temp
CSV with the same factor levels; without R, the ``time_sec`` recorded in
tests/fixtures/glmmtmb_fixtures.json where the model is a fixture) and of gpboost
(``GPModel(...)`` + ``fit``; only for models gpboost can fit exactly: random
intercepts and a family it has), the ratios glmm_lib/glmmTMB and glmm_lib/gpboost
(below 1 = glmm_lib faster), the log-likelihood of each, and the peak memory of
the glmm_lib fit.

The logLik given for gpboost is the Laplace log-likelihood at gpboost's
estimates, evaluated with glmm_lib's Laplace objective (the same approximation
as glmmTMB's), so the three columns compare the optima the packages reach;
gpboost's own ``-get_current_neg_log_likelihood()`` is kept in the --json output.

Each model is run in its own worker process (glmm_lib first, then gpboost), so
peak memory is the model's own: "peak RSS" is the worker's ru_maxrss (Python,
the libraries, the data and the fit), "fit alloc" the tracemalloc peak of one
more fit (allocations made by the fit alone, numpy arrays included).

The machine is shared: the load average is sampled before every model and
written beside the table.  gpboost is a benchmark-only dependency
(benchmarks/requirements.txt).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
import gc
import inspect
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "fixtures" / "glmmtmb_fixtures.json"
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
R_WORKER = HERE / "bench_fit_glmmtmb.R"
RESULTS_MD = HERE / "RESULTS.md"
SECTION = "## Model fitting"

# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _factor(codes, labels):
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(labels))


def sim_counts(n, n_groups, family="poisson", seed=1):
    """y ~ x1 + trt + (1|g): 0.5 + 0.3 x1 + (0, 0.2, -0.3)[trt] + u_g, u_g ~ N(0, 0.5^2);
    poisson, or nbinom1 with phi = 0.8 (Var = mu (1 + phi)). Balanced groups."""
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.arange(n) % n_groups)
    x1 = rng.standard_normal(n)
    trt = rng.integers(0, 3, n)
    u = rng.normal(0.0, 0.5, n_groups)
    mu = np.exp(0.5 + 0.3 * x1 + np.array([0.0, 0.2, -0.3])[trt] + u[g])
    if family == "poisson":
        y = rng.poisson(mu)
    elif family == "nbinom1":
        phi = 0.8
        y = rng.negative_binomial(mu / phi, 1.0 / (1.0 + phi))
    else:
        raise ValueError(family)
    width = len(str(n_groups))
    return pd.DataFrame({"y": y.astype(np.int64), "x1": x1,
                         "trt": _factor(trt, ["A", "B", "C"]),
                         "g": _factor(g, [f"g{i:0{width}d}" for i in range(n_groups)])})


def sim_slope(n, n_groups, seed=2):
    """y ~ x + (x|g), gaussian: intercept 1, slope 0.5, group SDs 1 and 0.5 with
    correlation 0.4, residual SD 1."""
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.arange(n) % n_groups)
    x = rng.standard_normal(n)
    sd = np.array([1.0, 0.5])
    corr = np.array([[1.0, 0.4], [0.4, 1.0]])
    u = rng.multivariate_normal(np.zeros(2), corr * np.outer(sd, sd), size=n_groups)
    y = 1.0 + 0.5 * x + u[g, 0] + u[g, 1] * x + rng.standard_normal(n)
    width = len(str(n_groups))
    return pd.DataFrame({"y": y, "x": x,
                         "g": _factor(g, [f"g{i:0{width}d}" for i in range(n_groups)])})


def sim_ar1(n_pigs, n_times, seed=3):
    """weight ~ week + ar1(0 + time|pig), gaussian: 20 + 5 week + AR(1) pig effect
    (SD 2, rho 0.7) + residual N(0, 0.5^2); time is the factor of week."""
    rng = np.random.default_rng(seed)
    rho, sd = 0.7, 2.0
    e = np.empty((n_pigs, n_times))
    e[:, 0] = rng.normal(0, sd, n_pigs)
    for t in range(1, n_times):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho ** 2) * rng.normal(0, sd, n_pigs)
    week = np.tile(np.arange(n_times), n_pigs)
    pig = np.repeat(np.arange(n_pigs), n_times)
    weight = 20 + 5 * week + e.ravel() + rng.normal(0, 0.5, n_pigs * n_times)
    width = len(str(n_pigs))
    return pd.DataFrame({"weight": weight, "week": week.astype(float),
                         "time": _factor(week, [f"w{t}" for t in range(n_times)]),
                         "pig": _factor(pig, [f"pig{i:0{width}d}" for i in range(n_pigs)])})


def load_fixture_data(name):
    """A fixture CSV with the factor levels of tests/fixtures/data/levels.json (as the R side)."""
    levels = json.loads((FIXTURE_DATA / "levels.json").read_text()).get(name, {})
    df = pd.read_csv(FIXTURE_DATA / f"{name}.csv", dtype={c: str for c in levels})
    for col, lv in levels.items():
        df[col] = pd.Categorical(df[col], categories=lv)
    return df


def load_webworms():
    import glmm_lib.datasets
    return glmm_lib.datasets.load("beall_webworms")


# ---------------------------------------------------------------------------
# the models
# ---------------------------------------------------------------------------


@dataclass
class Spec:
    name: str
    formula: str
    family: str
    load: object                      # () -> DataFrame
    data_name: str                    # the data frame's name in the R call
    link: str | None = None
    kwargs: dict = field(default_factory=dict)   # weights, offset, ziformula, dispformula, REML
    r_call: str | None = None
    big: bool = False                 # skipped by --quick
    fixture: dict | None = None       # the glmmTMB fixture entry, when there is one
    group: str = "main"               # "main" or "fixture"
    note: str = ""

    def call(self):
        if self.r_call:
            return self.r_call
        fam = self.family if self.link is None else f"{self.family}(link = \"{self.link}\")"
        return f"glmmTMB({self.formula}, data = {self.data_name}, family = {fam})"


def _fixture_entries():
    if not FIXTURES.exists():
        return {}
    return json.loads(FIXTURES.read_text()).get("models", {})


def build_specs():
    fx = _fixture_entries()
    specs = [
        Spec("poisson_1e5", "y ~ x1 + trt + (1|g)", "poisson",
             lambda: sim_counts(10 ** 5, 10 ** 3, "poisson", seed=1), "sim_poisson"),
        Spec("poisson_1e6", "y ~ x1 + trt + (1|g)", "poisson",
             lambda: sim_counts(10 ** 6, 10 ** 4, "poisson", seed=1), "sim_poisson", big=True),
        Spec("nbinom1_1e5", "y ~ x1 + trt + (1|g)", "nbinom1",
             lambda: sim_counts(10 ** 5, 10 ** 3, "nbinom1", seed=1), "sim_nbinom1"),
        Spec("webworms_nbinom1", "y ~ trt + (1|block)", "nbinom1", load_webworms, "beall_webworms",
             fixture=fx.get("webworms_nbinom1")),
        Spec("webworms_poisson", "y ~ trt + (1|block)", "poisson", load_webworms, "beall_webworms",
             fixture=fx.get("webworms_poisson")),
        Spec("slope_gaussian_1e5", "y ~ x + (x|g)", "gaussian",
             lambda: sim_slope(10 ** 5, 10 ** 3), "sim_slope"),
        Spec("ar1_gaussian_500x8", "weight ~ week + ar1(0 + time|pig)", "gaussian",
             lambda: sim_ar1(500, 8), "sim_ar1"),
    ]
    taken = {s.name for s in specs}
    for key, entry in fx.items():
        if key in taken or entry.get("status") == "error":
            continue
        data_name = entry["data"].removesuffix(".csv")
        kwargs = {k: entry.get(k) for k in ("weights", "offset", "ziformula", "dispformula")
                  if entry.get(k) is not None}
        if entry.get("REML"):
            kwargs["REML"] = True
        notes = []
        if entry.get("start"):
            notes.append("glmm_lib and gpboost use their own starting values (the R call sets start=)")
        if entry.get("control"):
            notes.append("R control " + entry["control"] + " (glmm_lib: defaults)")
        specs.append(Spec(key, entry["formula"], entry["family"],
                          (lambda d=data_name: load_fixture_data(d)), data_name,
                          link=entry.get("link"), kwargs=kwargs, r_call=entry.get("call"),
                          fixture=entry, group="fixture", note="; ".join(notes)))
    return specs


# ---------------------------------------------------------------------------
# worker (runs in a subprocess: one model, glmm_lib then gpboost)
# ---------------------------------------------------------------------------


def _maxrss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _glmm_kwargs(job, df):
    import glmm_lib as gl
    accepted = set(inspect.signature(gl.glmm).parameters)
    kw = {}
    for key, value in job["kwargs"].items():
        if key not in accepted:
            raise NotImplementedError(f"glmm_lib.glmm has no {key}= argument")
        if key == "offset" and isinstance(value, str) and value not in df.columns:
            env = {c: df[c].to_numpy() for c in df.columns if not isinstance(df[c].dtype, pd.CategoricalDtype)}
            env.update(log=np.log, exp=np.exp, sqrt=np.sqrt)
            value = np.asarray(eval(value, {"__builtins__": {}}, env), float)  # noqa: S307 (R expression from the fixture)
        kw[key] = value
    if job["link"] is not None:
        kw["link"] = job["link"]
    return kw


def _gpboost_setup(model, job):
    """(likelihood, y, X, group_data, weights, offset) for gpboost, or a reason it cannot fit the model."""
    fam = model.family
    name = getattr(fam, "name", "")
    link = getattr(getattr(fam, "link", None), "name", None)
    if job["kwargs"].get("ziformula") or job["kwargs"].get("dispformula") or job["kwargs"].get("REML"):
        return "zero inflation / dispersion model / REML: not the same model in gpboost"
    terms = model.random_effects.terms
    if not terms:
        return "no random effects"
    for t in terms:
        if t.size != 1 or list(t.term_names) != ["(Intercept)"] or t.spec.structure not in ("us", "diag"):
            return "gpboost has random intercepts and uncorrelated random coefficients only"
    y = np.asarray(model.y, float)
    weights = None
    if name == "binomial":
        if link not in ("logit", "probit"):
            return f"no binomial {link} likelihood in gpboost"
        trials = np.asarray(model.trials, float) * np.asarray(model.weights, float)
        if np.all(trials == 1):
            lik = f"bernoulli_{link}"
        else:
            lik, weights = f"binomial_{link}", trials
            y = y / np.asarray(model.trials, float)
    else:
        liks = {"poisson": "poisson", "nbinom1": "negative_binomial_1", "nbinom2": "negative_binomial",
                "gaussian": "gaussian"}
        default_links = {"poisson": "log", "nbinom1": "log", "nbinom2": "log", "gaussian": "identity"}
        if name not in liks or link != default_links[name]:
            return f"family {name}({link}) left out for gpboost"
        if model.weighted:
            return "prior weights"
        lik = liks[name]
    X = np.asarray(model.X, float)
    groups = np.column_stack([t.codes for t in terms])
    offset = np.asarray(model.offset, float)
    return lik, y, X, groups, weights, (offset if np.any(offset != 0) else None)


def _theta_for_sd(structure, sd):
    """Internal theta of a scalar term with standard deviation sd."""
    theta = np.array([np.log(sd)])
    lam = np.asarray(structure.factor(theta))
    if abs(abs(lam[0, 0]) - sd) <= 1e-10 * max(sd, 1e-300):
        return theta
    from scipy.optimize import brentq
    return np.array([brentq(lambda t: abs(structure.factor(np.array([t]))[0, 0]) - sd, -50, 50)])


def _aux_for_sigma(family, name, sigma):
    from scipy.optimize import brentq

    def f(a):
        return np.log(float(np.asarray(family.sigma({name: np.float64(a)})).ravel()[0])) - np.log(sigma)
    with np.errstate(all="ignore"):
        return brentq(f, -30.0, 30.0, xtol=1e-14)


def run_gpboost(job, df, kw, reps):
    import glmm_lib as gl
    out = {}
    try:
        import gpboost as gpb
    except ImportError:
        return {"skip": "gpboost not installed (pip install -r benchmarks/requirements.txt)"}
    out["version"] = gpb.__version__
    model_kw = {k: v for k, v in kw.items() if k in inspect.signature(gl.GLMMModel).parameters}
    model = gl.GLMMModel(job["formula"], df, family=job["family"], **model_kw)
    setup = _gpboost_setup(model, job)
    if isinstance(setup, str):
        return {"skip": setup, "version": gpb.__version__}
    lik, y, X, groups, weights, offset = setup
    out["likelihood"] = lik
    threads = {"num_parallel_threads": job["gpboost_threads"]} if job.get("gpboost_threads") else {}
    out["threads"] = job.get("gpboost_threads") or "default"
    times = []
    gp = None
    try:
        for _ in range(reps):
            gp = None
            gc.collect()
            t0 = time.perf_counter()
            gp = gpb.GPModel(group_data=groups, likelihood=lik, weights=weights, **threads)
            gp.fit(y=y, X=X, offset=offset, params={"trace": False})
            times.append(time.perf_counter() - t0)
    except Exception as err:  # report, do not stop the benchmark
        return {"error": f"{type(err).__name__}: {err}", "version": gpb.__version__}
    out["times"] = times
    coef = np.asarray(gp.get_coef(format_pandas=False), float).ravel()
    cov = np.asarray(gp.get_cov_pars(format_pandas=False), float).ravel()
    aux = np.asarray(gp.get_aux_pars(format_pandas=False), float).ravel() if gp._get_num_aux_pars() else np.zeros(0)
    out["coef"], out["cov_pars"], out["aux_pars"] = coef.tolist(), cov.tolist(), aux.tolist()
    out["own_loglik"] = -float(gp.get_current_neg_log_likelihood())
    # the Laplace log-likelihood at gpboost's estimates, by glmm_lib's objective
    lay = model.layout
    p = np.zeros(lay.size)
    p[lay.beta] = coef
    variances = cov[1:] if lik == "gaussian" else cov
    pieces = [_theta_for_sd(t.structure, np.sqrt(v))
              for t, v in zip(model.random_effects.terms, variances)]
    p[lay.theta] = np.concatenate(pieces)
    # the dispersion: glmm_lib's internal value whose family.sigma() (glmmTMB's sigma():
    # gaussian residual SD, nbinom1 phi, nbinom2 theta) equals gpboost's estimate
    fam = model.family.name
    target = {"gaussian": lambda: np.sqrt(cov[0]), "nbinom1": lambda: aux[0], "nbinom2": lambda: aux[0]}
    if fam in target:
        aux_name = model.family.aux_parameters[0].name
        p[lay.aux(aux_name)] = _aux_for_sigma(model.family, aux_name, float(target[fam]()))
    try:
        out["loglik"] = float(model.objective().value(p))
    except Exception as err:
        out["loglik_error"] = f"{type(err).__name__}: {err}"
    return out


WARMUP_ROWS = 20_000


def worker(job_path, out_path):
    import tracemalloc
    import warnings

    job = json.loads(Path(job_path).read_text())
    import glmm_lib as gl
    df = pd.read_pickle(job["data"])
    res = {"name": job["name"]}
    try:
        kw = _glmm_kwargs(job, df)
    except NotImplementedError as err:
        res["glmm_lib"] = {"skip": str(err)}
        Path(out_path).write_text(json.dumps(res))
        return
    reps = job["reps"]
    times, info, warns = [], {}, []
    # untimed warm-up on (at most) the first 20,000 rows: the first fit in a process pays
    # for lazy imports and caches, which is not what the table measures
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gl.glmm(job["formula"], df.iloc[:WARMUP_ROWS], family=job["family"], **kw)
        except Exception:
            pass
    gc.collect()
    rss_before = _maxrss_mb()
    try:
        for i in range(reps):
            gc.collect()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                fit = gl.glmm(job["formula"], df, family=job["family"], **kw)
                times.append(time.perf_counter() - t0)
            warns += [f"{w.category.__name__}: {w.message}" for w in caught]
            if i == 0:
                info = {"llf": float(fit.llf), "nobs": int(fit.nobs), "converged": bool(fit.converged),
                        "n_evaluations": int(fit.optimizer.n_evaluations),
                        "n_gradients": int(getattr(fit.optimizer, "n_gradients", -1)),
                        "groups": [int(t.n_levels) for t in fit.model.random_effects.terms],
                        "params": [float(v) for v in np.asarray(fit.optimizer.end)]}
            del fit
            print(f"      glmm_lib run {i + 1}/{reps}: {times[-1]:.3f} s", file=sys.stderr, flush=True)
    except Exception as err:
        res["glmm_lib"] = {"error": f"{type(err).__name__}: {err}"}
        Path(out_path).write_text(json.dumps(res))
        return
    rss_after = _maxrss_mb()
    alloc = None
    if job.get("tracemalloc", True):
        gc.collect()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracemalloc.start()
            fit = gl.glmm(job["formula"], df, family=job["family"], **kw)
            alloc = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            del fit
    res["glmm_lib"] = {**info, "times": times, "rss_before_mb": rss_before, "peak_rss_mb": rss_after,
                       "fit_alloc_mb": alloc, "warnings": sorted(set(warns))}
    if job.get("gpboost", True):
        print("      gpboost ...", file=sys.stderr, flush=True)
        gc.collect()
        try:
            res["gpboost"] = run_gpboost(job, df, kw, reps)
        except Exception as err:  # keep the glmm_lib measurements
            res["gpboost"] = {"error": f"{type(err).__name__}: {err}"}
    Path(out_path).write_text(json.dumps(res))


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------


def r_available():
    if not shutil.which("Rscript"):
        return False
    try:
        r = subprocess.run(["Rscript", "-e", "suppressMessages(library(glmmTMB))"],
                           capture_output=True, timeout=120)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_r(jobs, tmp, timeout):
    """Run R jobs in one Rscript; returns ({name: result}, versions)."""
    path = Path(tmp) / f"rjobs_{jobs[0]['name']}.json"
    path.write_text(json.dumps(jobs))
    out, versions = {}, {}
    try:
        proc = subprocess.Popen(["Rscript", str(R_WORKER), str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.time() + timeout
        for line in proc.stdout:
            if line.startswith("RESULT "):
                r = json.loads(line[7:])
                out[r["name"]] = r
                t = r.get("times") or []
                shown = f"{statistics.median(t):.3f} s" if t else f"error: {r.get('error')}"
                print(f"      glmmTMB {r['name']}: {shown} ({len(t)} run{'s' if len(t) != 1 else ''})",
                      flush=True)
            elif line.startswith("VERSIONS "):
                versions = json.loads(line[9:])
            if time.time() > deadline:
                proc.kill()
                break
        proc.wait(timeout=60)
        err = proc.stderr.read()
        if proc.returncode and not out:
            print(f"      Rscript failed: {err.strip()[-500:]}", flush=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"      Rscript failed: {e}", flush=True)
    return out, versions


def r_job(spec, csv, df, reps, max_seconds):
    factors = {c: [str(v) for v in df[c].cat.categories]
               for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
    return {"name": spec.name, "csv": str(csv), "factors": factors, "data_name": spec.data_name,
            "call": spec.call(), "reps": reps, "max_seconds": max_seconds}


def run_worker(spec, pkl, tmp, args, with_gpboost):
    job = {"name": spec.name, "data": str(pkl), "formula": spec.formula, "family": spec.family,
           "link": spec.link, "kwargs": spec.kwargs, "reps": args.reps,
           "tracemalloc": not args.no_tracemalloc, "gpboost": with_gpboost,
           "gpboost_threads": args.gpboost_threads}
    jpath, opath = Path(tmp) / f"job_{spec.name}.json", Path(tmp) / f"out_{spec.name}.json"
    jpath.write_text(json.dumps(job))
    if opath.exists():
        opath.unlink()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(jpath), str(opath)],
                              env=env, timeout=args.timeout, stdout=subprocess.PIPE, stderr=None, text=True)
    except subprocess.TimeoutExpired:
        return {"glmm_lib": {"error": f"worker timed out after {args.timeout} s"}}
    if not opath.exists():
        return {"glmm_lib": {"error": f"worker exited with {proc.returncode}: {proc.stdout[-500:]}"}}
    return json.loads(opath.read_text())


def machine_info():
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 2 ** 20:.0f} GB"
    except (OSError, AttributeError):
        pass
    osname = platform.platform()
    try:
        rel = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        osname = rel.get("PRETTY_NAME", osname).strip('"')
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory": mem, "os": osname, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__}


def _cpu_ticks():
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            out[int(d.name)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
        except (OSError, ValueError, IndexError):
            continue
    return out


def busy_processes(threshold=25.0, interval=1.0):
    """Other processes that used more than threshold % of a core over the next second, as 'comm (pcpu%)'."""
    try:
        hz = os.sysconf("SC_CLK_TCK")
        a = _cpu_ticks()
        time.sleep(interval)
        b = _cpu_ticks()
    except (OSError, ValueError):
        return []
    me = os.getpid()
    busy = []
    for pid, (comm, ppid, ticks) in b.items():
        if pid == me or ppid == me or pid not in a:
            continue
        pcpu = 100.0 * (ticks - a[pid][2]) / hz / interval
        if pcpu >= threshold:
            busy.append((pcpu, f"{comm} ({pcpu:.0f}%)"))
    return [name for _, name in sorted(busy, reverse=True)]


def git_state():
    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    sha = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "glmm_lib")
    return sha + (" + uncommitted changes to glmm_lib" if dirty else "")


def median(x):
    return statistics.median(x) if x else None


DEFAULT_LINKS = {"poisson": "log", "nbinom1": "log", "nbinom2": "log", "binomial": "logit",
                 "gaussian": "identity", "gamma": "inverse", "beta": "logit", "t": "identity"}


def assemble(spec, res, rres, use_r):
    g = res.get("glmm_lib", {})
    gp = res.get("gpboost", {}) or {}
    fam = spec.family
    if spec.link and spec.link != DEFAULT_LINKS.get(spec.family.lower()):
        fam += f"({spec.link})"
    row = {"name": spec.name, "group": spec.group, "family": fam, "formula": spec.formula, "note": spec.note}
    row["rows"] = g.get("nobs")
    row["groups"] = "+".join(str(x) for x in g.get("groups", [])) or ("0" if "nobs" in g else None)
    row["lib_time"] = median(g.get("times", []))
    row["lib_times"] = g.get("times")
    row["lib_ll"] = g.get("llf")
    row["lib_converged"] = g.get("converged")
    row["evals"] = g.get("n_evaluations")
    row["peak_rss_mb"] = g.get("peak_rss_mb")
    row["rss_before_mb"] = g.get("rss_before_mb")
    row["fit_alloc_mb"] = g.get("fit_alloc_mb")
    row["lib_error"] = g.get("error") or g.get("skip")
    row["lib_warnings"] = g.get("warnings", [])
    # glmmTMB
    row["tmb_time"] = row["tmb_ll"] = None
    row["tmb_source"] = None
    if rres and rres.get("times"):
        row["tmb_time"] = median(rres["times"])
        row["tmb_runs"] = len(rres["times"])
        row["tmb_ll"] = rres.get("logLik") if rres.get("logLik") is not None else (
            -rres["objective"] if rres.get("objective") is not None else None)
        row["tmb_source"] = "R"
        row["tmb_warnings"] = rres.get("warnings")
    elif rres and rres.get("error"):
        row["tmb_error"] = rres["error"]
    if row["tmb_time"] is None and spec.fixture and spec.fixture.get("time_sec") is not None:
        row["tmb_time"] = spec.fixture["time_sec"]
        row["tmb_source"] = "fixture"
        row["tmb_runs"] = len(spec.fixture.get("time_runs") or [1])
    if row["tmb_ll"] is None and spec.fixture:
        ll = spec.fixture.get("logLik")
        row["tmb_ll"] = ll if ll is not None else (-spec.fixture["objective"] if spec.fixture.get("objective") is not None else None)
    # gpboost
    row["gpb_time"] = median(gp.get("times", []))
    row["gpb_ll"] = gp.get("loglik")
    row["gpb_own_ll"] = gp.get("own_loglik")
    row["gpb_skip"] = gp.get("skip") or gp.get("error") or gp.get("loglik_error")
    row["gpb_version"] = gp.get("version")
    row["gpb_likelihood"] = gp.get("likelihood")
    row["ratio_tmb"] = row["lib_time"] / row["tmb_time"] if row["lib_time"] and row["tmb_time"] else None
    row["ratio_gpb"] = row["lib_time"] / row["gpb_time"] if row["lib_time"] and row["gpb_time"] else None
    return row


def _f(x, fmt):
    return "—" if x is None else format(x, fmt)


def _time(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


COLUMNS = ["model", "family", "rows", "groups", "load", "glmm_lib s", "glmmTMB s", "gpboost s", "lib/TMB", "lib/gpb",
           "logLik glmm_lib", "logLik glmmTMB", "logLik gpboost", "Δ lib−TMB", "peak RSS MB", "fit alloc MB",
           "evals"]


def row_cells(r):
    tmb = _time(r["tmb_time"]) + ("†" if r["tmb_source"] == "fixture" else "")
    d = r["lib_ll"] - r["tmb_ll"] if r["lib_ll"] is not None and r["tmb_ll"] is not None else None
    conv = "" if r["lib_converged"] in (True, None) else " (not converged)"
    return [r["name"], r["family"], _f(r["rows"], ","), r["groups"] or "—", _f(r.get("load"), ".1f"),
            _time(r["lib_time"]) + conv, tmb,
            _time(r["gpb_time"]), _f(r["ratio_tmb"], ".3f"), _f(r["ratio_gpb"], ".2f"),
            _f(r["lib_ll"], ".3f"), _f(r["tmb_ll"], ".3f"), _f(r["gpb_ll"], ".3f"), _f(d, ".1e"),
            _f(r["peak_rss_mb"], ".0f"), _f(r["fit_alloc_mb"], ".0f"), _f(r["evals"], "d")]


def markdown_table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * len(COLUMNS)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(row_cells(r)) + " |")
    return "\n".join(lines)


def text_table(rows):
    cells = [COLUMNS] + [row_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    out = []
    for k, c in enumerate(cells):
        out.append("  ".join(s.ljust(w) if i < 2 else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def targets(rows):
    """(target, measured, verdict) for the targets of issues 4, 5 and 9."""
    by = {r["name"]: r for r in rows}
    out = []

    def verdict(ok):
        return "—" if ok is None else ("met" if ok else "**missed**")

    def ll_ok(r):
        if r["lib_ll"] is None or r["tmb_ll"] is None:
            return None
        return abs(r["lib_ll"] - r["tmb_ll"]) <= 1e-3

    for name in ("poisson_1e5", "poisson_1e6"):
        r = by.get(name)
        if not r:
            continue
        ok = None if r["ratio_gpb"] is None else r["ratio_gpb"] < 1
        out.append((f"{name}: faster than gpboost in the same run",
                    f"{_time(r['lib_time'])} s vs {_time(r['gpb_time'])} s (ratio {_f(r['ratio_gpb'], '.2f')})",
                    verdict(ok)))
        d = None if ll_ok(r) is None else r["lib_ll"] - r["tmb_ll"]
        out.append((f"{name}: logLik within 1e-3 of glmmTMB", _f(d, ".2e"), verdict(ll_ok(r))))
        if name == "poisson_1e6":
            out.append(("poisson_1e6: under 2 s", f"{_time(r['lib_time'])} s",
                        verdict(None if r["lib_time"] is None else r["lib_time"] < 2)))
            out.append(("poisson_1e6: peak memory under 1.5 GB (worker peak RSS)",
                        f"{_f(r['peak_rss_mb'], '.0f')} MB (fit alone: {_f(r['fit_alloc_mb'], '.0f')} MB)",
                        verdict(None if r["peak_rss_mb"] is None else r["peak_rss_mb"] < 1536)))
    r = by.get("nbinom1_1e5")
    if r:
        out.append(("nbinom1_1e5: under 1 s", f"{_time(r['lib_time'])} s",
                    verdict(None if r["lib_time"] is None else r["lib_time"] < 1)))
    for name in ("webworms_nbinom1", "webworms_poisson"):
        r = by.get(name)
        if r:
            speed = None if r["ratio_tmb"] is None else 1 / r["ratio_tmb"]
            out.append((f"{name}: at least 10x faster than glmmTMB",
                        f"{_time(r['lib_time'])} s vs {_time(r['tmb_time'])} s ({_f(speed, '.1f')}x)",
                        verdict(None if speed is None else speed >= 10)))
    r = by.get("slope_gaussian_1e5")
    if r:
        out.append(("slope_gaussian_1e5 (x|g): under 10 s", f"{_time(r['lib_time'])} s",
                    verdict(None if r["lib_time"] is None else r["lib_time"] < 10)))
    r = by.get("ar1_gaussian_500x8")
    if r:
        out.append(("ar1_gaussian_500x8: under 5 s", f"{_time(r['lib_time'])} s",
                    verdict(None if r["lib_time"] is None else r["lib_time"] < 5)))
    fx = [r for r in rows if r["group"] == "fixture" and r["ratio_tmb"] is not None]
    if fx:
        slow = [r["name"] for r in fx if r["ratio_tmb"] >= 1]
        out.append((f"every fixture model faster than glmmTMB ({len(fx)} timed)",
                    f"{len(fx) - len(slow)} of {len(fx)} faster" + (f"; slower: {', '.join(slow)}" if slow else ""),
                    verdict(not slow)))
    return out


def write_section(path, text):
    """Replace (or append) the '## Model fitting' section of RESULTS.md, re-read just before writing."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == SECTION)
    except StopIteration:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        after = lines[end:]
        new = "\n".join(lines[:start] + text.rstrip("\n").splitlines() + ([""] if after else []) + after) + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


def section_text(rows, meta, tgts):
    main = [r for r in rows if r["group"] == "main"]
    fx = [r for r in rows if r["group"] == "fixture"]
    m = meta["machine"]
    load = meta["load"]
    lines = [SECTION, "",
             f"Measured {meta['date']} with `{meta['command']}` "
             f"(rerun it to refresh this section; `--quick`, `--no-r`, `--only NAME` for partial runs, "
             f"which print but do not rewrite this file unless `--write`).", "",
             f"- Machine: {m['cores']} cores, {m['memory']}, {m['os']}; Python {m['python']}, numpy {m['numpy']}, "
             f"pandas {m['pandas']}.",
             f"- glmm_lib: commit {meta['git']}"
             + (f" at the start, {meta['git_end']} at the end: glmm_lib changed while the benchmark ran (each "
                "model's worker imports it afresh, so later rows measure newer code)" if meta.get("git_end")
                and meta["git_end"] != meta["git"] else "") + ".",
             f"- glmmTMB: {meta['r_versions'].get('glmmTMB', '—')} (TMB {meta['r_versions'].get('TMB', '—')}, "
             f"{meta['r_versions'].get('R', 'R not run')})" + ("" if meta["use_r"] else
                                                               "; R not run: glmmTMB times marked † are the fixture's recorded `time_sec`") + ".",
             f"- gpboost: {meta.get('gpboost_version') or 'not run'} (benchmarks/requirements.txt), "
             + (f"num_parallel_threads={meta['gpboost_threads']}" if meta["gpboost_threads"] else "its default threads")
             + ". glmm_lib runs its fits with BLAS on one thread and glmmTMB uses R's reference BLAS, so all three "
             "run on one core; with gpboost's default of 2 OpenMP threads on this shared machine its threads "
             "spin-wait and a fit took about 10x longer (Poisson 10^5 at load ~18: 11-30 s against 1.8-2.0 s on "
             "one thread; gpboost's OMP_WAIT_POLICY=PASSIVE gave 1.3-2.5 s).",
             f"- Load: **the machine was shared with other busy sessions during the run**; 1-minute load average "
             f"{load['min']:.1f}–{load['max']:.1f} on {m['cores']} cores (sampled before each model); busy processes "
             f"at the start: {', '.join(meta['busy_start']) or 'none'}. Times are therefore noisy and on the slow side.",
             "",
             f"Times are wall-clock seconds, median of {meta['reps']} runs (glmm_lib: `gl.glmm(...)` from formula to "
             "result; glmmTMB: `system.time(glmmTMB(...))` in Rscript on the same rows and factor levels, written to a "
             "temp CSV, single runs where one took over "
             f"{meta['r_max_seconds']:.0f} s; gpboost: `GPModel(...)` + `fit()` on glmm_lib's design matrix). "
             "lib/TMB and lib/gpb are time ratios (below 1: glmm_lib faster). logLik gpboost is the Laplace "
             "log-likelihood at gpboost's estimates, computed with glmm_lib's objective (the approximation "
             "glmmTMB uses); Δ lib−TMB is glmm_lib's logLik minus glmmTMB's. Peak RSS is the high-water mark of "
             "the worker process that ran the glmm_lib fits (interpreter, libraries and data included); fit alloc is "
             "the tracemalloc peak of one more fit. evals: Laplace evaluations (inner modes) in one fit. load: 1-minute load average just before the "
             "model's glmm_lib runs (2 cores: above 2 means other processes were competing for them). "
             "— : not applicable or not run (gpboost only fits random intercepts with the families it has).",
             "", "### Target models", "", markdown_table(main), ""]
    if fx:
        lines += ["### glmmTMB fixture models (tests/fixtures/glmmtmb_fixtures.json)", "", markdown_table(fx), ""]
    if any(r["tmb_source"] == "fixture" for r in rows):
        lines += ["† glmmTMB time recorded in the fixture (median of 3 on this machine type), R not run here.", ""]
    lines += ["### Against the targets (issues 4, 5, 9)", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in tgts]
    notes = []
    for r in rows:
        if r["lib_error"]:
            notes.append(f"- {r['name']}: not fitted by glmm_lib: {r['lib_error']}")
        if r.get("tmb_error"):
            notes.append(f"- {r['name']}: glmmTMB error: {r['tmb_error']}")
        if r["lib_converged"] is False:
            notes.append(f"- {r['name']}: glmm_lib reports no convergence: "
                         + "; ".join(w for w in r["lib_warnings"] if "onverge" in w)[:300])
        if r["lib_ll"] is not None and r["tmb_ll"] is not None and abs(r["lib_ll"] - r["tmb_ll"]) > 1e-3:
            better = "higher" if r["lib_ll"] > r["tmb_ll"] else "lower"
            tw = "; ".join(r.get("tmb_warnings") or [])
            notes.append(f"- {r['name']}: glmm_lib's logLik is {abs(r['lib_ll'] - r['tmb_ll']):.3g} {better} than "
                         f"glmmTMB's" + (f" (glmmTMB warned: {tw[:200]})" if tw else ""))
        if r["note"]:
            notes.append(f"- {r['name']}: {r['note']}")
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines) + "\n"


def profile(spec, n_top=10):
    import cProfile
    import pstats
    import warnings

    import glmm_lib as gl
    df = spec.load()
    job = {"kwargs": spec.kwargs, "link": spec.link}
    kw = _glmm_kwargs(job, df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gl.glmm(spec.formula, df, family=spec.family, **kw)   # warm-up (imports, caches)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        fit = gl.glmm(spec.formula, df, family=spec.family, **kw)
        prof.disable()
        elapsed = time.perf_counter() - t0
    print(f"cProfile of one glmm_lib fit of {spec.name} ({len(df):,} rows): {elapsed:.2f} s under the profiler, "
          f"{fit.optimizer.n_evaluations} evaluations, logLik {fit.llf:.4f}")
    for key in ("tottime", "cumulative"):
        print(f"\n--- top {n_top} by {key} ---")
        pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats(key).print_stats(n_top)


def _shown_args(argv):
    """The command line as recorded in RESULTS.md: without --json PATH (a local file)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--json":
            skip = True
        elif not a.startswith("--json="):
            out.append(a)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 10^6-row model and R")
    ap.add_argument("--no-r", action="store_true", help="do not run glmmTMB (use fixture times where recorded)")
    ap.add_argument("--no-gpboost", action="store_true", help="do not run gpboost")
    ap.add_argument("--gpboost-threads", type=int, default=1,
                    help="gpboost's num_parallel_threads (default 1, as glmm_lib and glmmTMB here; "
                         "0 = gpboost's default, all cores: its OpenMP threads spin-wait and run ~10x "
                         "slower when the machine is shared)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="run only these models (name or glob; repeat or comma-separate)")
    ap.add_argument("--list", action="store_true", help="list the model names and exit")
    ap.add_argument("--reps", type=int, default=3, help="runs per model (median reported; default 3)")
    ap.add_argument("--r-max-seconds", type=float, default=300.0,
                    help="glmmTMB: stop repeating after a run longer than this (default 300)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per-model worker timeout, seconds")
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the extra tracemalloc fit")
    ap.add_argument("--write", action="store_true", help="rewrite the RESULTS.md section even for a partial run")
    ap.add_argument("--no-write", action="store_true", help="never touch RESULTS.md")
    ap.add_argument("--results", type=Path, default=RESULTS_MD, help="results file (default benchmarks/RESULTS.md)")
    ap.add_argument("--json", type=Path, help="also write every measurement as JSON here")
    ap.add_argument("--profile", metavar="NAME", help="cProfile one glmm_lib fit of NAME (top 10) and exit")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        worker(*args.worker)
        return 0

    specs = build_specs()
    if args.list:
        for s in specs:
            print(f"{s.name:28s} {s.family:9s} {s.formula}")
        return 0
    if args.profile:
        match = [s for s in specs if s.name == args.profile]
        if not match:
            ap.error(f"no model {args.profile!r} (see --list)")
        profile(match[0])
        return 0

    partial = bool(args.quick or args.only or args.no_r or args.no_gpboost or args.reps != 3
                   or args.gpboost_threads != 1)
    if args.only:
        pats = [p for o in args.only for p in o.split(",") if p]
        specs = [s for s in specs if any(fnmatch.fnmatch(s.name, p) for p in pats)]
        if not specs:
            ap.error("--only matched no model (see --list)")
    if args.quick:
        specs = [s for s in specs if not s.big]
    use_r = not (args.quick or args.no_r)
    if use_r and not r_available():
        print("Rscript with glmmTMB not found: glmmTMB times from the fixture where recorded", flush=True)
        use_r = False
    if not FIXTURES.exists():
        print(f"note: {FIXTURES.relative_to(ROOT)} not found: no fixture models, no recorded glmmTMB times", flush=True)

    meta = {"date": _dt.date.today().isoformat(), "machine": machine_info(), "git": git_state(),
            "command": " ".join(["python benchmarks/bench_fit.py"] + _shown_args(sys.argv[1:] if argv is None else argv)),
            "use_r": use_r, "reps": args.reps, "gpboost_threads": args.gpboost_threads, "r_max_seconds": args.r_max_seconds, "r_versions": {},
            "busy_start": busy_processes()}
    loads = []
    print(f"{len(specs)} models; R {'on' if use_r else 'off'}; gpboost {'off' if args.no_gpboost else 'on'}; "
          f"load average {os.getloadavg()[0]:.1f}; busy: {', '.join(meta['busy_start']) or 'none'}", flush=True)
    rows, raw = [], {}
    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="bench_fit_") as tmp:
        r_batch = {}
        fixture_specs = [s for s in specs if s.group == "fixture"]
        if use_r and fixture_specs:
            # the small fixture models share one Rscript (R and glmmTMB start once)
            print(f"glmmTMB for {len(fixture_specs)} fixture models in one Rscript ...", flush=True)
            jobs = []
            for spec in fixture_specs:
                df = spec.load()
                csv = Path(tmp) / f"{spec.name}.csv"
                df.to_csv(csv, index=False)
                jobs.append(r_job(spec, csv, df, args.reps, args.r_max_seconds))
            loads.append(os.getloadavg()[0])
            r_batch, versions = run_r(jobs, tmp, args.timeout * 4)
            meta["r_versions"] = versions or meta["r_versions"]
        for i, spec in enumerate(specs, 1):
            loads.append(os.getloadavg()[0])
            print(f"[{i}/{len(specs)}] {spec.name}: {spec.formula} ({spec.family})  "
                  f"[load {loads[-1]:.1f}, {time.time() - t_start:.0f} s elapsed]", flush=True)
            try:
                df = spec.load()
            except Exception as err:
                print(f"      cannot load data: {err}", flush=True)
                continue
            pkl = Path(tmp) / f"{spec.name}.pkl"
            df.to_pickle(pkl)
            res = run_worker(spec, pkl, tmp, args, with_gpboost=not args.no_gpboost)
            g = res.get("glmm_lib", {})
            if g.get("times"):
                print(f"      glmm_lib {median(g['times']):.3f} s, logLik {g['llf']:.4f}, "
                      f"{g['n_evaluations']} evaluations, peak RSS {g['peak_rss_mb']:.0f} MB", flush=True)
            else:
                print(f"      glmm_lib: {g.get('error') or g.get('skip')}", flush=True)
            gp = res.get("gpboost") or {}
            if gp.get("times"):
                meta["gpboost_version"] = gp.get("version")
                print(f"      gpboost {median(gp['times']):.3f} s ({gp['likelihood']}), "
                      f"Laplace logLik at its estimates {gp.get('loglik', float('nan')):.4f}", flush=True)
            elif gp:
                print(f"      gpboost: {gp.get('skip') or gp.get('error')}", flush=True)
            rres = r_batch.get(spec.name)
            if use_r and spec.group != "fixture":
                csv = Path(tmp) / f"{spec.name}.csv"
                df.to_csv(csv, index=False)
                print("      glmmTMB (Rscript) ...", flush=True)
                out, versions = run_r([r_job(spec, csv, df, args.reps, args.r_max_seconds)], tmp, args.timeout)
                meta["r_versions"] = versions or meta["r_versions"]
                rres = out.get(spec.name)
                csv.unlink(missing_ok=True)
            pkl.unlink(missing_ok=True)
            del df
            row = assemble(spec, res, rres, use_r)
            row["load"] = loads[-1]
            rows.append(row)
            raw[spec.name] = {"worker": res, "glmmTMB": rres}
            print(f"      => lib/TMB {_f(row['ratio_tmb'], '.3f')}, lib/gpb {_f(row['ratio_gpb'], '.2f')}", flush=True)
    loads.append(os.getloadavg()[0])
    meta["load"] = {"min": min(loads), "max": max(loads)}
    meta["busy_end"] = busy_processes()
    meta["git_end"] = git_state()
    if not meta["r_versions"] and FIXTURES.exists():
        v = json.loads(FIXTURES.read_text()).get("meta", {}).get("versions", {})
        meta["r_versions"] = {k: v[k] for k in ("R", "glmmTMB", "TMB") if k in v}

    print()
    print(text_table([r for r in rows if r["group"] == "main"]))
    fx = [r for r in rows if r["group"] == "fixture"]
    if fx:
        print()
        print(text_table(fx))
    tgts = targets(rows)
    print("\nTargets:")
    for a, b, c in tgts:
        print(f"  {c.replace('*', ''):7s} {a}: {b}")
    print(f"\nload average {meta['load']['min']:.1f}-{meta['load']['max']:.1f}; "
          f"busy at the end: {', '.join(meta['busy_end']) or 'none'}; total {time.time() - t_start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows, "raw": raw}, indent=1, default=str))
    if (not partial or args.write) and not args.no_write:
        write_section(args.results, section_text(rows, meta, tgts))
        print(f"wrote the '{SECTION[3:]}' section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
