"""``python -m course report``: one report, many on Dask, and every kind of bad input.

The expensive runs are module-scoped and made once:

- ``webworms``: the command line on the shipped webworms data (nbinom1, as the
  lesson), with its PDF; the lesson's numbers must come out, and its page
  passes the browser test (math typeset, images loaded, no outside request);
- ``batch``: a YAML jobs file of 5 jobs (simulated data with odd column names
  in Parquet, Excel input, a model that does not converge, two bad jobs) on a
  local Dask cluster with 2 workers, then run again (complete reports skipped).

Bad input that is caught before anything runs is tested in-process (fast).
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, run_course

import glmm_lib as gl
from course import report as rp
from course.report import batch as report_batch
from course.errors import CourseError
from course.report.folder import MADE_BY
from course.report.inputs import means_variables, parse_means, prepare_data
from course.report.reading import read_data
from course.report.prose import reading_of_tests
from course.lessonkit.equations import model_equations, tex_text

WEBWORMS = REPO / "data" / "beall_webworms.csv"
CROWDER = REPO / "data" / "crowder_seeds.csv"


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdfpages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


def leftovers(folder: Path) -> list[str]:
    """Hidden partial/old folders a report run may leave (it must not)."""
    return sorted(p.name for p in folder.glob(".*") if ".partial-" in p.name or ".old-" in p.name)


# --- data sets the tests make -----------------------------------------------------------
def simulated_proportions(seed=7) -> pd.DataFrame:
    """Larvae killed out of those treated: 3 sprays x 8 blocks x 3 plots, extra-binomial noise,
    column names with spaces, and 3 rows with a missing count."""
    rng = np.random.default_rng(seed)
    sprays, blocks = ["control", "low dose", "high dose"], [f"F{i}" for i in range(1, 9)]
    rows = [(s, b) for s in sprays for b in blocks for _ in range(3)]
    df = pd.DataFrame(rows, columns=["spray type", "field block"])
    effect = df["spray type"].map({"control": -1.0, "low dose": 0.0, "high dose": 1.0})
    block = dict(zip(blocks, rng.normal(0, 0.4, len(blocks))))
    eta = effect + df["field block"].map(block) + rng.normal(0, 0.5, len(df))
    df["n larvae"] = rng.integers(15, 30, len(df))
    df["dead larvae"] = rng.binomial(df["n larvae"], 1 / (1 + np.exp(-eta))).astype(float)
    df.loc[[4, 30, 50], "dead larvae"] = np.nan
    return df


SIM_FORMULA = "cbind(`dead larvae`, `n larvae` - `dead larvae`) ~ `spray type` + (1|`field block`)"


def overparameterized_counts(seed=3) -> pd.DataFrame:
    """Counts from 2 fields: a random slope and its correlation per field are estimated at
    their limits (a singular fit); Poisson counts with zero inflation do not converge (the
    zero-inflation probability runs off to 0)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"trt": np.repeat(["A", "B", "C"], 10), "field": np.tile(["f1", "f2"], 15),
                       "x": rng.normal(size=30)})
    df["y"] = rng.poisson(2, 30)
    return df


SINGULAR_FORMULA = "y ~ trt + (1 + x|field)"
NONCONVERGED = {"formula": "y ~ trt + (1|field)", "family": "poisson", "ziformula": "~1"}


def made_once(tmp_path_factory, worker_id, name: str, make) -> tuple[Path, dict]:
    """Run ``make(folder)`` once per test session, even under pytest-xdist (the first
    worker makes it under a file lock, the others reuse it); returns the folder and
    what ``make`` returned (a JSON-able dict)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    folder, record = shared / name, shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir(exist_ok=True)
            record.write_text(json.dumps(make(folder)))
    return folder, json.loads(record.read_text())


def _proc(proc: subprocess.CompletedProcess) -> dict:
    return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


# --- one report from the command line: the webworms lesson -------------------------------
@pytest.fixture(scope="module")
def webworms(tmp_path_factory, worker_id):
    def make(folder):
        return _proc(run_course(
            "report", str(WEBWORMS), "--formula", "y ~ trt + (1|block)", "--family", "nbinom1",
            "--means", "trt", "--title", "Beall's webworms", "--out", str(folder / "webworms"),
            "--quiet"))

    folder, proc = made_once(tmp_path_factory, worker_id, "report-webworms", make)
    assert proc["returncode"] == 0, proc["stdout"] + proc["stderr"]
    return folder / "webworms", proc


def test_webworms_files(webworms):
    out, proc = webworms
    for name in ("index.html", "report.pdf", "report.ipynb", "report.json",
                 "mathjax/tex-chtml.js"):
        assert (out / name).is_file(), name
    assert "index.html" in proc["stdout"] and "report.pdf" in proc["stdout"]
    assert not leftovers(out.parent)
    record = json.loads((out / "report.json").read_text())
    assert record["complete"] and record["status"] == "ok"


def test_webworms_reproduces_the_lesson(webworms):
    """The handout's numbers: AIC 3012.4, logLik -1500.2, block variance 0.1034, phi 0.308."""
    out, _ = webworms
    summary = json.loads((out / "report.json").read_text())["summary"]
    assert round(summary["aic"], 1) == 3012.4
    assert round(summary["loglik"], 1) == -1500.2
    assert round(summary["bic"], 1) == 3043.4
    assert summary["n_used"] == 1300 and summary["n_dropped"] == 0
    lesson = {"(Intercept)": (0.27106, 0.10482), "trtT2": (-0.97814, 0.10155),
              "trtT3": (-0.47650, 0.08642), "trtT4": (-1.20051, 0.11028)}
    for name, (estimate, se) in lesson.items():
        got = summary["coefficients"][name]
        assert got == pytest.approx([estimate, se], abs=6e-5), name
    assert summary["dispersion"] == pytest.approx(0.308, abs=5e-4)
    assert summary["variances"]["block|(Intercept)"] == pytest.approx(0.1034, abs=5e-5)
    page = (out / "index.html").read_text(encoding="utf-8")
    for text in ("3012.4", "3043.4", "-1500.2", "0.1034", "0.3216", "0.2711", "-0.9781",
                 "-0.4765", "-1.2005", "0.308"):
        assert text in page, text
    comparison = summary["comparison"]
    assert comparison["kind"] == "families"
    assert set(comparison["aic"]) == {"poisson", "nbinom1 (this report)", "nbinom2"}
    assert round(comparison["aic"]["poisson"], 1) == 3048.0
    # the winner is named: NB2 has the smallest AIC on these data
    assert comparison["winner"] == "nbinom2"
    assert "AIC prefers <strong>nbinom2</strong>" in page


def test_webworms_report_sections(webworms):
    out, _ = webworms
    page = (out / "index.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == ["The data", "The model", "The fit", "Checking the fit: simulated residuals",
                        "Comparing with the alternatives", "Marginal means and comparisons",
                        "How this report was made"]
    assert "Read <strong>1300</strong> rows" in page and "none dropped" in page
    assert r"\mathrm{NB1}" in page and r"\log(\mu_{ijk})" in page
    assert "could not be computed" not in page
    assert "did not converge" not in page
    assert page.count("<img ") >= 3                      # response, residuals, means
    assert "uniformity" in page and "dispersion" in page
    assert "T1 / T2" in page                             # pairwise ratios
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched from outside


def test_webworms_pdf(webworms):
    out, _ = webworms
    pdf = out / "report.pdf"
    assert pdfpages(pdf) >= 3
    text = pdftext(pdf)
    assert "Beall's webworms" in text
    assert "Checking the fit" in text and "Marginal means" in text
    assert "3012.4" in text
    # the first page is not left mostly blank: the data section starts on it
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "The data" in first and "Read 1300 rows" in first, first


def skip_if_library_changed(record_file: Path):
    """Others may edit glmm_lib while the tests run; a changed library rightly means a rerun."""
    from course.execute import library_fingerprint
    from course.project import Project

    assert json.loads(record_file.read_text())["library"] == library_fingerprint(Project()), \
        "glmm_lib changed during the test session, so the reports are rightly made again"


def test_rerun_skips_a_complete_report(webworms, tmp_path):
    out, _ = webworms
    skip_if_library_changed(out / "report.json")
    copy = tmp_path / "webworms"                      # the other tests keep reading `out`
    shutil.copytree(out, copy)
    before = (copy / "report.json").stat().st_mtime_ns
    proc = run_course("report", str(WEBWORMS), "--formula", "y ~ trt + (1|block)",
                      "--family", "nbinom1", "--means", "trt", "--title", "Beall's webworms",
                      "--out", str(copy))
    assert proc.returncode == 0, proc.stderr
    skip_if_library_changed(out / "report.json")
    assert "complete and up to date" in proc.stdout
    assert (copy / "report.json").stat().st_mtime_ns == before


# --- the browser test of the report page ----------------------------------------------------
def test_report_page_in_a_browser(webworms):
    from playwright.sync_api import sync_playwright
    from urllib.parse import urlsplit

    from course.handouts import CHROMIUM_ARGS, LOCAL_HOSTS, find_chromium, serve

    out, _ = webworms
    outside, failed = [], []

    def route(r):
        parts = urlsplit(r.request.url)
        if parts.scheme in {"data", "blob", "about"} or parts.hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with serve(out) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", route)
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.on("requestfailed", lambda r: failed.append(r.url))
            response = page.goto(base + "index.html", wait_until="load")
            assert response is not None and response.ok
            page.evaluate("""async () => {
              if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise; }
              await Promise.all(Array.from(document.images).map(i => i.complete ? null :
                new Promise(d => { i.onload = i.onerror = d; })));
            }""")
            assert page.locator("mjx-container").count() > 10
            assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
            prose = page.evaluate("""() => { const c = document.body.cloneNode(true);
              c.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
              return c.textContent; }""")
            assert "$" not in prose and "\\(" not in prose and "\\[" not in prose
            images = page.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)")
            assert len(images) >= 3 and all(w > 0 for w in images)
            # opened from disk, with no server at all, the math is typeset too
            disk = browser.new_page()
            disk.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:")) else (outside.append(r.request.url), r.abort()))
            disk.goto((out / "index.html").as_uri(), wait_until="load")
            disk.evaluate("async () => { await MathJax.startup.promise; }")
            assert disk.locator("mjx-container").count() > 10
            assert disk.locator("mjx-merror").count() == 0
        finally:
            browser.close()
    assert not outside, f"requests outside the machine: {outside}"
    assert not failed, f"failed requests: {failed}"


# --- many reports on Dask ----------------------------------------------------------------
def make_batch(base: Path) -> dict:
    (base / "data").mkdir()
    simulated_proportions().to_parquet(base / "data" / "larvae.parquet")
    crowder = pd.read_csv(CROWDER)
    crowder.to_excel(base / "data" / "seeds.xlsx", index=False, sheet_name="plates")
    overparameterized_counts().to_csv(base / "data" / "two fields.csv", index=False)
    negative = overparameterized_counts()
    negative.loc[[2, 7], "y"] = -1
    negative.to_csv(base / "data" / "negative.csv", index=False)
    small = pd.read_csv(WEBWORMS)
    small = small[small["block"].isin(["B1", "B2", "B3", "B4"])]
    small.to_csv(base / "data" / "webworms small.csv", index=False)   # a name with a space
    jobs = {
        "defaults": {"n_sim": 100, "seed": 2},
        "jobs": [
            {"name": "larvae", "data": "data/larvae.parquet", "formula": SIM_FORMULA,
             "family": "binomial", "means": "spray type", "title": "Simulated larvae"},
            {"name": "seeds", "data": "data/seeds.xlsx", "sheet": "plates",
             "formula": "cbind(germ, n - germ) ~ extract*gen + (1|plate)", "family": "binomial",
             "means": "~ extract | gen", "title": "Orobanche with plates"},
            {"name": "two-fields", "data": "data/two fields.csv", "formula": SINGULAR_FORMULA,
             "family": "poisson", "means": "trt", "title": "Too complex for two fields"},
            {"name": "zero-inflated", "data": "data/two fields.csv", **NONCONVERGED,
             "means": "trt", "title": "Zeros that are not there"},
            {"name": "nocolumn", "data": "data/webworms small.csv",
             "formula": "y ~ dose + (1|block)", "family": "poisson"},
            {"name": "negative", "data": "data/negative.csv", "formula": "y ~ trt + (1|field)",
             "family": "poisson", "means": "trt"},
        ],
    }
    jobs_file = base / "jobs.yaml"
    jobs_file.write_text(yaml.safe_dump(jobs, sort_keys=False))
    return _proc(run_course("report", "--batch", str(jobs_file), "--out", str(base / "reports"),
                            "--workers", "2"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, worker_id):
    base, proc = made_once(tmp_path_factory, worker_id, "report-batch", make_batch)
    return base, base / "reports", proc


def test_batch_runs_all_jobs_and_reports_the_bad_ones(batch):
    base, out, proc = batch
    assert proc["returncode"] == 1, proc["stdout"] + proc["stderr"]     # two jobs failed
    assert "6 report(s)" in proc["stdout"] and "2 failed" in proc["stdout"]
    assert "Reports:" in proc["stderr"]                                 # the progress bar
    for name in ("larvae", "seeds", "two-fields", "zero-inflated"):
        assert (out / name / "index.html").is_file(), name
        assert (out / name / "report.pdf").is_file(), name
    for name in ("nocolumn", "negative"):
        assert not (out / name).exists(), name
    assert not leftovers(out)


def test_batch_summary_table(batch):
    _, out, _ = batch
    page = (out / "index.html").read_text(encoding="utf-8")
    body = page[page.index("<tbody>"):]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert len(rows) == 6
    by_name = {re.search(r"<td>(.*?)</td>", r).group(1): r for r in rows}
    for name in ("larvae", "seeds"):
        assert f'href="{name}/index.html"' in by_name[name]
        assert f'href="{name}/report.pdf"' in by_name[name]
        assert ">ok<" in by_name[name]
    assert ">ok<" in by_name["two-fields"]              # a singular fit is a result
    assert ">warning<" in by_name["zero-inflated"] and \
        "did not converge" in by_name["zero-inflated"]
    assert ">failed<" in by_name["nocolumn"]
    assert "&#x27;dose&#x27; not found in the data; the columns are: row, col, y, block, trt" \
        in by_name["nocolumn"]
    assert "href=" not in by_name["nocolumn"]
    assert ">failed<" in by_name["negative"] and "rows 4, 9" in by_name["negative"]


def test_simulated_data_report(batch):
    """Parquet input, names with spaces, dropped rows, proportions: the OLRE comparison."""
    base, out, _ = batch
    record = json.loads((out / "larvae" / "report.json").read_text())
    summary = record["summary"]
    assert summary["n_read"] == 72 and summary["n_used"] == 69 and summary["n_dropped"] == 3
    df = simulated_proportions()
    df["spray type"] = pd.Categorical(df["spray type"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm(SIM_FORMULA, data=df, family="binomial")
    assert summary["aic"] == pytest.approx(fit.aic, abs=1e-6)
    assert summary["comparison"]["kind"] == "olre"
    # the data were simulated with extra-binomial noise: the observation-level effect wins
    assert summary["comparison"]["winner"].startswith("with observation-level effect")
    page = (out / "larvae" / "index.html").read_text(encoding="utf-8")
    assert "drops <strong>3</strong>" in page
    assert "a missing value in <code>dead larvae</code>" in page
    assert r"\text{dead larvae}" in page and r"\operatorname{logit}" in page
    assert "Estimated marginal means of <strong>spray type</strong>" in page
    assert "high dose" in page and "could not be computed" not in page


def test_excel_input_and_means_within_groups(batch):
    _, out, _ = batch
    summary = json.loads((out / "seeds" / "report.json").read_text())["summary"]
    assert summary["n_used"] == 21
    assert summary["comparison"]["kind"] == "olre"        # the plate effect is one per row
    # the model without the plate effect is the lesson's Orobanche fit: AIC 117.9
    aic = summary["comparison"]["aic"]
    assert round(aic["without observation-level effect"], 1) == 117.9
    page = (out / "seeds" / "index.html").read_text(encoding="utf-8")
    assert "within each level of gen" in page
    assert "Rows per combination of <code>extract</code>" in page


def test_nonconverged_model_is_reported_with_the_warning_on_top(batch):
    _, out, _ = batch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm(data=overparameterized_counts(), **NONCONVERGED)
    assert not fit.converged, "precondition: this model should not converge"
    record = json.loads((out / "zero-inflated" / "report.json").read_text())
    assert record["status"] == "warning" and "did not converge" in record["message"]
    page = (out / "zero-inflated" / "index.html").read_text(encoding="utf-8")
    warning = page.find("Warning: the model did not converge")
    assert 0 < warning < page.find("<h2>The data</h2>")
    assert page.find("<h1>") < warning
    # the warning names the parameter in words, not by its internal label (zi~(Intercept))
    top = page[:page.find("<h2>The data</h2>")]
    assert "the zero-inflation probability is not identified" in top and "zi~" not in top


def test_singular_fit_is_a_note_not_a_failure(batch):
    _, out, _ = batch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm(SINGULAR_FORMULA, data=overparameterized_counts(), family="poisson")
    assert fit.converged and fit.convergence.singular, "precondition: a singular fit"
    record = json.loads((out / "two-fields" / "report.json").read_text())
    assert record["status"] == "ok" and record["summary"]["singular"] == \
        list(fit.convergence.singular)
    page = (out / "two-fields" / "index.html").read_text(encoding="utf-8")
    assert "did not converge" not in page and "theta:" not in page
    note = page.find("a variance component is estimated at its limit")
    assert 0 < note < page.find("<h2>The data</h2>")
    assert "the variance of x between field levels is estimated as zero" in page


def test_batch_rerun_skips_complete_reports(batch, tmp_path):
    base, out, _ = batch
    skip_if_library_changed(out / "larvae" / "report.json")
    copy = tmp_path / "reports"                       # the other tests keep reading `out`
    shutil.copytree(out, copy)
    stamps = {n: (copy / n / "report.json").stat().st_mtime_ns for n in ("larvae", "seeds")}
    proc = run_course("report", "--batch", str(base / "jobs.yaml"), "--out", str(copy),
                      "--workers", "2", "--quiet")
    skip_if_library_changed(out / "larvae" / "report.json")
    assert proc.returncode == 1
    assert "4 skipped" in proc.stdout and "2 failed" in proc.stdout
    for name, stamp in stamps.items():
        assert (copy / name / "report.json").stat().st_mtime_ns == stamp
    page = (copy / "index.html").read_text(encoding="utf-8")
    assert page.count(">skipped<") == 4 and 'href="larvae/index.html"' in page


# --- bad input: one clear message, nothing written ----------------------------------------
def job(tmp_path, data=WEBWORMS, formula="y ~ trt + (1|block)", family="nbinom1", means="trt",
        **kw):
    return rp.ReportJob(data=Path(data), formula=formula, family=family, means=means,
                        out=tmp_path / "out" / "report", **kw)


def assert_refused(tmp_path, the_job, *fragments):
    with pytest.raises(CourseError) as info:
        rp.make_report(the_job, pdf=False)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    parent = tmp_path / "out"
    assert not (parent / "report").exists()
    assert not parent.exists() or not any(parent.iterdir()), list(parent.iterdir())
    return message


def test_missing_file(tmp_path):
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "nope.csv"), "data file not found",
                   "nope.csv")


def test_unknown_file_type(tmp_path):
    (tmp_path / "data.json").write_text("{}")
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "data.json"), "unknown file type",
                   ".parquet")


def test_unknown_column_lists_the_columns(tmp_path):
    assert_refused(tmp_path, job(tmp_path, formula="y ~ treatment + (1|block)"),
                   "'treatment' not found", "the columns are: row, col, y, block, trt, spray, lead")


def test_negative_and_fractional_counts_name_the_rows(tmp_path):
    df = pd.read_csv(WEBWORMS)
    df.loc[[5, 9], "y"] = -2
    df.to_csv(tmp_path / "neg.csv", index=False)
    # rows are the file's lines (the header is line 1): data rows 5 and 9 are lines 7 and 11
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "neg.csv"), "rows 7, 11",
                   "non-negative whole numbers", "line numbers of the file (the header is line 1)")
    df = pd.read_csv(WEBWORMS).astype({"y": float})
    df.loc[[11], "y"] = 2.5
    df.to_csv(tmp_path / "frac.csv", index=False)
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "frac.csv", family="poisson"),
                   "rows 13", "2.5")


def test_successes_above_trials_name_the_rows(tmp_path):
    df = pd.read_csv(CROWDER)
    df.loc[3, "germ"] = df.loc[3, "n"] + 4
    df.to_csv(tmp_path / "seeds.csv", index=False)
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "seeds.csv",
                                 formula="cbind(germ, n - germ) ~ extract*gen",
                                 family="binomial", means="extract"), "rows 5")


def test_proportions_outside_zero_one_name_the_rows(tmp_path):
    df = pd.read_csv(CROWDER)
    df["share"] = df["germ"] / df["n"]
    df.loc[[0, 6], "share"] = [1.2, 0.0]
    df.to_csv(tmp_path / "share.csv", index=False)
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "share.csv",
                                 formula="share ~ extract + (1|plate)", family="beta",
                                 means="extract"), "rows 2, 8")


def test_one_level_grouping_factor(tmp_path):
    df = pd.read_csv(WEBWORMS)
    df["farm"] = "only one"
    df.to_csv(tmp_path / "one.csv", index=False)
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "one.csv",
                                 formula="y ~ trt + (1|farm)"), "'farm'", "only one level")


def test_formula_that_does_not_parse(tmp_path):
    message = assert_refused(tmp_path, job(tmp_path, formula="y ~ trt + (1|block"),
                             "cannot parse", "y ~ trt + (1|block")
    assert "^" in message                                  # shows where


def test_means_must_be_fixed_factors(tmp_path):
    assert_refused(tmp_path, job(tmp_path, means="spray"), "'spray'",
                   "fixed factors: trt")


def test_unknown_family(tmp_path):
    assert_refused(tmp_path, job(tmp_path, family="nbinomial"), "unknown family", "nbinom1")


def test_command_line_prints_one_clear_line(tmp_path):
    out = tmp_path / "cli"
    proc = run_course("report", str(WEBWORMS), "--formula", "y ~ treatment + (1|block)",
                      "--family", "nbinom1", "--out", str(out))
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not leftovers(tmp_path)


def test_interrupted_run_leaves_nothing_and_keeps_the_old_report(tmp_path, monkeypatch):
    import course.execute

    the_job = job(tmp_path)
    the_job.out.mkdir(parents=True)
    (the_job.out / "index.html").write_text("the previous report")
    (the_job.out / "report.json").write_text(json.dumps({"made_by": MADE_BY,
                                                         "files": ["index.html"]}))

    def interrupted(*args, **kwargs):
        (Path(kwargs["cwd"]) / "half.txt").write_text("half")   # something was written ...
        raise KeyboardInterrupt

    monkeypatch.setattr(course.execute, "run_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rp.make_report(the_job, pdf=False, force=True)
    assert (the_job.out / "index.html").read_text() == "the previous report"
    assert not (the_job.out / "half.txt").exists()
    assert not leftovers(the_job.out.parent)


def test_move_into_place_replaces_a_report(tmp_path):
    new, out = tmp_path / "new", tmp_path / "out"
    new.mkdir(), out.mkdir()
    (new / "a").write_text("new")
    (out / "a").write_text("old")
    (out / "report.json").write_text(json.dumps({"made_by": MADE_BY, "files": ["a"]}))
    rp.move_into_place(new, out)
    assert (out / "a").read_text() == "new" and not new.exists() and not leftovers(tmp_path)


# --- the jobs file ------------------------------------------------------------------------
def test_jobs_csv(tmp_path):
    (tmp_path / "jobs.csv").write_text(
        "data,formula,family,means,factors\n"
        'a.csv,"cbind(s, n - s) ~ x*z",binomial,x,"x; z"\n'
        "a.csv,y ~ x,poisson,,\n")
    jobs = rp.read_jobs(tmp_path / "jobs.csv", tmp_path / "reports")
    assert [j.name for j in jobs] == ["a", "a-2"]
    assert jobs[0].formula == "cbind(s, n - s) ~ x*z" and jobs[0].factors == ["x", "z"]
    assert jobs[0].data == tmp_path / "a.csv" and jobs[1].means is None
    assert jobs[1].out == tmp_path / "reports" / "a-2"


def test_jobs_file_problems_stop_before_running(tmp_path):
    (tmp_path / "j1.csv").write_text("data,formula,family,colour\na.csv,y ~ x,poisson,red\n")
    with pytest.raises(CourseError, match="unknown field.*colour.*the fields are"):
        rp.read_jobs(tmp_path / "j1.csv", tmp_path)
    (tmp_path / "j2.csv").write_text("name,data,formula,family\nr,a.csv,y ~ x,poisson\n"
                                     "r,b.csv,y ~ x,poisson\n")
    with pytest.raises(CourseError, match="same name 'r'"):
        rp.read_jobs(tmp_path / "j2.csv", tmp_path)
    (tmp_path / "j3.yaml").write_text("- data: a.csv\n  family: poisson\n")
    with pytest.raises(CourseError, match="job 1: missing formula"):
        rp.read_jobs(tmp_path / "j3.yaml", tmp_path)


# --- pieces -------------------------------------------------------------------------------
def test_equations_of_webworms_and_orobanche():
    ww = gl.datasets.load("beall_webworms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eq = model_equations(gl.glmm("y ~ trt + (1|block)", ww, family="nbinom1"))
    assert eq.lines[0] == r"\text{y}_{ijk} \sim \mathrm{NB1}(\mu_{ijk},\ \phi)"
    assert eq.lines[2] == r"\log(\mu_{ijk}) = \eta_{ijk} = \beta_0 + \alpha_{i} + u_{j}"
    assert eq.lines[3] == r"u_{j} \sim N(0,\ \sigma^2_{\text{block}})"
    assert any("0.3079" in e for e in eq.estimates)
    seeds = gl.datasets.load("crowder_seeds")
    model = gl.GLMMModel("cbind(germ, n - germ) ~ extract*gen", seeds, family="binomial")
    eq = model_equations(model)
    assert eq.lines[0] == r"\text{germ}_{ijk} \sim \mathrm{Binomial}(N_{ijk},\ p_{ijk})"
    assert r"(\alpha\gamma)_{ij}" in eq.lines[1] and r"\operatorname{logit}" in eq.lines[1]
    assert eq.estimates == []


def test_equations_quote_odd_names():
    assert tex_text("dead_larvae %") == r"\text{dead}\_\text{larvae }\%"
    df = simulated_proportions().dropna()
    model = gl.GLMMModel(SIM_FORMULA, df, family="binomial")
    latex = model_equations(model).latex
    assert r"\text{dead larvae}" in latex and r"\sigma^2_{\text{field block}}" in latex
    assert "`" not in latex


def test_reading_of_tests_names_overdispersion():
    class T:
        def __init__(self, stat, p):
            self.statistic, self.p_value = stat, p

    text = reading_of_tests({"uniformity": T(0.2, 1e-6), "dispersion": T(3.1, 1e-9),
                                "outliers": T(1, 0.4)})
    assert "**Overdispersion** (p < 0.001" in text and "3.10 times" in text
    assert "No evidence of a problem with outliers (p = 0.400)" in text
    calm = reading_of_tests({"uniformity": T(0.02, 0.6), "dispersion": T(1.0, 0.9)})
    assert "No test finds a problem" in calm


def test_read_table_formats(tmp_path):
    df = pd.DataFrame({"count y": [1, 2, 3], "trt": ["a", "b", "c"]})
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_csv(tmp_path / "d.tsv", index=False, sep="\t")
    df.to_parquet(tmp_path / "d.parquet")
    df.to_excel(tmp_path / "d.xlsx", index=False)
    for name in ("d.csv", "d.tsv", "d.parquet", "d.xlsx"):
        got = read_data(tmp_path / name).frame
        assert list(got.columns) == ["count y", "trt"] and len(got) == 3, name
        assert got.index[0] == (1 if name.endswith(".parquet") else 2), name


def test_parse_means():
    assert parse_means("trt") == (["trt"], [])
    assert parse_means("extract*gen") == (["extract", "gen"], [])
    assert parse_means("~ extract | gen") == (["extract"], ["gen"])
    assert parse_means("spray type", ["spray type"]) == (["spray type"], [])
    assert parse_means("~ `spray type` | `field block`") == (["spray type"], ["field block"])


def test_a_job_that_fails_in_a_worker_returns_its_error(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kernel died")

    monkeypatch.setattr(report_batch, "make_report", boom)     # what a Dask worker runs
    result = rp.run_job(job(tmp_path))
    assert result.status == "failed" and "RuntimeError: kernel died" in result.message


def test_numeric_treatment_is_a_factor_only_when_named(tmp_path):
    """A number column is a factor with --factor (said in a note); --means alone refuses it
    with the fix, instead of silently making a factor of a covariate."""
    df = pd.read_csv(WEBWORMS)
    df["dose"] = df["trt"].str[1].astype(int)            # 1, 2, 3, 4
    data, notes = prepare_data(df, ["dose"])
    assert list(data["dose"].cat.categories) == [1, 2, 3, 4]
    assert notes == ["`dose` holds numbers; it is used as a factor with 4 levels (--factor)"]
    df.to_csv(tmp_path / "dose.csv", index=False)
    model = rp.check_job(job(tmp_path, data=tmp_path / "dose.csv", formula="y ~ dose + (1|block)",
                             means="dose", factors=["dose"]))
    assert model.fixed.names == ["(Intercept)", "dose2", "dose3", "dose4"]
    assert_refused(tmp_path, job(tmp_path, data=tmp_path / "dose.csv",
                                 formula="y ~ dose + (1|block)", means="dose"),
                   "means are for factors", "did you mean --factor dose?")
