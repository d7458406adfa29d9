"""Many reports at once: one job a Dask task, on a local cluster or a running scheduler,
with the summary page (:mod:`.index_page`) rewritten as results come in."""

from __future__ import annotations

import time
import traceback
import uuid
from dataclasses import asdict
from pathlib import Path

from ..errors import CourseError
from .folder import (OutputFolderRefused, check_batch_folder, check_report_folder,
                     write_batch_manifest)
from .index_page import write_index
from .jobs import ReportJob, ReportResult, check_job
from .make import report_kernel, current_library, is_complete, job_key, make_report, read_record


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
        from ..handouts import find_chromium

        find_chromium()
    report_kernel()  # write the kernel spec once, before the workers look for it
    library = current_library()
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
