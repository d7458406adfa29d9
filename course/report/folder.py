"""The folders a report writes to, and the rule that keeps a user's files safe.

A report replaces its output folder only when this command made that folder: the
folder holds a manifest (``report.json``) that says so and lists every file the
report wrote, and nothing else is in it. Any other folder, a file, a link, or a
folder that holds the data being analysed is refused *before any work*, with a
message saying why and what to do instead.

A batch writes ``index.html`` and its manifest ``reports.json`` into its folder
and one report folder per job; the batch folder may hold other files (they are
left alone), but an ``index.html`` or ``reports.json`` that this command did not
write is never overwritten.

Temporary folders (``.NAME.partial-XXXX`` beside the target, and ``.NAME.old-XXXX``
while a report is swapped in) carry a marker file, so that cleaning up after an
interrupted run removes only folders this command made.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from ..errors import CourseError

RECORD = "report.json"
BATCH_RECORD = "reports.json"
BATCH_INDEX = "index.html"
#: The value of ``made_by`` in the manifests this command writes.
MADE_BY = "glmm-course report"
#: Inside a temporary folder: marks it as this command's, so cleaning may remove it.
TEMP_MARKER = ".glmm-course-temporary"


class OutputFolderRefused(CourseError):
    """``--out`` names something this command must not replace."""


def read_manifest(folder: Path, name: str = RECORD) -> dict | None:
    """The manifest in ``folder`` if this command wrote it, else None."""
    try:
        record = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("made_by") == MADE_BY else None


def files_in(folder: Path) -> list[str]:
    """Every file below ``folder``, as sorted POSIX paths relative to it (links included)."""
    folder = Path(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            found.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(found)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


def check_report_folder(out: Path, protected=()) -> None:
    """Refuse ``out`` unless it is new, an empty folder, or a report this command made.

    ``protected`` are paths that must never be inside the folder (the data file).
    """
    out = Path(out)
    advice = "choose a new folder for the report (--out NEW_FOLDER)"
    if out.is_symlink():
        raise OutputFolderRefused(f"--out {out} is a link; {advice}")
    if out.exists() and not out.is_dir():
        raise OutputFolderRefused(f"--out {out} is a file, not a folder; {advice}")
    for path in protected:
        if _inside(path, out):
            raise OutputFolderRefused(
                f"--out {out} contains the data file {path}; a report replaces its whole "
                f"folder, so it never goes where its data is: {advice}")
    if not out.exists():
        return
    present = files_in(out)
    if not present:
        return
    record = read_manifest(out)
    if record is None:
        shown = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5
                                           else "")
        raise OutputFolderRefused(
            f"--out {out} already exists and is not a report made by this command (it has no "
            f"{RECORD} of ours; it holds {shown}); it is left as it is: {advice}")
    foreign = sorted(set(present) - set(record.get("files", [])) - {RECORD})
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                          if len(foreign) > 5 else "")
        raise OutputFolderRefused(
            f"--out {out} is a report made by this command, but it now also holds files the "
            f"report did not write ({shown}); it is left as it is: move those files out, or "
            f"{advice}")


def check_batch_folder(out: Path, protected=()) -> None:
    """Refuse a batch folder whose index or manifest this command did not write."""
    out = Path(out)
    advice = "choose a new folder for the reports (--out NEW_FOLDER)"
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputFolderRefused(f"--out {out} is not a folder; {advice}")
    if not out.exists():
        return
    ours = read_manifest(out, BATCH_RECORD) is not None
    for name in (BATCH_INDEX, BATCH_RECORD):
        if (out / name).exists() and not ours:
            raise OutputFolderRefused(
                f"--out {out} holds a {name} that this command did not write; it is left as it "
                f"is: {advice}")


def write_batch_manifest(out: Path, jobs: list[str]) -> None:
    write_atomically(Path(out) / BATCH_RECORD,
                     json.dumps({"made_by": MADE_BY, "jobs": jobs}, indent=1))


def write_atomically(target: Path, text: str) -> None:
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:6]}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def new_temporary_folder(out: Path) -> Path:
    """A hidden folder beside ``out`` on the same file system, marked as this command's."""
    tmp = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    (tmp / TEMP_MARKER).touch()
    return tmp


def clean_stale(out: Path) -> None:
    """Remove what an interrupted run of this command left beside ``out``: only the hidden
    folders that carry this command's marker."""
    if not out.parent.is_dir():
        return
    for pattern in (f".{out.name}.partial-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink() and (stale / TEMP_MARKER).is_file():
                shutil.rmtree(stale, ignore_errors=True)


def move_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished ``tmp`` with renames only.

    ``tmp`` loses its marker; the replaced report (checked to be ours by
    :func:`check_report_folder` before any work, and checked again here, since
    time has passed) is marked and removed.
    """
    (tmp / TEMP_MARKER).unlink(missing_ok=True)
    if out.exists():
        check_report_folder(out)
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(out, old)
        (old / TEMP_MARKER).touch()
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
