"""A report never deletes or overwrites what this command did not make (issue 15, item 1).

Through the command line, in a subprocess: the exit status, the message, and that
nothing was written, moved or deleted. The checks run before any work, so every
refused run here takes seconds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import REPO, run_course

from course import report as rp
from course.report.folder import (MADE_BY, TEMP_MARKER, OutputFolderRefused,
                                  check_report_folder, clean_stale, move_into_place,
                                  new_temporary_folder)

WEBWORMS = REPO / "data" / "beall_webworms.csv"
MODEL = ["--formula", "y ~ trt + (1|block)", "--family", "nbinom1", "--no-pdf"]


def snapshot(folder: Path) -> dict:
    """Every path below ``folder`` (hidden ones too) with its content's hash."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest()
                                               if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


def user_folder(tmp_path: Path) -> Path:
    """A user's folder with their data and a file of their own."""
    folder = tmp_path / "fieldwork"
    folder.mkdir()
    (folder / "counts.csv").write_bytes(WEBWORMS.read_bytes())
    (folder / "important.txt").write_text("three years of notes")
    return folder


def refused(tmp_path: Path, *args: str) -> str:
    before = snapshot(tmp_path)
    proc = run_course("report", *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(tmp_path) == before          # nothing written, moved or deleted
    return proc.stderr


def test_out_at_a_folder_of_the_users_is_refused(tmp_path):
    folder = user_folder(tmp_path)
    message = refused(tmp_path, str(folder / "counts.csv"), *MODEL,
                      "--out", str(tmp_path / "fieldwork"))
    # the data's own folder: refused, and said why
    assert "contains the data file" in message


def test_out_at_a_folder_without_our_manifest_is_refused(tmp_path):
    user_folder(tmp_path)
    other = tmp_path / "results"
    other.mkdir()
    (other / "important.txt").write_text("keep me")
    message = refused(tmp_path, str(tmp_path / "fieldwork" / "counts.csv"), *MODEL,
                      "--out", str(other))
    assert "is not a report made by this command" in message
    assert "important.txt" in message and "--out NEW_FOLDER" in message


@pytest.mark.parametrize("target", ["counts.csv", "important.txt"])
def test_out_at_a_file_is_refused(tmp_path, target):
    """The data file itself, or another file: refused, never moved aside."""
    folder = user_folder(tmp_path)
    message = refused(tmp_path, str(folder / "counts.csv"), *MODEL, "--out", str(folder / target))
    assert f"{target} is a file, not a folder" in message
    assert not list(folder.glob(".*"))


def test_a_report_with_a_users_file_added_is_refused(tmp_path):
    folder = user_folder(tmp_path)
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("<p>an old report</p>")
    (report / "report.json").write_text(json.dumps({"made_by": MADE_BY,
                                                    "files": ["index.html"]}))
    (report / "my-notes.txt").write_text("added by the user")
    message = refused(tmp_path, str(folder / "counts.csv"), *MODEL, "--out", str(report))
    assert "my-notes.txt" in message and "did not write" in message


def test_a_manifest_of_someone_else_does_not_count(tmp_path):
    folder = user_folder(tmp_path)
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.json").write_text(json.dumps({"made_by": "another tool",
                                                    "files": ["data.csv"]}))
    (report / "data.csv").write_text("a,b\n1,2\n")
    refused(tmp_path, str(folder / "counts.csv"), *MODEL, "--out", str(report))


def test_batch_into_a_folder_with_a_foreign_index_is_refused(tmp_path):
    folder = user_folder(tmp_path)
    (tmp_path / "jobs.csv").write_text(
        f"data,formula,family\n{folder / 'counts.csv'},y ~ trt + (1|block),nbinom1\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>my web site</h1>")
    message = refused(tmp_path, "--batch", str(tmp_path / "jobs.csv"), "--no-pdf",
                      "--out", str(site))
    assert "index.html that this command did not write" in message


def test_batch_job_folder_of_the_users_is_refused(tmp_path):
    folder = user_folder(tmp_path)
    (tmp_path / "jobs.csv").write_text(
        f"name,data,formula,family\nfieldwork,{folder / 'counts.csv'},y ~ trt + (1|block),"
        "nbinom1\n")
    message = refused(tmp_path, "--batch", str(tmp_path / "jobs.csv"), "--no-pdf",
                      "--out", str(tmp_path))
    assert "job 'fieldwork'" in message and "nothing was run or written" in message


# --- the rule itself ----------------------------------------------------------------------
def test_new_and_empty_folders_and_our_reports_are_accepted(tmp_path):
    check_report_folder(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_report_folder(tmp_path / "empty")
    ours = tmp_path / "ours"
    (ours / "mathjax").mkdir(parents=True)
    (ours / "mathjax" / "tex-chtml.js").write_text("x")
    (ours / "index.html").write_text("page")
    (ours / "report.json").write_text(json.dumps(
        {"made_by": MADE_BY, "files": ["index.html", "mathjax/tex-chtml.js"]}))
    check_report_folder(ours)


def test_a_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OutputFolderRefused, match="is a link"):
        check_report_folder(tmp_path / "link")


def test_move_into_place_checks_again_before_replacing(tmp_path):
    """A user's file added while the report ran keeps the old report in place."""
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text(json.dumps({"made_by": MADE_BY, "files": []}))
    tmp = new_temporary_folder(out)
    (tmp / "index.html").write_text("new")
    (out / "late.txt").write_text("the user's")
    with pytest.raises(OutputFolderRefused):
        move_into_place(tmp, out)
    assert (out / "late.txt").read_text() == "the user's"


def test_cleaning_removes_only_marked_temporary_folders(tmp_path):
    out = tmp_path / "report"
    ours = new_temporary_folder(out)
    theirs = tmp_path / ".report.partial-mine"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("not the program's")
    clean_stale(out)
    assert not ours.exists()
    assert (theirs / "notes.txt").read_text() == "not the program's"
    assert (ours.parent / ".report.partial-mine").is_dir() and TEMP_MARKER


def test_make_report_refuses_before_checking_the_model(tmp_path):
    folder = user_folder(tmp_path)
    job = rp.ReportJob(data=folder / "counts.csv", formula="y ~ nonsense", family="nbinom1",
                       out=folder)
    with pytest.raises(OutputFolderRefused):
        rp.make_report(job, pdf=False)


# --- the course build and clean: the same rule for --out ------------------------------------
def test_build_and_clean_refuse_a_build_folder_of_the_users(tmp_path):
    build = tmp_path / "_build"
    build.mkdir()
    (build / "thesis.tex").write_text("years of work")
    before = snapshot(tmp_path)
    for command in ("build", "clean"):
        proc = run_course(command, "--out", str(tmp_path))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "not made by this command" in proc.stderr
        assert snapshot(tmp_path) == before
