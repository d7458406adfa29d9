"""Shared fixtures: one build of the real course per test session.

The build (``python -m course build --out <tmp>``) runs once even under
pytest-xdist: the first worker builds under a file lock, the others reuse it.
It writes only to a temporary folder, never to the repository's ``_build``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def run_course(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``python -m course ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "course", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@dataclass
class BuiltSite:
    out: Path  # the --out folder; everything is under out/_build
    stdout: str
    stderr: str

    @property
    def build_dir(self) -> Path:
        return self.out / "_build"

    @property
    def html(self) -> Path:
        return self.build_dir / "html"

    @property
    def executed(self) -> Path:
        return self.build_dir / "executed"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, worker_id) -> BuiltSite:
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    out = shared / "course-site"
    record = shared / "course-site.json"
    with open(shared / "course-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            proc = run_course("build", "--out", str(out))
            record.write_text(json.dumps(
                {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
            ))
        result = json.loads(record.read_text())
    if result["returncode"] != 0:
        pytest.fail(
            f"python -m course build failed (exit {result['returncode']}):\n"
            f"{result['stdout'][-3000:]}\n{result['stderr'][-3000:]}"
        )
    return BuiltSite(out, result["stdout"], result["stderr"])


@pytest.fixture(scope="session")
def project():
    """The real course book (sources only)."""
    from course.project import Project

    return Project(REPO)
