"""``python -m course report``: the course's analysis of a user's data, as a web page and a PDF.

One report::

    python -m course report my.csv --formula "y ~ trt + (1|block)" --family nbinom1 \\
        --means trt --out reports/my

checks the input (file, columns, response, grouping factors, formula, means)
*before* anything is written, executes the report notebook
(``course/templates/report.md``) with papermill, renders it to
``reports/my/index.html`` (MathJax copied beside it, images inside the page) and
prints ``reports/my/report.pdf`` with headless Chromium. Everything is made in a
hidden temporary folder next to the target and moved into place only when
complete, so an interrupted or failed run leaves no half-written report; a
complete report (``report.json`` with the same inputs) is not made again.

Many reports: ``--batch jobs.csv`` (or .yaml) runs one report per row on Dask,
a local cluster by default or an existing one with ``--scheduler``, and writes
a summary table ``<out>/index.html`` linking every report, with the error of
any that failed. See :func:`read_jobs` for the jobs file.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import CourseError, LessonFailed
from .report_folder import (MADE_BY, RECORD, TEMP_MARKER, OutputFolderRefused,
                            check_batch_folder, check_report_folder, clean_stale, files_in,
                            move_into_place, new_temporary_folder, read_manifest,
                            write_atomically, write_batch_manifest)

#: Bump when what a report contains changes, so complete reports are made again.
REPORT_FORMAT = 2
TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.md"
#: The code that makes a report's content besides the notebook (part of its cache key).
REPORT_CODE = tuple(Path(__file__).resolve().parent / f for f in ("report_tools.py", "nbhtml.py"))
PAGE = "index.html"
PDF = "report.pdf"
NOTEBOOK = "report.ipynb"
RESULT = "report-result.json"
DEFAULT_OUT = Path("reports")

JOB_FIELDS = ("name", "data", "formula", "family", "link", "means", "title", "n_sim", "seed",
              "factors", "sheet")
REQUIRED_FIELDS = ("data", "formula", "family")


@dataclass
class ReportJob:
    """One report: the data, the model, and the folder it goes to."""

    data: Path
    formula: str
    family: str
    out: Path
    means: str | None = None
    link: str | None = None
    title: str | None = None
    n_sim: int = 250
    seed: int = 1
    factors: list = field(default_factory=list)
    sheet: str | int | None = None

    @property
    def name(self) -> str:
        return self.out.name

    def parameters(self, result_file: str) -> dict:
        """The values papermill injects into the notebook's parameters cell."""
        title = self.title or f"Analysis of {self.data.name}"
        return {
            "data_path": str(self.data.resolve()),
            "sheet": self.sheet,
            "formula": self.formula,
            "family": self.family,
            "link": self.link,
            "factors": list(self.factors),
            "means": self.means,
            "title": title,
            "source_name": self.data.name,
            "n_sim": int(self.n_sim),
            "seed": int(self.seed),
            "result_file": result_file,
        }


@dataclass
class ReportResult:
    """What happened to one job: ``status`` is ok, warning, failed or skipped."""

    name: str
    out: str
    status: str
    message: str = ""
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# --- checking a job before anything is written --------------------------------------------
def check_job(job: ReportJob):
    """Read the data and build the model (no fit) exactly as the notebook will.

    Raises :class:`ReportInputError` with one clear message for a missing or
    unreadable file, an unknown column, a response of the wrong kind, a
    one-level grouping factor, a formula that does not parse, an unknown family
    or means that are not fixed factors. Returns the ``GLMMModel``.
    """
    import warnings

    import glmm_lib as gl

    from . import report_tools as rt
    from .report_tools import ReportInputError

    if not str(job.formula or "").strip():
        raise ReportInputError("no model formula given (--formula \"y ~ trt + (1|block)\")")
    if not str(job.family or "").strip():
        raise ReportInputError("no family given (--family poisson, nbinom1, binomial, ...)")
    try:
        n_sim, _ = int(job.n_sim), int(job.seed)
    except (TypeError, ValueError):
        raise ReportInputError(f"n_sim and seed must be whole numbers, got {job.n_sim!r} and "
                               f"{job.seed!r}") from None
    if n_sim < 10:
        raise ReportInputError(f"n_sim must be at least 10 (250 is usual), got {n_sim}")
    raw = rt.read_table(job.data, job.sheet)
    data, _ = rt.prepare_data(raw, list(job.factors) + rt.means_variables(job.means, raw.columns))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = gl.GLMMModel(job.formula, data, family=job.family, link=job.link)
    except gl.GLMMInputError as err:
        raise ReportInputError(f"{job.data.name}: {err}") from None
    rt.check_means(model, job.means, raw.columns)
    return model


# --- the record that marks a complete report ----------------------------------------------
def _library_fingerprint() -> str:
    from .execute import library_fingerprint
    from .project import Project

    return library_fingerprint(Project())


def job_key(job: ReportJob, pdf: bool, library: str | None = None) -> str:
    """Hash of everything the report depends on: data bytes, parameters, the notebook and
    its helpers, glmm_lib and data/ (``library``), and whether a PDF is made."""
    digest = hashlib.sha256(f"report {REPORT_FORMAT}\0".encode())
    params = job.parameters(RESULT)
    params.pop("data_path")
    digest.update(json.dumps(params, sort_keys=True, default=str).encode() + b"\0")
    digest.update(job.data.read_bytes() + b"\0")
    for code in (TEMPLATE, *REPORT_CODE):
        digest.update(code.read_bytes() + b"\0")
    digest.update((library or _library_fingerprint()).encode())
    digest.update(b"pdf" if pdf else b"no-pdf")
    return digest.hexdigest()


def read_record(out: Path) -> dict | None:
    return read_manifest(out)


def is_complete(job: ReportJob, key: str, pdf: bool) -> bool:
    record = read_record(job.out)
    if not record or record.get("key") != key or not record.get("complete"):
        return False
    needed = [PAGE] + ([PDF] if pdf else [])
    return all((job.out / f).is_file() for f in needed)


# --- one report --------------------------------------------------------------------------
def _kernel() -> str:
    """The course kernel (this Python, the repository on its path), for the report notebook.

    Its spec goes to a folder of the system's temporary directory, so that a
    report writes nothing into the repository."""
    import tempfile

    from .execute import ensure_kernel
    from .project import Project

    user = os.getuid() if hasattr(os, "getuid") else "user"
    return ensure_kernel(Project(out=Path(tempfile.gettempdir()) / f"glmm-course-{user}"))


def make_report(job: ReportJob, *, pdf: bool = True, force: bool = False,
                progress: bool = False, library: str | None = None) -> ReportResult:
    """Make one report (or skip it when complete); raises :class:`CourseError` on failure.

    Nothing is written at ``job.out`` unless the whole report was made.
    """
    import nbformat

    from .execute import run_notebook
    from .nbhtml import write_page

    started = time.perf_counter()
    job = ReportJob(**{**asdict(job), "data": Path(job.data), "out": Path(job.out).absolute()})
    check_report_folder(job.out, protected=[job.data])
    check_job(job)
    if pdf:
        from .handouts import find_chromium

        find_chromium()
    library = library or _library_fingerprint()
    key = job_key(job, pdf, library)
    if not force and is_complete(job, key, pdf):
        record = read_record(job.out) or {}
        return ReportResult(job.name, str(job.out), "skipped",
                            "complete and up to date (not made again)",
                            summary=record.get("summary", {}))
    job.out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(job.out)
    tmp = new_temporary_folder(job.out)
    try:
        params = job.parameters(str(tmp / RESULT))
        phases = {}
        mark = time.perf_counter()
        try:
            nb = run_notebook(TEMPLATE, tmp / NOTEBOOK, params, cwd=tmp, kernel_name=_kernel(),
                              name=f"report {job.name}", source_file=TEMPLATE,
                              progress_bar=progress)
        except LessonFailed as err:
            raise CourseError(_notebook_failure(job, err)) from None
        phases["notebook"] = round(time.perf_counter() - mark, 1)
        summary = json.loads((tmp / RESULT).read_text())
        (tmp / RESULT).unlink()
        write_page(nb, tmp / PAGE, params["title"])
        if pdf:
            from .handouts import print_pdf

            mark = time.perf_counter()
            print_pdf(tmp / PAGE, tmp / PDF, site_dir=tmp)
            phases["pdf"] = round(time.perf_counter() - mark, 1)
        status, message = _status(summary)
        nbformat.write(nb, str(tmp / NOTEBOOK))
        record = {
            "made_by": MADE_BY, "complete": True, "key": key, "library": library, "status": status,
            "message": message,
            "made": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1), "phases": phases,
            "job": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(job).items()},
            "summary": summary,
            "files": [f for f in files_in(tmp) if f not in (RECORD, TEMP_MARKER)],
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=1))
        move_into_place(tmp, job.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(job.name, str(job.out), status, message,
                        round(time.perf_counter() - started, 1), summary)


def _notebook_failure(job: ReportJob, err: LessonFailed) -> str:
    text = str(err).splitlines()[0]
    text = text.replace(f"lesson 'report {job.name}' failed in", "failed in the report notebook,")
    return f"report {job.name!r} {text}"


def _status(summary: dict) -> tuple[str, str]:
    problems = []
    if not summary.get("converged", True):
        problems.append("the model did not converge: "
                        + "; ".join(summary.get("convergence_problems", [])))
    for section, error in summary.get("failed_sections", []):
        problems.append(f"section {section!r} could not be computed: {error}")
    return ("warning", " | ".join(problems)) if problems else ("ok", "")


# --- many reports: the jobs file -----------------------------------------------------------
def _split_list(value) -> list:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace(";", ",").split(",") if v.strip()]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or \
        (isinstance(value, str) and not value.strip())


def read_jobs(path: Path, out: Path) -> list[ReportJob]:
    """Jobs from a CSV or YAML file, one report per row/entry.

    Fields: ``data``, ``formula``, ``family`` (required), ``name`` (the report's
    folder under ``out``; default: the data file's name, numbered if repeated),
    ``means``, ``link``, ``title``, ``n_sim``, ``seed``, ``factors`` (comma- or
    semicolon-separated), ``sheet``. Relative data paths are relative to the
    jobs file. YAML: a list of mappings, or ``{defaults: {...}, jobs: [...]}``.
    Problems with the file itself (unknown or missing fields, repeated names)
    raise :class:`CourseError` before any report is made.
    """
    import pandas as pd
    import yaml

    path = Path(path)
    if not path.is_file():
        raise CourseError(f"jobs file not found: {path}")
    suffix = path.suffix.lower()
    defaults = {}
    if suffix in (".yaml", ".yml"):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise CourseError(f"{path.name} is not valid YAML: {err}") from None
        if isinstance(loaded, dict):
            defaults = loaded.get("defaults") or {}
            entries = loaded.get("jobs")
        else:
            entries = loaded
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise CourseError(f"{path.name}: expected a list of jobs (mappings), or "
                              "{defaults: {...}, jobs: [...]}")
    elif suffix in (".csv", ".tsv", ".txt"):
        try:
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                                skipinitialspace=True, comment="#")
        except Exception as err:  # noqa: BLE001
            raise CourseError(f"cannot read the jobs file {path.name}: {err}") from None
        frame.columns = [c.strip() for c in frame.columns]
        entries = [{k: (v if v != "" else None) for k, v in row.items()}
                   for row in frame.to_dict("records")]
    else:
        raise CourseError(f"jobs file {path.name}: expected .csv or .yaml, got {suffix!r}")
    if not entries:
        raise CourseError(f"{path.name} lists no jobs")
    jobs, names = [], {}
    for number, entry in enumerate(entries, start=1):
        entry = {**defaults, **{str(k).strip(): v for k, v in entry.items()}}
        unknown = sorted(set(entry) - set(JOB_FIELDS))
        if unknown:
            raise CourseError(f"{path.name}, job {number}: unknown field(s) {', '.join(unknown)}; "
                              f"the fields are: {', '.join(JOB_FIELDS)}")
        missing = [f for f in REQUIRED_FIELDS if _blank(entry.get(f))]
        if missing:
            raise CourseError(f"{path.name}, job {number}: missing {', '.join(missing)}")
        data = Path(str(entry["data"]).strip())
        if not data.is_absolute():
            data = path.parent / data
        name = str(entry.get("name") or "").strip() or data.stem
        if _blank(entry.get("name")) and name in names:
            name = f"{name}-{number}"
        if "/" in name or name.startswith("."):
            raise CourseError(f"{path.name}, job {number}: the name {name!r} must be a plain "
                              "folder name")
        if name in names:
            raise CourseError(f"{path.name}: jobs {names[name]} and {number} have the same "
                              f"name {name!r}; names must be unique")
        names[name] = number
        try:
            n_sim = int(float(entry.get("n_sim") or 250))
            seed = int(float(entry.get("seed") if not _blank(entry.get("seed")) else 1))
        except ValueError:
            raise CourseError(f"{path.name}, job {number}: n_sim and seed must be numbers") \
                from None
        sheet = entry.get("sheet")
        jobs.append(ReportJob(
            data=data, formula=str(entry["formula"]), family=str(entry["family"]).strip(),
            out=Path(out) / name,
            means=None if _blank(entry.get("means")) else str(entry["means"]).strip(),
            link=None if _blank(entry.get("link")) else str(entry["link"]).strip(),
            title=None if _blank(entry.get("title")) else str(entry["title"]),
            n_sim=n_sim, seed=seed, factors=_split_list(entry.get("factors")),
            sheet=None if _blank(sheet) else sheet,
        ))
    return jobs


# --- many reports: on Dask ---------------------------------------------------------------
def run_job(job: ReportJob, pdf: bool = True, force: bool = False,
            library: str | None = None) -> ReportResult:
    """One job for a Dask worker: never raises, returns a failed result instead."""
    started = time.perf_counter()
    try:
        return make_report(job, pdf=pdf, force=force, progress=False, library=library)
    except CourseError as err:
        message = str(err)
    except Exception as err:  # noqa: BLE001 - a bug must not stop the other jobs
        message = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}"
    return ReportResult(job.name, str(job.out), "failed", message,
                        round(time.perf_counter() - started, 1))


def run_batch(jobs: list[ReportJob], out: Path, *, workers: int = 2, scheduler: str | None = None,
              pdf: bool = True, force: bool = False, progress: bool = True) -> list[ReportResult]:
    """Run ``jobs`` in parallel on Dask; write ``out/index.html``; return the results in order.

    A local cluster of ``workers`` processes (one thread each) unless
    ``scheduler`` is the address of a running Dask scheduler, whose workers must
    see this repository on their Python path and the data and ``out`` folders at
    the same paths (a shared file system).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    out = Path(out).absolute()
    jobs = [ReportJob(**{**asdict(j), "data": Path(j.data).absolute(),
                         "out": Path(j.out).absolute()}) for j in jobs]
    check_batch_outputs(out, jobs)
    out.mkdir(parents=True, exist_ok=True)
    write_batch_manifest(out, [job.name for job in jobs])
    if pdf:
        from .handouts import find_chromium

        find_chromium()
    _kernel()  # write the kernel spec once, before the workers look for it
    library = _library_fingerprint()
    results: dict[str, ReportResult] = {}
    bar = tqdm(total=len(jobs), desc="Reports", unit="report", disable=not progress)
    # what needs no worker: bad input (checked here, as the worker would) and complete reports
    todo = []
    for job in jobs:
        result = None
        try:
            check_job(job)
            if not force and is_complete(job, job_key(job, pdf, library), pdf):
                record = read_record(job.out) or {}
                result = ReportResult(job.name, str(job.out), "skipped",
                                      "complete and up to date (not made again)",
                                      summary=record.get("summary", {}))
        except CourseError as err:
            result = ReportResult(job.name, str(job.out), "failed", str(err))
        if result is None:
            todo.append(job)
        else:
            results[job.name] = result
            bar.update()
    write_index(out, jobs, results)
    if not todo:
        bar.close()
        return [results[j.name] for j in jobs]
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise CourseError(f"cannot connect to the Dask scheduler at {scheduler}: {err}") \
                    from None
        else:
            import logging

            cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
            client = Client(cluster)
        with client:
            futures = {client.submit(run_job, job, pdf, force, library, pure=False,
                                     key=f"report-{job.name}-{uuid.uuid4().hex[:6]}"): job
                       for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001 - a worker died, or could not import
                    result = ReportResult(job.name, str(job.out), "failed",
                                          f"{type(err).__name__}: {err}" + _remote_hint(scheduler))
                results[job.name] = result
                bar.set_postfix_str(f"{job.name}: {result.status}")
                bar.update()
                write_index(out, jobs, results)
    finally:
        bar.close()
        if cluster is not None:
            cluster.close()
    return [results[j.name] for j in jobs]


def check_batch_outputs(out: Path, jobs: list[ReportJob]) -> None:
    """Refuse the whole batch, before any work, if any folder it would write is not ours."""
    data_files = [job.data for job in jobs]
    problems = []
    try:
        check_batch_folder(out, protected=data_files)
    except OutputFolderRefused as err:
        problems.append(str(err))
    for job in jobs:
        try:
            check_report_folder(job.out, protected=data_files)
        except OutputFolderRefused as err:
            problems.append(f"job {job.name!r}: {err}".replace("--out ", "its folder "))
    if problems:
        raise OutputFolderRefused("nothing was run or written:\n  " + "\n  ".join(problems))


def _remote_hint(scheduler) -> str:
    if not scheduler:
        return ""
    return (" (with --scheduler the workers need this repository on their PYTHONPATH and "
            "the data and output folders at the same paths)")


# --- the summary table -------------------------------------------------------------------
_STATUS_STYLE = {"ok": "#1e7b34", "skipped": "#1e7b34", "warning": "#a05a00",
                 "failed": "#b3261e", "pending": "#5b6570"}


def write_index(out: Path, jobs: list[ReportJob], results: dict) -> Path:
    """``out/index.html``: one row per job, linking its page and PDF, with status and error."""
    out = Path(out)
    rows = []
    for job in jobs:
        res = results.get(job.name)
        status = res.status if res else "pending"
        complete = (job.out / PAGE).is_file() and status != "failed"
        rel = os.path.relpath(job.out, out)
        links = (f'<a href="{html.escape(rel)}/{PAGE}">page</a>'
                 + (f' · <a href="{html.escape(rel)}/{PDF}">PDF</a>'
                    if (job.out / PDF).is_file() else "")) if complete else ""
        summary = res.summary if res else {}
        aic = summary.get("aic")
        winner = (summary.get("comparison") or {}).get("winner")
        message = res.message if res else ""
        rows.append(
            "<tr>"
            f"<td>{html.escape(job.name)}</td>"
            f"<td>{html.escape(job.title or '')}</td>"
            f"<td><code>{html.escape(job.data.name)}</code></td>"
            f"<td><code>{html.escape(job.formula)}</code><br>{html.escape(job.family)}"
            f"{' (' + html.escape(job.link) + ')' if job.link else ''}</td>"
            f'<td style="color:{_STATUS_STYLE.get(status, "#000")};font-weight:600">'
            f"{html.escape(status)}</td>"
            f"<td>{'' if aic is None else f'{aic:.1f}'}</td>"
            f"<td>{html.escape(str(winner or ''))}</td>"
            f"<td>{links}</td>"
            f'<td class="msg">{html.escape(message)}</td>'
            "</tr>"
        )
    counts = {}
    for job in jobs:
        st = results[job.name].status if job.name in results else "pending"
        counts[st] = counts.get(st, 0) + 1
    tally = ", ".join(f"{n} {st}" for st, n in counts.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reports</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5rem; color: #1d232a; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #d8dde3; padding: 0.3rem 0.6rem; text-align: left;
         vertical-align: top; }}
th {{ background: #f3f5f7; }}
td.msg {{ white-space: pre-wrap; font-family: monospace; font-size: 0.8rem; max-width: 40rem; }}
code {{ font-size: 0.85rem; }}
</style></head>
<body>
<h1>Reports</h1>
<p>{len(jobs)} job(s): {html.escape(tally)}. Updated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>
<table>
<thead><tr><th>name</th><th>title</th><th>data</th><th>model</th><th>status</th><th>AIC</th>
<th>AIC prefers</th><th>report</th><th>message</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
    target = out / "index.html"
    write_atomically(target, page)
    return target


# --- command line ------------------------------------------------------------------------
def add_parser(sub) -> None:
    """The ``report`` subcommand (registered by :mod:`course.cli`)."""
    report = sub.add_parser(
        "report",
        help="the course's analysis of your data: a web page and a PDF report",
        description=(
            "Fit a GLMM to a data file (CSV, TSV, Parquet or Excel) and write a report "
            "(data, model equations, fit, simulated residuals, comparison with alternative "
            "families, marginal means and pairwise comparisons) as OUT/index.html and "
            "OUT/report.pdf. With --batch, one report per row of a jobs file, run in parallel "
            "on Dask, with a summary table OUT/index.html."
        ),
    )
    report.add_argument("data", nargs="?", type=Path,
                        help="the data file (.csv, .tsv, .parquet, .xlsx); not with --batch")
    report.add_argument("--formula", "-f", help='the model, e.g. "y ~ trt + (1|block)"; quote '
                        "column names with spaces in backticks: `dry weight`")
    report.add_argument("--family", help="poisson, nbinom1, nbinom2, binomial, gaussian, "
                        "gamma, beta, t")
    report.add_argument("--link", help="the link function (default: the family's)")
    report.add_argument("--means", help='factor(s) whose marginal means are compared: "trt", '
                        '"extract*gen", "~ extract | gen"')
    report.add_argument("--title", help="the report's title")
    report.add_argument("--factor", action="append", default=[], dest="factors",
                        metavar="COLUMN", help="use this numeric column as a factor (repeatable)")
    report.add_argument("--sheet", help="the Excel sheet: its name, or its number counting from 0 (default: the first)")
    report.add_argument("--n-sim", type=int, default=250,
                        help="simulations for the residual checks (default 250)")
    report.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    report.add_argument("--out", "-o", type=Path, default=None,
                        help="the report's folder (default reports/<data file name>); with "
                        "--batch, the folder of all reports and the summary (default reports)")
    report.add_argument("--batch", type=Path, metavar="JOBS",
                        help="a .csv or .yaml file with one report per row: fields data, "
                        "formula, family and optionally name, means, link, title, n_sim, seed, "
                        "factors, sheet")
    report.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 2),
                        help="--batch: workers of the local Dask cluster (default: CPUs, max 4)")
    report.add_argument("--scheduler", metavar="ADDRESS",
                        help="--batch: use a running Dask scheduler, e.g. tcp://host:8786")
    report.add_argument("--force", action="store_true", help="make reports again even if complete")
    report.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    report.add_argument("--quiet", "-q", action="store_true", help="less output")


def _sheet(value):
    if value is None:
        return None
    return int(value) if str(value).isdigit() else value


def cmd_report(args) -> int:
    from .errors import UsageError

    progress = not args.quiet
    if args.batch:
        if args.data is not None:
            raise UsageError("give either a data file or --batch JOBS, not both")
        out = args.out or DEFAULT_OUT
        jobs = read_jobs(args.batch, out)
        if progress:
            where = args.scheduler or f"a local Dask cluster with {args.workers} worker(s)"
            print(f"{len(jobs)} report(s) from {args.batch} on {where}", flush=True)
        results = run_batch(jobs, out, workers=args.workers, scheduler=args.scheduler,
                            pdf=not args.no_pdf, force=args.force, progress=progress)
        failed = [r for r in results if r.status == "failed"]
        counts = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        print(f"\n{len(results)} report(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        for r in results:
            if r.status in ("failed", "warning"):
                print(f"  {r.name}: {r.status}: {r.message.splitlines()[0] if r.message else ''}",
                      file=sys.stderr)
        print(f"Summary: {Path(out) / 'index.html'}")
        return 1 if failed else 0

    if args.data is None:
        raise UsageError("give a data file (python -m course report DATA --formula ... "
                         "--family ...) or --batch JOBS")
    missing = [opt for opt, value in (("--formula", args.formula), ("--family", args.family))
               if not value]
    if missing:
        raise UsageError(f"missing {' and '.join(missing)}, e.g. --formula \"y ~ trt + "
                         "(1|block)\" --family nbinom1")
    out = args.out or DEFAULT_OUT / args.data.stem
    job = ReportJob(data=args.data, formula=args.formula, family=args.family, out=out,
                    means=args.means, link=args.link, title=args.title, n_sim=args.n_sim,
                    seed=args.seed, factors=args.factors, sheet=_sheet(args.sheet))
    if progress:
        print(f"Report {out}: running the analysis ...", flush=True)
    result = make_report(job, pdf=not args.no_pdf, force=args.force, progress=progress)
    if result.status == "skipped":
        print(f"{out} is complete and up to date (use --force to make it again)")
    if result.status == "warning":
        print(f"warning: {result.message}", file=sys.stderr)
    page = Path(result.out) / PAGE
    print(f"Report: {_shown(page)}")
    if not args.no_pdf:
        print(f"PDF:    {_shown(Path(result.out) / PDF)}")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
