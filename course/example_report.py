"""The example report the site links from its page "Analyse your own data".

``python -m course build`` makes it with the report command's own machinery
(:func:`course.report.make_report`, which skips a report that is complete and
up to date) from a shipped data set, the webworm counts, and copies it into the
site at ``example-report/``. The page shows what a report on one's own data
contains without anyone having to run the command first.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .project import Project

#: The example: the webworm counts with blocks and plots, as the Day 3 page fits them.
EXAMPLE = {
    "data": "data/beall_webworms.csv",
    "formula": "y ~ trt + (1|block) + (1|block:trt)",
    "family": "nbinom1",
    "means": "trt",
    "title": "Example report: webworm larvae per unit area (Beall 1940)",
}
#: Where the report lands in the site (the page links to SITE_FOLDER/index.html).
SITE_FOLDER = "example-report"


def build_example_report(project: Project, *, force: bool = False, progress: bool = True) -> Path:
    """Make (or reuse) the example report and copy it into the site; returns its index.html."""
    from .report import ReportJob
    from .report.make import make_report

    made = project.build_dir / SITE_FOLDER
    job = ReportJob(data=project.root / EXAMPLE["data"], formula=EXAMPLE["formula"],
                    family=EXAMPLE["family"], out=made, means=EXAMPLE["means"],
                    title=EXAMPLE["title"])
    if progress:
        print("Example report (python -m course report) ...", flush=True)
    make_report(job, pdf=True, force=force, progress=False)
    target = project.html_dir / SITE_FOLDER
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(made, target)
    return target / "index.html"
