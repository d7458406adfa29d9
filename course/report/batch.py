"""Many reports at once: one job a Dask task, on a local cluster or a running scheduler,
with the summary page (:mod:`.index_page`) rewritten as results come in."""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from ..errors import CourseError
from .folder import (OutputFolderRefused, check_batch_folder, check_report_folder,
                     write_batch_manifest)
from .index_page import write_index
from .jobs import ReportJob, ReportResult, check_job
from .make import report_kernel, current_library, is_complete, job_key, make_report, read_record

#: Seconds the batch waits with no worker alive before it gives up (--timeout).
WORKER_TIMEOUT = 120.0
#: Seconds between looks at the scheduler while no report finishes.
POLL = 1.0


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
              pdf: bool = True, force: bool = False, progress: bool = True,
              timeout: float = WORKER_TIMEOUT) -> list[ReportResult]:
    """Run ``jobs`` in parallel on Dask; write ``out/index.html``; return the results in order.

    A local cluster of ``workers`` processes (one thread each) unless
    ``scheduler`` is the address of a running Dask scheduler, whose workers (and
    the scheduler itself, which unpickles the tasks) must import this
    repository's ``course`` and see the data and ``out`` folders at the same
    paths (a shared file system).

    With no worker alive for ``timeout`` seconds (none joined, or all died) the
    batch gives up; a scheduler that goes away ends it too; Ctrl-C as well. In
    each case the summary page says which jobs finished (a report that a
    worker completed is found on disk) and which were interrupted, and one
    :class:`CourseError` (or the KeyboardInterrupt) says what happened.
    """
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
    run = _Run(jobs, out, results, bar, pdf, library, scheduler)
    try:
        with _quiet_dask():
            run.execute(todo, workers, force, timeout)
    except KeyboardInterrupt:
        run.stop("interrupted (Ctrl-C) before it finished")
        raise
    except CourseError as err:
        run.stop(str(err).splitlines()[0])
        raise
    finally:
        bar.close()
    return [results[j.name] for j in jobs]


class _Run:
    """The Dask part of a batch: submit, collect, and on a stop mark what did not finish."""

    def __init__(self, jobs, out, results, bar, pdf, library, scheduler):
        self.jobs, self.out, self.results, self.bar = jobs, out, results, bar
        self.pdf, self.library, self.scheduler = pdf, library, scheduler

    def record(self, job, result):
        self.results[job.name] = result
        self.bar.set_postfix_str(f"{job.name}: {result.status}")
        self.bar.update()
        write_index(self.out, self.jobs, self.results)

    def execute(self, todo, workers, force, timeout):
        from dask.distributed import Client, LocalCluster

        cluster = None
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise CourseError(f"cannot connect to the Dask scheduler at {self.scheduler}: "
                                  f"{err}") from None
        else:
            cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
            client = Client(cluster)
        try:
            futures = {client.submit(run_job, job, self.pdf, force, self.library, pure=False,
                                     key=f"report-{job.name}-{uuid.uuid4().hex[:6]}"): job
                       for job in todo}
            self.collect(client, futures, timeout)
        finally:
            _close(client, cluster)

    def collect(self, client, futures, timeout):
        from dask.distributed import wait

        pending, idle_since = set(futures), None
        while pending:
            try:
                done, pending = wait(pending, timeout=POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            except Exception as err:  # noqa: BLE001 - the scheduler went away
                raise CourseError(self.lost(err)) from None
            for future in done:
                job = futures[future]
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001 - a worker died, or could not import
                    if client.status in ("closed", "closing") or _lost(err):
                        raise CourseError(self.lost(err)) from None
                    result = ReportResult(job.name, str(job.out), "failed",
                                          _remote_failure(self.scheduler, err))
                self.record(job, result)
            if done:
                idle_since = None
                continue
            try:
                alive = len(client.scheduler_info()["workers"])
            except Exception as err:  # noqa: BLE001
                raise CourseError(self.lost(err)) from None
            if alive:
                idle_since = None
                self.bar.set_description("Reports")
                continue
            idle_since = idle_since or time.monotonic()
            self.bar.set_description(f"Reports (waiting for workers, "
                                     f"{time.monotonic() - idle_since:.0f}/{timeout:.0f} s)")
            if time.monotonic() - idle_since > timeout:
                where = self.scheduler or "the local cluster"
                raise CourseError(
                    f"no Dask worker was alive at {where} for {timeout:.0f} s, so the batch "
                    "stopped (--timeout); start workers (dask worker ADDRESS) and run it again: "
                    "finished reports are not made again")

    def lost(self, err) -> str:
        return (f"lost the Dask scheduler at {self.scheduler or 'the local cluster'} "
                f"({type(err).__name__}); the summary page says which reports finished")

    def stop(self, why: str):
        """Every job without a result: finished if its report is complete on disk (a worker
        may finish after the scheduler died), else interrupted; then the summary page."""
        for job in self.jobs:
            if job.name in self.results:
                continue
            record = read_record(job.out) or {}
            if is_complete(job, job_key(job, self.pdf, self.library), self.pdf):
                self.results[job.name] = ReportResult(
                    job.name, str(job.out), record.get("status", "ok"), record.get("message", ""),
                    summary=record.get("summary", {}))
            else:
                self.results[job.name] = ReportResult(job.name, str(job.out), "interrupted", why)
        write_index(self.out, self.jobs, self.results)


def _lost(err) -> bool:
    """The error of a future whose scheduler went away (not the job's own failure)."""
    from distributed.comm.core import CommClosedError

    return isinstance(err, (CommClosedError, ConnectionError))


def _close(client, cluster):
    """Close the client and the local cluster, quietly: after a lost scheduler closing
    them raises or waits, which must not hide the message that says what happened."""
    for thing in (client, cluster):
        if thing is None:
            continue
        try:
            thing.close(timeout=5) if thing is client else thing.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


@contextmanager
def _quiet_dask():
    """Dask logs every lost connection with a traceback; the batch says it in one line.

    Every logger of distributed, tornado and asyncio is silenced (distributed's own
    configuration gives some of them their own level), and left silent when the batch
    stops on an error: the client's threads may still log while the command exits."""
    import distributed  # noqa: F401 - its loggers exist once it is imported

    prefixes = ("distributed", "tornado", "asyncio")
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name.split(".")[0] in prefixes]
    loggers += [logging.getLogger(name) for name in prefixes]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


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


def _remote_failure(scheduler, err) -> str:
    """The message of a job that failed outside the report (in Dask): the fix first."""
    error = f"{type(err).__name__}: {err}"
    if not scheduler:
        return error
    if "deserializ" in str(err).lower():
        return ("the Dask scheduler could not read the task: start the scheduler, like the "
                "workers, where `import course` works (this repository on its PYTHONPATH). "
                + error)
    return (error + " (with --scheduler the workers, and the scheduler, need this repository "
            "on their PYTHONPATH and the data and output folders at the same paths)")
