"""The summary page of a batch, ``<out>/index.html``: one row per job, linking its
page and PDF, with its status and any error. The page is the template
``course/templates/report_index.html``; this module only gathers the values."""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path

from .folder import write_atomically
from .jobs import ReportJob
from .make import PAGE, PDF

INDEX_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "report_index.html"


def _escaped(value):
    """Every value shown is HTML-escaped (quotes too: values also fill attributes)."""
    from markupsafe import Markup

    return Markup(html.escape("" if value is None else str(value)))


def _row(job: ReportJob, result, out: Path) -> dict:
    status = result.status if result else "pending"
    complete = (job.out / PAGE).is_file() and status != "failed"
    rel = os.path.relpath(job.out, out)
    summary = result.summary if result else {}
    aic = summary.get("aic")
    return {
        "name": job.name, "title": job.title or "", "data": job.data.name,
        "formula": job.formula, "family": job.family, "link": job.link, "status": status,
        "aic": "" if aic is None else f"{aic:.1f}",
        "winner": (summary.get("comparison") or {}).get("winner") or "",
        "page": f"{rel}/{PAGE}" if complete else None,
        "pdf": f"{rel}/{PDF}" if complete and (job.out / PDF).is_file() else None,
        "message": result.message if result else "",
    }


def write_index(out: Path, jobs: list[ReportJob], results: dict) -> Path:
    """Write ``out/index.html`` for ``jobs`` and the ``results`` so far (by job name)."""
    from jinja2 import Environment, FileSystemLoader

    out = Path(out)
    counts = {}
    for job in jobs:
        status = results[job.name].status if job.name in results else "pending"
        counts[status] = counts.get(status, 0) + 1
    env = Environment(loader=FileSystemLoader(INDEX_TEMPLATE.parent), autoescape=True,
                      finalize=_escaped, trim_blocks=True, lstrip_blocks=True)
    page = env.get_template(INDEX_TEMPLATE.name).render(
        rows=[_row(job, results.get(job.name), out) for job in jobs],
        tally=", ".join(f"{n} {status}" for status, n in counts.items()),
        updated=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
    )
    target = out / "index.html"
    write_atomically(target, page)
    return target
