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

The package, one concept a module:

- :mod:`.jobs`: :class:`ReportJob`, :func:`check_job`, :func:`read_jobs`;
- :mod:`.make`: :func:`make_report` (one report) and its cache key :func:`job_key`;
- :mod:`.batch`: :func:`run_batch` on Dask; :mod:`.index_page`: its summary page;
- :mod:`.folder`: which output folders a report may write or replace (a user's
  files are never overwritten);
- :mod:`.cli`: the ``report`` subcommand;
- what the report notebook uses: :mod:`.inputs` (reading the data file, the
  means asked for), :mod:`.data_section`, :mod:`.refits` (the model
  comparison), :mod:`.prose` (the results in words), :mod:`.banners` (notes,
  warnings and sections that fail in place).
"""

from .batch import check_batch_outputs, run_batch, run_job
from .cli import add_parser, cmd_report
from .folder import OutputFolderRefused, move_into_place
from .index_page import write_index
from .jobs import JOB_FIELDS, ReportJob, ReportResult, check_job, read_jobs
from .make import PAGE, PDF, is_complete, job_key, make_report

__all__ = ["ReportJob", "ReportResult", "JOB_FIELDS", "check_job", "read_jobs", "make_report",
           "job_key", "is_complete", "run_job", "run_batch", "check_batch_outputs",
           "write_index", "OutputFolderRefused", "move_into_place", "add_parser", "cmd_report",
           "PAGE", "PDF"]
