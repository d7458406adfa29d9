"""Running many independent simulations: in this process or on Dask, in chunks, with a
progress bar, results kept per chunk so that an interrupted run resumes.

A *job* is a picklable callable ``job(sim, seed) -> dict``: simulation number ``sim``
with its own ``numpy.random.SeedSequence``, returning one row of results (plain
numbers and strings).  Simulation ``sim`` always gets the child ``sim`` of the run's
seed (what ``SeedSequence(seed).spawn`` would hand out), so the results do not depend
on the number of workers, the chunk size or which chunks were resumed.

Workers: ``workers=0`` or ``1`` runs in this process (no Dask); ``workers=n`` starts a
local Dask cluster of ``n`` single-threaded processes; ``scheduler="tcp://host:8786"``
uses a running cluster.  A chunk whose worker is lost is submitted again (up to
``MAX_RETRIES`` times) and counted in ``RunInfo.retried``.  On a local cluster a lost
worker fails its task at once (no silent rescheduling), so every retry is counted; a
remote scheduler may also reschedule on its own, following its configuration.

``store=folder`` writes each finished chunk to ``folder/chunk-<first>-<last>.parquet``
next to ``run.json`` (what the run is: its seed and settings); ``resume=True`` reads the
chunks already there and runs only the missing simulations.
"""
from __future__ import annotations

import contextlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import GLMMInputError

MAX_RETRIES = 3
CHUNKS_PER_WORKER = 8       # enough chunks to balance uneven fit times, few enough to be cheap


@dataclass
class RunInfo:
    nsim: int
    seed: int               # the run's seed (chosen from fresh entropy when none was given)
    computed: int           # simulations run now
    resumed: int            # simulations read back from the store
    retried: int            # chunks submitted again after a worker was lost
    workers: int


def simulation_seed(seed, sim):
    """The SeedSequence of simulation ``sim``: child ``sim`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(int(sim),))


def run_chunk(job, seed, sims):
    """Run ``job`` for the simulations ``sims``; one row each, in order."""
    rows = []
    for sim in sims:
        row = dict(job(int(sim), simulation_seed(seed, sim)))
        row["sim"] = int(sim)
        rows.append(row)
    return pd.DataFrame(rows)


def _check_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GLMMInputError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_counts(nsim, workers, chunk_size):
    for name, value, least in (("nsim", nsim, 1), ("workers", workers, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise GLMMInputError(f"{name} must be an integer >= {least}, got {value!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or
                                   not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1):
        raise GLMMInputError(f"chunk_size must be a positive integer, got {chunk_size!r}")


class ChunkStore:
    """Chunks of results as Parquet files in one folder, with the run's description."""

    def __init__(self, folder, description, resume):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "run.json"
        described = json.loads(json.dumps(description, default=str))
        existing = sorted(self.folder.glob("chunk-*.parquet"))
        if meta.exists():
            before = json.loads(meta.read_text())
            if before != described:
                raise GLMMInputError(
                    f"the folder {str(self.folder)!r} holds results of a different run "
                    f"({before}); use another folder for this one ({described})")
        if existing and not resume:
            raise GLMMInputError(f"the folder {str(self.folder)!r} already holds "
                                 f"{len(existing)} chunks of this run: pass resume=True to "
                                 "continue it, or give an empty folder")
        meta.write_text(json.dumps(described, indent=1))

    def load(self):
        frames = [pd.read_parquet(p) for p in sorted(self.folder.glob("chunk-*.parquet"))]
        return pd.concat(frames, ignore_index=True) if frames else None

    def save(self, chunk: pd.DataFrame):
        first, last = int(chunk["sim"].min()), int(chunk["sim"].max())
        path = self.folder / f"chunk-{first:07d}-{last:07d}.parquet"
        partial = path.with_suffix(".part")
        chunk.to_parquet(partial, index=False)
        partial.replace(path)           # a chunk is either complete or absent


def _chunks(sims, chunk_size):
    return [sims[i:i + chunk_size] for i in range(0, len(sims), chunk_size)]


def _progress(total, label, enabled):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=label, disable=not enabled, unit="sim")


def run(job, nsim, seed=None, *, workers=1, scheduler=None, chunk_size=None, store=None,
        resume=False, progress=True, label="simulations", description=None):
    """Run ``job`` for simulations 0 .. nsim - 1; a DataFrame (one row per simulation,
    sorted by the column ``sim``) and the RunInfo.  ``description``: what identifies
    the run in a store (JSON-able); the seed and nsim are added to it."""
    _check_counts(nsim, workers, chunk_size)
    seed = _check_seed(seed)
    if resume and store is None:
        raise GLMMInputError("resume=True needs store= (the folder the interrupted run wrote)")
    n_workers = max(1, workers)
    if chunk_size is None:
        chunk_size = max(1, math.ceil(nsim / (n_workers * CHUNKS_PER_WORKER)))
    saved = None
    store_ = None
    if store is not None:
        store_ = ChunkStore(store, {**(description or {}), "seed": seed}, resume)
        saved = store_.load()
    done = set() if saved is None else set(saved["sim"].tolist())
    todo = [s for s in range(nsim) if s not in done]
    chunks = _chunks(todo, chunk_size)
    results = [] if saved is None else [saved[saved["sim"] < nsim]]
    retried = 0
    with _progress(nsim, label, progress) as bar:
        bar.update(nsim - len(todo))

        def finished(chunk):
            if store_ is not None:
                store_.save(chunk)
            results.append(chunk)
            bar.update(len(chunk))

        if scheduler is None and workers <= 1:
            for sims in chunks:
                finished(run_chunk(job, seed, sims))
        elif chunks:
            retried = _run_on_dask(job, seed, chunks, workers, scheduler, finished)
    table = pd.concat(results, ignore_index=True).sort_values("sim", kind="stable")
    table = table.reset_index(drop=True)
    info = RunInfo(nsim, seed, len(todo), nsim - len(todo), retried,
                   0 if scheduler is None and workers <= 1 else n_workers)
    return table, info


def _lost_worker_errors():
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError
    return (KilledWorker, CommClosedError, ConnectionError)


@contextlib.contextmanager
def local_cluster(workers, scheduler=None):
    """The address of a Dask scheduler for several runs: ``scheduler`` itself, None for
    ``workers <= 1`` (in-process), or a local cluster of ``workers`` single-threaded
    processes, started once and closed on leaving.

    On Linux the workers are forked from this process: they start with glmm_lib and the
    model's code already imported, in a tenth of a second.  Spawned workers (Dask's
    default, and the only way on Windows; fork is unsafe on macOS) each start a fresh
    interpreter and import everything again, which cost 2-3 s, and 1 s more to close:
    on 2 cores, more than half the time of a 1000-refit bootstrap on one worker."""
    if scheduler is not None or workers <= 1:
        yield scheduler
        return
    try:
        import dask
        from distributed import LocalCluster
    except ImportError:
        raise GLMMInputError("workers > 1 and scheduler= need Dask: pip install "
                             "'dask[distributed]' (or run with workers=1)") from None
    # a worker's death fails its task at once, so the runner sees and counts the retry
    settings = {"distributed.scheduler.allowed-failures": 0}
    if sys.platform.startswith("linux"):
        settings["distributed.worker.multiprocessing-method"] = "fork"
    with dask.config.set(settings):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _run_on_dask(job, seed, chunks, workers, scheduler, finished):
    from distributed import Client, as_completed

    lost = _lost_worker_errors()
    retried = 0
    with local_cluster(workers, scheduler) as address:
        client = Client(address)
        try:
            shared = client.scatter(job, broadcast=True)
            attempts = {}
            pending = as_completed()
            for sims in chunks:
                future = client.submit(run_chunk, shared, seed, sims, pure=False)
                attempts[future.key] = (sims, 0)
                pending.add(future)
            for future in pending:
                sims, tries = attempts.pop(future.key)
                try:
                    chunk = future.result()
                except lost:
                    if tries >= MAX_RETRIES:
                        raise
                    retried += 1
                    again = client.submit(run_chunk, shared, seed, sims, pure=False)
                    attempts[again.key] = (sims, tries + 1)
                    pending.add(again)
                    continue
                finished(chunk)
        finally:
            client.close()
    return retried
