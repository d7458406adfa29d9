"""Making one report: the notebook executed, rendered to a page and printed to a PDF,
in a temporary folder moved into place only when complete (:mod:`.folder`); a
report whose inputs have not changed (:func:`job_key`) is not made again."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from ..cache_key import cache_key, json_part
from ..errors import CourseError, LessonFailed
from .folder import (MADE_BY, RECORD, TEMP_MARKER, check_report_folder, clean_stale, files_in,
                     move_into_place, new_temporary_folder, read_manifest)
from .jobs import ReportJob, ReportResult, check_job

COURSE = Path(__file__).resolve().parent.parent
#: Bump when what a report contains changes, so complete reports are made again.
REPORT_FORMAT = 3
TEMPLATE = COURSE / "templates" / "report.md"
#: The code that makes a report's content besides the notebook (part of its cache key).
REPORT_CODE = tuple(COURSE / f for f in (
    "report/inputs.py", "report/reading.py", "text_tables.py", "report/data_section.py",
    "report/refits.py", "report/prose.py", "report/banners.py", "report/page_tables.py",
    "report/many_means.py", "nbhtml.py", "lessonkit/equations.py", "lessonkit/tables.py",
    "lessonkit/figure_text.py"))
PAGE = "index.html"
PDF = "report.pdf"
NOTEBOOK = "report.ipynb"
RESULT = "report-result.json"


# --- the record that marks a complete report ----------------------------------------------
def current_library() -> str:
    from ..execute import library_fingerprint
    from ..project import Project

    return library_fingerprint(Project())


def job_key(job: ReportJob, pdf: bool, library: str | None = None) -> str:
    """The cache key of a report: data bytes, parameters, the notebook and its helpers,
    the library (``library``: :func:`course.execute.library_fingerprint`), and whether a
    PDF is made."""
    params = job.parameters(RESULT)
    params.pop("data_path")
    code = [(f"code {path.relative_to(COURSE).as_posix()}", path.read_bytes())
            for path in (TEMPLATE, *REPORT_CODE)]
    return cache_key([("report format", str(REPORT_FORMAT)), ("parameters", json_part(params)),
                      ("data", job.data.read_bytes()), *code,
                      ("library", library or current_library()),
                      ("pdf", "pdf" if pdf else "no-pdf")])


def read_record(out: Path) -> dict | None:
    return read_manifest(out)


def is_complete(job: ReportJob, key: str, pdf: bool) -> bool:
    record = read_record(job.out)
    if not record or record.get("key") != key or not record.get("complete"):
        return False
    needed = [PAGE] + ([PDF] if pdf else [])
    return all((job.out / f).is_file() for f in needed)


# --- one report --------------------------------------------------------------------------
def report_kernel() -> str:
    """The course kernel (this Python, the repository on its path), for the report notebook.

    Its spec goes to a folder of the system's temporary directory, so that a
    report writes nothing into the repository; one folder per checkout (the spec
    names the repository the kernel imports, and two checkouts must not share it)."""
    import hashlib
    import tempfile

    from ..execute import ensure_kernel
    from ..project import REPO_ROOT, Project

    user = os.getuid() if hasattr(os, "getuid") else "user"
    checkout = hashlib.sha256(str(REPO_ROOT.resolve()).encode()).hexdigest()[:10]
    return ensure_kernel(Project(out=Path(tempfile.gettempdir())
                                 / f"glmm-course-kernel-{user}-{checkout}"))


def make_report(job: ReportJob, *, pdf: bool = True, force: bool = False,
                progress: bool = False, library: str | None = None) -> ReportResult:
    """Make one report (or skip it when complete); raises :class:`CourseError` on failure.

    Nothing is written at ``job.out`` unless the whole report was made.
    """
    import nbformat

    from ..execute import run_notebook
    from ..nbhtml import write_page

    started = time.perf_counter()
    job = ReportJob(**{**asdict(job), "data": Path(job.data), "out": Path(job.out).absolute()})
    check_report_folder(job.out, protected=[job.data])
    check_job(job)
    if pdf:
        from ..handouts import find_chromium

        find_chromium()
    library = library or current_library()
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
            nb = run_notebook(TEMPLATE, tmp / NOTEBOOK, params, cwd=tmp, kernel_name=report_kernel(),
                              name=f"report {job.name}", source_file=TEMPLATE,
                              progress_bar=progress)
        except LessonFailed as err:
            raise CourseError(_notebook_failure(job, err)) from None
        phases["notebook"] = round(time.perf_counter() - mark, 1)
        summary = json.loads((tmp / RESULT).read_text())
        (tmp / RESULT).unlink()
        write_page(nb, tmp / PAGE, params["title"])
        if pdf:
            from ..handouts import print_pdf

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
