"""The report on field data as it comes (issue 15, items 3-8 and the presentation):
European CSV files, other encodings, REML and Kenward-Roger, zero inflation, weights,
reference levels, singular fits in words, clear messages, size guards.

Bad input goes through the command line in a subprocess: exit status 1, one message
that names the problem, nothing written and the data file unchanged. Two small
reports run end to end without a PDF.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, run_course

import glmm_lib as gl
from course import report as rp
from course.report.banners import fit_banners, in_words
from course.report.inputs import model_options
from course.report.many_means import pairwise_decisions
from course.report.reading import read_data

WEBWORMS = REPO / "data" / "beall_webworms.csv"


def european_trial(seed=5) -> pd.DataFrame:
    """A gaussian trial: a numeric dose, 3 varieties (reference: 'local'), 4 blocks whose
    effect is zero in the simulation (a singular fit), and names with accents."""
    rng = np.random.default_rng(seed)
    rows = [(v, b, d) for v in ("Ábaco", "local", "Zénit") for b in ("B1", "B2", "B3", "B4")
            for d in (0.5, 1.5, 2.5)]
    df = pd.DataFrame(rows, columns=["variety", "block", "dose"])
    df["weight"] = 10 + 1.2 * df["dose"] + df["variety"].map(
        {"Ábaco": 0.0, "local": -1.0, "Zénit": 0.8}) + rng.normal(0, 0.5, len(df))
    df["weight"] = df["weight"].round(2)
    return df


def write_european(df: pd.DataFrame, path: Path, encoding="cp1252") -> Path:
    path.write_bytes(df.to_csv(index=False, sep=";", decimal=",").encode(encoding))
    return path


def refused(tmp_path, data: Path, *args, fragments=()):
    """Run the command on bad input: exit 1, one error line with every fragment, nothing
    written, the data file unchanged."""
    before = data.read_bytes()
    out = tmp_path / "out"
    proc = run_course("report", str(data), *args, "--out", str(out), "--no-pdf", "--quiet")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert data.read_bytes() == before
    assert sorted(p.name for p in data.parent.iterdir()) == [data.name]
    return lines[0]


# --- bad input through the command line -------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return data


def test_text_in_a_number_column_names_the_column_and_lines(folder, tmp_path):
    df = european_trial()
    df["dose"] = df["dose"].map(lambda v: f"{v:.1f}".replace(".", ","))   # as Excel writes
    df.loc[[4, 10], "dose"] = ["about 2", "?"]
    data = write_european(df, folder / "trial.csv")
    refused(tmp_path, data, "--formula", "weight ~ dose + variety + (1|block)",
            "--family", "gaussian",
            fragments=("column 'dose' holds numbers but also text in 2 row(s)",
                       "6 ('about 2'), 12 ('?')",
                       "line numbers of the file (the header is line 1)", "--factor dose"))


def test_decimal_commas_read_with_a_decimal_point_are_refused(folder, tmp_path):
    data = write_european(european_trial(), folder / "trial.csv")
    refused(tmp_path, data, "--formula", "weight ~ dose + (1|block)", "--family", "gaussian",
            "--decimal", ".",
            fragments=("column 'dose' holds numbers written with a decimal comma ('0,5')",
                       "--decimal ','"))


def test_means_of_a_covariate_suggest_factor(folder, tmp_path):
    data = write_european(european_trial(), folder / "trial.csv")
    refused(tmp_path, data, "--formula", "weight ~ dose + variety + (1|block)",
            "--family", "gaussian", "--means", "dose",
            fragments=("means are for factors", "did you mean --factor dose?"))


def test_a_wrong_encoding_names_the_line(folder, tmp_path):
    data = write_european(european_trial(), folder / "trial.csv")
    refused(tmp_path, data, "--formula", "weight ~ dose + (1|block)", "--family", "gaussian",
            "--encoding", "utf-8", fragments=("is not valid utf-8", "line 2", "--encoding"))


def test_a_factor_with_many_levels_needs_max_levels(folder, tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"line": np.repeat([f"L{i:02d}" for i in range(80)], 2),
                       "rep": np.tile(["R1", "R2"], 80)})
    df["y"] = rng.normal(size=len(df)).round(3)
    data = folder / "lines.csv"
    df.to_csv(data, index=False)
    refused(tmp_path, data, "--formula", "y ~ line + (1|rep)", "--family", "gaussian",
            "--means", "line",
            fragments=("'line' has 80 levels (more than 60)", "3160 pairwise",
                       "--max-levels 80", "(1|line)"))


@pytest.mark.parametrize("args, fragments", [
    (("--reference", "trt=T9"), ("'trt' has no level 'T9'", "T1, T2, T3, T4")),
    (("--reference", "trt"), ("give COLUMN=LEVEL",)),
    (("--reml",), ("REML is available for gaussian models",)),
    (("--ziformula", "~1", "--family", "binomial", "--formula",
      "cbind(y, 10 - y) ~ trt + (1|block)"), ("zero inflation", "not binomial")),
    (("--weights", "mass"), ("mass",)),
])
def test_model_options_refused(tmp_path, args, fragments):
    data = tmp_path / "data" / "webworms.csv"
    data.parent.mkdir()
    data.write_bytes(WEBWORMS.read_bytes())
    base = {"--formula": "y ~ trt + (1|block)", "--family": "poisson"}
    given = dict(zip(args[::2], args[1::2])) if len(args) % 2 == 0 else {}
    rest = [a for k, v in base.items() if k not in given for a in (k, v)]
    refused(tmp_path, data, *rest, *args, fragments=fragments)


def test_text_options_on_a_parquet_file(folder, tmp_path):
    data = folder / "trial.parquet"
    european_trial().to_parquet(data)
    refused(tmp_path, data, "--formula", "weight ~ dose + (1|block)", "--family", "gaussian",
            "--sep", ";", fragments=("--sep apply to text files",))


# --- pieces, in process ---------------------------------------------------------------------
def test_european_latin1_file_is_read_with_notes(tmp_path):
    data = write_european(european_trial(), tmp_path / "trial.csv")
    got = read_data(data)
    assert got.frame["dose"].dtype == float and got.frame["weight"].dtype == float
    assert "Zénit" in set(got.frame["variety"])
    notes = " ".join(got.notes)
    assert "not UTF-8" in notes and "cp1252" in notes
    assert "semicolon-separated, decimal comma" in notes
    assert got.frame.index[0] == 2                  # the first data line of the file


def test_reml_is_the_default_where_lmer_uses_it():
    assert model_options("gaussian")["REML"] is True
    assert model_options("gaussian", link="log")["REML"] is False
    assert model_options("poisson")["REML"] is False
    assert model_options("gaussian", reml=False)["REML"] is False


def test_jobs_file_takes_the_new_fields(tmp_path):
    (tmp_path / "jobs.yaml").write_text(
        "- data: a.csv\n  formula: y ~ trt\n  family: gaussian\n  reml: no\n  sep: ';'\n"
        "  decimal: ','\n  encoding: latin-1\n  reference: trt=none, site=north\n"
        "  ziformula: null\n  weights: w\n  max_levels: 300\n")
    (job,) = rp.read_jobs(tmp_path / "jobs.yaml", tmp_path / "out")
    assert job.reml is False and job.sep == ";" and job.decimal == "," and \
        job.encoding == "latin-1"
    assert job.references == ["trt=none", "site=north"] and job.weights == "w"
    assert job.max_levels == 300 and job.ziformula is None


def test_reference_level_and_weights_reach_the_model(tmp_path):
    data = write_european(european_trial(), tmp_path / "trial.csv")
    job = rp.ReportJob(data=data, formula="weight ~ dose + variety + (1|block)",
                       family="gaussian", out=tmp_path / "out", references=["variety=local"],
                       weights="dose")
    model = rp.check_job(job)
    # the other levels in sorted order (by code point: Z before Á)
    assert model.fixed.names == ["(Intercept)", "dose", "varietyZénit", "varietyÁbaco"]
    assert model.REML
    assert not (tmp_path / "out").exists()


def test_pairwise_decisions_agree_with_tukey():
    rng = np.random.default_rng(5)
    n = 8
    df = pd.DataFrame({"g": np.repeat([f"L{i}" for i in range(n)], 6),
                       "block": np.tile([f"b{i}" for i in range(6)], n)})
    df["y"] = rng.normal(np.repeat(np.linspace(0, 3, n), 6), 0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm("y ~ g + (1|block)", df, family="gaussian")
    emm = gl.emmeans(fit, "g")
    tukey = gl.pairs(emm).table
    ours = pairwise_decisions(emm)
    assert list(ours["contrast"]) == list(tukey["contrast"])
    assert np.allclose(ours["estimate"], tukey["estimate"])
    decided = ours["differ (Tukey 5%)"].to_numpy()
    assert 0 < decided.sum() < len(decided)          # some pairs differ, some do not
    assert (decided == (tukey["p.value"] < 0.05).to_numpy()).all()


def test_convergence_problems_are_said_without_internal_names():
    ww = gl.datasets.load("beall_webworms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm("y ~ trt + (1|block)", ww, family="nbinom1")
    names = fit.parameters.names
    internal = next(n for n in names if n.startswith("theta:"))
    text = in_words(f"large gradient (at {internal}); trtT2", fit.parameters)
    assert "theta:" not in text and "a random-effect variance" in text
    assert "the coefficient trtT2" in text


def test_singular_fit_is_a_note_not_a_warning():
    df = european_trial()
    df["block"] = df["block"].astype("category")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gl.glmm("weight ~ dose + variety + (1|block)", df, family="gaussian", REML=True)
    assert fit.converged and fit.convergence.singular, "precondition: a singular fit"
    (box,) = fit_banners(fit)
    assert 'class="report-note"' in box and "the block variance is estimated as zero" in box
    assert "did not converge" not in box and "theta:" not in box
    assert "still hold" in box


# --- two small reports, end to end (no PDF) -----------------------------------------------
def page_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_european_report_end_to_end(tmp_path):
    data = write_european(european_trial(), tmp_path / "trial.csv")
    out = tmp_path / "report"
    proc = run_course("report", str(data), "--formula", "weight ~ dose + variety + (1|block)",
                      "--family", "gaussian", "--means", "variety", "--reference",
                      "variety=local", "--n-sim", "40", "--out", str(out), "--no-pdf", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    summary = json.loads((out / "report.json").read_text())["summary"]
    # the decimal commas were read as numbers: dose is one slope, not a factor
    assert "dose" in summary["coefficients"] and "varietyZénit" in summary["coefficients"]
    assert summary["reml"] is True and "fitted by REML" in page
    assert summary["singular"] == ["the block variance is estimated as zero"]
    assert summary["converged"] and "did not converge" not in page
    assert "a variance component is estimated at its limit" in page
    assert "theta:" not in page
    # the reading notes, the reference level, Kenward-Roger
    text = page_text(page)
    assert "read as cp1252" in text and "semicolon-separated, decimal comma" in text
    assert "the reference level is local" in text
    assert "Kenward-Roger degrees of freedom" in text and "Type III F tests" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = european_trial()
        df["variety"] = pd.Categorical(df["variety"], categories=["local", "Zénit", "Ábaco"])
        fit = gl.glmm("weight ~ dose + variety + (1|block)", df, family="gaussian", REML=True)
    assert fit.convergence.singular, "precondition: the simulated blocks do not differ"
    kr = fit.coef_table(ddf="Kenward-Roger")
    assert summary["kenward_roger"] == pytest.approx(kr["df"].to_dict(), rel=1e-6)
    # every figure has a description, no table has an unnamed index column
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', page)
    assert len(alts) >= 3 and all(len(a) > 40 and a != "figure" for a in alts), alts
    assert "<th></th>" not in page and '<th scope="col"></th>' not in page


def test_many_levels_report_links_the_complete_tables(tmp_path):
    rng = np.random.default_rng(2)
    n = 40
    df = pd.DataFrame({"seed line": np.repeat([f"L{i:02d}" for i in range(n)], 2),
                       "rep": np.tile(["R1", "R2"], n)})
    df["plot yield"] = (rng.normal(5, 1, n).repeat(2) + rng.normal(0, 0.3, 2 * n)).round(3)
    data = tmp_path / "lines.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "report"
    formula = "`plot yield` ~ `seed line` + (1|rep)"
    proc = run_course("report", str(data), "--formula", formula, "--family", "gaussian",
                      "--means", "seed line", "--max-levels", "40", "--n-sim", "20",
                      "--out", str(out), "--no-pdf", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    # the header shows the formula with its backticks, as code
    assert f"<code>{formula}</code>" in page.replace("&#x27;", "'")
    pairs = pd.read_csv(out / "tables" / "pairwise-comparisons.csv")
    assert len(pairs) == n * (n - 1) // 2
    assert 'href="tables/pairwise-comparisons.csv"' in page
    assert "40 means make <strong>780</strong> pairs" in page
    # long tables: the first rows in the page, the whole table linked
    assert "The first 30 of 40 rows" in page_text(page)
    assert 'href="tables/rows-per-level-of-seed-line.csv"' in page
    assert "tables/pairwise-comparisons.csv" in json.loads(
        (out / "report.json").read_text())["files"]
