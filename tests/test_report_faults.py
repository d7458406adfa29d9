"""A batch of reports on a Dask cluster that fails (issue 15, batch and clusters).

A real scheduler and worker run on 127.0.0.1 (``dask scheduler`` / ``dask worker``
subprocesses, random ports) and are killed at set points:

- no worker at all: the batch waits, then gives up after ``--timeout`` with one
  message, and the summary says the job was interrupted (not pending);
- a scheduler that cannot import ``course``: the job fails with a message that says
  the scheduler needs it;
- Ctrl-C while a report runs: exit 130, "interrupted" in the summary, no traceback;
- the scheduler killed while a report runs: one message, no traceback, the summary
  says which jobs finished and which were interrupted.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO

DASK = Path(sys.executable).with_name("dask")
WEBWORMS = REPO / "data" / "beall_webworms.csv"

pytestmark = pytest.mark.skipif(not DASK.is_file(), reason="the dask command is not installed")


def start(args, cwd, env_path=True) -> tuple[subprocess.Popen, Path]:
    """Start ``dask ARGS`` in its own process group; its log goes to a file."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if env_path:
        env["PYTHONPATH"] = str(REPO)
    log = Path(cwd) / f"{args[0]}-{time.monotonic_ns()}.log"
    proc = subprocess.Popen([str(DASK), *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"), start_new_session=True)
    return proc, log


def scheduler(tmp_path, env_path=True) -> tuple[subprocess.Popen, str]:
    proc, log = start(["scheduler", "--host", "127.0.0.1", "--port", "0",
                       "--dashboard-address", ":0", "--no-show"], tmp_path, env_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return proc, found.group(1)
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError("the scheduler did not start: " + log.read_text())


def worker(tmp_path, address) -> subprocess.Popen:
    proc, _ = start(["worker", address, "--nthreads", "1", "--nworkers", "1",
                     "--no-dashboard"], tmp_path)
    return proc


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def batch(tmp_path, address, *extra, names=("a",)) -> tuple[list, Path]:
    """The command for a batch of small webworms reports on ``address``."""
    data = tmp_path / "webworms.csv"
    shutil.copy(WEBWORMS, data)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("name,data,formula,family,n_sim\n" + "".join(
        f"{n},{data},y ~ trt + (1|block),poisson,20\n" for n in names))
    out = tmp_path / "reports"
    command = [sys.executable, "-m", "course", "report", "--batch", str(jobs), "--out", str(out),
               "--scheduler", address, "--no-pdf", *extra]
    return command, out


def launch(command) -> subprocess.Popen:
    # Ctrl-C reaches a process started from a shell script only with SIGINT's default
    # handler restored (a background job ignores it)
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def statuses(out: Path) -> dict:
    page = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td>(.*?)</td>.*?<td class=\"status (\w+)\">", page, re.S)
    return dict(rows)


def wait_until_running(out: Path, proc: subprocess.Popen, timeout=60) -> None:
    """Until a report's temporary folder exists: a worker is executing it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(".partial-" in p.name for p in out.glob(".*")) if out.exists() else False:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("no report started")


def test_no_worker_gives_up_after_the_timeout(tmp_path):
    sched, address = scheduler(tmp_path)
    try:
        command, out = batch(tmp_path, address, "--timeout", "4")
        started = time.monotonic()
        proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert time.monotonic() - started < 60
    finally:
        kill(sched)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "waiting for workers" in proc.stderr
    assert "no Dask worker was alive" in proc.stderr and "for 4 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert statuses(out) == {"a": "interrupted"}


def test_a_scheduler_without_course_says_so(tmp_path):
    sched, address = scheduler(tmp_path, env_path=False)
    work = worker(tmp_path, address)
    try:
        command, out = batch(tmp_path, address, "--timeout", "30")
        proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        kill(work), kill(sched)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "import course" in proc.stderr and "scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert statuses(out) == {"a": "failed"}


def test_ctrl_c_and_a_dying_scheduler(tmp_path):
    sched, address = scheduler(tmp_path)
    work = worker(tmp_path, address)
    try:
        # Ctrl-C while the report runs
        first = tmp_path / "first"
        first.mkdir()
        command, out = batch(first, address, "--timeout", "30")
        proc = launch(command)
        wait_until_running(out, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr and "ZMQError" not in stderr
        assert statuses(out) == {"a": "interrupted"}

        # the scheduler killed while a report runs
        second = tmp_path / "second"
        second.mkdir()
        command, out = batch(second, address, "--timeout", "30", names=("a", "b"))
        proc = launch(command)
        wait_until_running(out, proc)
        kill(sched)
        _, stderr = proc.communicate(timeout=90)
    finally:
        kill(work), kill(sched)
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "lost the Dask scheduler" in errors[0], stderr
    assert "Traceback" not in stderr
    found = statuses(out)
    assert set(found) == {"a", "b"} and "pending" not in found.values()
    for name, status in found.items():    # finished on disk, or said to be interrupted
        assert status == ("ok" if (out / name / "index.html").is_file() else "interrupted")
