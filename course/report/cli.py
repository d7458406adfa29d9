"""``python -m course report``: the command line of one report or a batch of them."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .batch import WORKER_TIMEOUT, run_batch
from .folder import OutputFolderRefused
from .jobs import ReportJob, read_jobs
from .inputs import MAX_LEVELS
from .make import PAGE, PDF, make_report

DEFAULT_OUT = Path("reports")


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
    report.add_argument("--sep", help="text files: the separator (, ; tab |); found from the "
                        "file when not given")
    report.add_argument("--decimal", help="text files: the decimal mark (. or ,); found from "
                        "the file when not given (e.g. 12,5 in a ;-separated file)")
    report.add_argument("--encoding", help="text files: the encoding (default: UTF-8, with "
                        "or without BOM, else cp1252, said in a note), e.g. latin-1")
    reml = report.add_mutually_exclusive_group()
    reml.add_argument("--reml", action="store_true", default=None,
                      help="fit by REML (the default for gaussian identity-link models, as "
                      "lme4's lmer)")
    reml.add_argument("--ml", dest="reml", action="store_false", default=None,
                      help="fit by maximum likelihood (the default for other families)")
    report.add_argument("--ziformula", help='zero inflation for counts, e.g. "~1" or "~trt"')
    report.add_argument("--dispformula", help='a model of the dispersion, e.g. "~trt"')
    report.add_argument("--weights", metavar="COLUMN", help="a column of prior weights")
    report.add_argument("--reference", action="append", default=[], dest="references",
                        metavar="COLUMN=LEVEL", help="the level each other level of a factor "
                        "is compared with in the estimates, e.g. trt=control (repeatable; "
                        "default: the first in sorted order)")
    report.add_argument("--max-levels", type=int, metavar="N",
                        help=f"allow fixed factors with up to N levels (default "
                        f"{MAX_LEVELS}; more make a slow fit and long tables)")
    report.add_argument("--n-sim", type=int, default=250,
                        help="simulations for the residual checks (default 250)")
    report.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    report.add_argument("--out", "-o", type=Path, default=None,
                        help="the report's folder (default reports/<data file name>); with "
                        "--batch, the folder of all reports and the summary (default reports)")
    report.add_argument("--batch", type=Path, metavar="JOBS",
                        help="a .csv or .yaml file with one report per row: fields data, "
                        "formula, family and optionally name, means, link, title, n_sim, seed, "
                        "factors, sheet, sep, decimal, encoding, reml, ziformula, dispformula, "
                        "weights, reference, max_levels")
    report.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 2),
                        help="--batch: workers of the local Dask cluster (default: CPUs, max 4)")
    report.add_argument("--scheduler", metavar="ADDRESS",
                        help="--batch: use a running Dask scheduler, e.g. tcp://host:8786")
    report.add_argument("--timeout", type=float, default=WORKER_TIMEOUT, metavar="SECONDS",
                        help="--batch: give up when no Dask worker has been alive for this "
                        f"long (default {WORKER_TIMEOUT:.0f})")
    report.add_argument("--force", action="store_true", help="make reports again even if complete")
    report.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    report.add_argument("--quiet", "-q", action="store_true", help="less output")


def _sheet(value):
    if value is None:
        return None
    return int(value) if str(value).isdigit() else value


def cmd_report(args) -> int:
    from ..errors import CourseError, UsageError

    progress = not args.quiet
    if args.batch:
        if args.data is not None:
            raise UsageError("give either a data file or --batch JOBS, not both")
        out = args.out or DEFAULT_OUT
        jobs = read_jobs(args.batch, out)
        if progress:
            where = args.scheduler or f"a local Dask cluster with {args.workers} worker(s)"
            print(f"{len(jobs)} report(s) from {args.batch} on {where}", flush=True)
        try:
            results = run_batch(jobs, out, workers=args.workers, scheduler=args.scheduler,
                                pdf=not args.no_pdf, force=args.force, progress=progress,
                                timeout=args.timeout)
        except OutputFolderRefused:
            raise
        except CourseError as err:       # the batch stopped: the summary says what finished
            raise CourseError(f"{err}\nSummary: {Path(out) / 'index.html'}",
                              exit_code=err.exit_code) from None
        except KeyboardInterrupt:
            print(f"Summary: {Path(out) / 'index.html'}", file=sys.stderr)
            raise
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
                    seed=args.seed, factors=args.factors, sheet=_sheet(args.sheet),
                    sep=args.sep, decimal=args.decimal, encoding=args.encoding, reml=args.reml,
                    ziformula=args.ziformula, dispformula=args.dispformula,
                    weights=args.weights, references=args.references,
                    max_levels=args.max_levels)
    if progress:
        print(f"Report {out}: running the analysis ...", flush=True)
    with _kernel_stderr_aside():
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


@contextmanager
def _kernel_stderr_aside():
    """Give the processes this command starts (the notebook's kernel) a scratch file as
    their standard error, while this process keeps the terminal's.

    On Ctrl-C the kernel's sockets close under it and it prints a ZMQError traceback,
    which would bury the one line that says the report was interrupted."""
    sys.stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        ours = os.fdopen(os.dup(terminal), "w", buffering=1, encoding="utf-8",
                         errors="replace")
        previous, sys.stderr = sys.stderr, ours
        try:
            yield
        finally:
            sys.stderr = previous
            ours.close()
            os.dup2(terminal, 2)
            os.close(terminal)
