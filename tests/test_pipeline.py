"""The lesson pipeline: papermill execution, parameters, cache, errors.

The real course is built once per session (``built_site``); cache and
parameter behaviour is checked on a tiny fixture book copied to a temporary
folder, so that the tests may edit its sources.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, run_course
from course.errors import CourseError, LessonFailed, UsageError
from course.execute import execute_lessons
from course.params import notebook_parameters, parse_overrides, read_notebook
from course.project import Project

MINIBOOK = REPO / "tests" / "fixtures" / "minibook"


def outputs(nb, output_type=None, mime=None):
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if output_type and out.output_type != output_type:
                continue
            if mime and mime not in out.get("data", {}):
                continue
            found.append(out)
    return found


def stream_text(nb) -> str:
    return "".join(o.text for o in outputs(nb, "stream"))


@pytest.fixture
def minibook(tmp_path) -> Project:
    root = tmp_path / "minibook"
    shutil.copytree(MINIBOOK, root)
    return Project(root)


# --- the real course -----------------------------------------------------------
def test_real_lessons_are_executed_with_figures(built_site, project):
    assert project.lessons, "the course has no lessons"
    for lesson in project.lessons:
        nb = nbformat.read(built_site.executed / (lesson.docname + ".ipynb"), as_version=4)
        assert not outputs(nb, "error"), f"{lesson.name} has error outputs"
        assert len(outputs(nb, mime="image/png")) >= 1, f"{lesson.name} has no figure"


def test_distributions_lesson_draws_every_distribution(built_site):
    nb = nbformat.read(built_site.executed / "book/day3/distributions.ipynb", as_version=4)
    # Normal, t, Gamma, Beta, Beta (mean-precision), Poisson, Binomial, NB, variance functions
    assert len(outputs(nb, mime="image/png")) == 9
    # The table check ran and printed its comparison table.
    html = "".join(o["data"].get("text/html", "") for o in outputs(nb, "execute_result"))
    for name in ("Student t", "Beta (mu, phi)", "NB1", "NB2"):
        assert name in html


def test_build_puts_the_handout_link_under_the_title(built_site, project):
    for lesson in project.lessons:
        nb = nbformat.read(built_site.executed / (lesson.docname + ".ipynb"), as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "markdown")
        assert first.source.startswith("# ")
        assert f'href="{project.handout_href(lesson)}"' in first.source


def test_build_summary_names_the_site(built_site):
    assert "lesson(s) executed" in built_site.stdout
    assert str(built_site.html / "index.html") in built_site.stdout
    assert "python -m http.server" in built_site.stdout


# --- parameters -------------------------------------------------------------------
def test_parameters_cell_is_read():
    nb = read_notebook(MINIBOOK / "book" / "tiny.md")
    assert notebook_parameters(nb) == {"n": 3, "label": "base"}


def test_changed_parameter_changes_the_output(minibook):
    [base] = execute_lessons(minibook, progress=False)
    base_nb = nbformat.read(base.notebook, as_version=4)
    assert "n = 3, label = base" in stream_text(base_nb)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in base_nb.cells)

    [changed] = execute_lessons(minibook, overrides={"tiny": {"n": 5, "label": "new"}}, progress=False)
    assert not changed.cached
    nb = nbformat.read(changed.notebook, as_version=4)
    assert "n = 5, label = new" in stream_text(nb)
    png = lambda book: [o["data"]["image/png"] for o in outputs(book, mime="image/png")]  # noqa: E731
    assert png(nb) != png(base_nb)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "remove-cell" in injected[0].metadata["tags"]
    assert "n = 5" in injected[0].source


def test_cli_param_reaches_the_page_and_a_rebuild_reuses_it(minibook, tmp_path):
    args = ("build", "--root", str(minibook.root), "--out", str(tmp_path), "--no-handouts",
            "--param", "tiny.n=7")
    first = run_course(*args)
    assert first.returncode == 0, first.stderr
    assert "1 lesson(s) executed (tiny)" in first.stdout
    nb = nbformat.read(tmp_path / "_build/executed/book/tiny.ipynb", as_version=4)
    assert "n = 7, label = base" in stream_text(nb)
    page = (tmp_path / "_build/html/book/tiny.html").read_text()
    assert "n = 7, label = base" in page
    assert "injected-parameters" not in page and "# Parameters" not in page  # remove-cell honoured

    again = run_course(*args)
    assert again.returncode == 0, again.stderr
    assert "0 lesson(s) executed, 1 unchanged" in again.stdout
    assert "tiny: unchanged, not executed again" in again.stdout + again.stderr


# --- cache ---------------------------------------------------------------------------
def test_unchanged_lessons_are_not_executed_again(minibook):
    [first] = execute_lessons(minibook, progress=False)
    assert not first.cached
    stamp = first.notebook.stat().st_mtime_ns

    [second] = execute_lessons(minibook, progress=False)
    assert second.cached
    assert second.notebook.stat().st_mtime_ns == stamp

    # Editing the library invalidates the cache ...
    lib = minibook.root / "glmm_lib" / "__init__.py"
    lib.write_text(lib.read_text().replace("VALUE = 1", "VALUE = 2"))
    [third] = execute_lessons(minibook, progress=False)
    assert not third.cached
    assert "library = 2" in stream_text(nbformat.read(third.notebook, as_version=4))

    # ... and so does editing the lesson.
    [fourth] = execute_lessons(minibook, progress=False)
    assert fourth.cached
    src = minibook.root / "book" / "tiny.md"
    src.write_text(src.read_text().replace('label = "base"', 'label = "edited"'))
    [fifth] = execute_lessons(minibook, progress=False)
    assert not fifth.cached
    assert "label = edited" in stream_text(nbformat.read(fifth.notebook, as_version=4))


# --- errors ----------------------------------------------------------------------------
def test_failing_lesson_names_lesson_and_cell_and_exits_nonzero(minibook, tmp_path):
    src = minibook.root / "book" / "tiny.md"
    src.write_text(src.read_text().replace('print(f"n = {n}', 'print(1 / 0)\nprint(f"n = {n}'))
    with pytest.raises(LessonFailed) as info:
        execute_lessons(minibook, progress=False)
    assert info.value.lesson == "tiny"
    assert info.value.cell == 3  # title, parameters, then the failing cell
    assert "ZeroDivisionError" in str(info.value)
    assert "tiny.md, line" in str(info.value)

    proc = run_course("build", "--root", str(minibook.root), "--out", str(tmp_path),
                      "--no-handouts", "--param", "tiny.n=4")
    assert proc.returncode == 1
    assert "lesson 'tiny' failed in cell 3" in proc.stderr  # the injected cell is not counted
    assert "ZeroDivisionError" in proc.stderr
    assert not (tmp_path / "_build/html").exists()  # the build stopped

    # A failed run is not cached: once fixed, the lesson runs.
    src.write_text(src.read_text().replace("print(1 / 0)\n", ""))
    [fixed] = execute_lessons(minibook, progress=False)
    assert not fixed.cached


@pytest.mark.parametrize(
    "param, message",
    [
        ("nosuch.nu=5", "unknown lesson 'nosuch'; lessons: "),
        ("distributions.nux=5", "lesson 'distributions' has no parameter 'nux'; its parameters: normal_mu"),
        ("distributions.nu", "expected LESSON.NAME=VALUE"),
        ("distributions.nu=abc", "expected a value like the default 3"),
    ],
)
def test_bad_param_is_a_clear_error(param, message, tmp_path):
    proc = run_course("build", "--out", str(tmp_path), "--param", param)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "distributions" in proc.stderr  # the valid names are listed
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "_build").exists()  # nothing was executed


def test_parse_overrides_turns_tuples_into_lists():
    params = {"lesson": {"pairs": [[1, 2]], "x": 1.0, "flag": True}}
    got = parse_overrides(["lesson.pairs=[(3, 4)]", "lesson.x=2", "lesson.flag=False"], params)
    assert got == {"lesson": {"pairs": [[3, 4]], "x": 2, "flag": False}}
    with pytest.raises(UsageError, match="flag"):
        parse_overrides(["lesson.flag=1"], params)


def test_missing_chromium_names_the_install_command(minibook, tmp_path, monkeypatch):
    from course.handouts import find_chromium

    monkeypatch.delenv("COURSE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH
    with pytest.raises(CourseError, match=r"apt-get install -y chromium"):
        find_chromium()

    proc = run_course("build", "--root", str(minibook.root), "--out", str(tmp_path),
                      env={"COURSE_CHROMIUM": str(tmp_path / "no-chromium")})
    assert proc.returncode == 1
    assert "apt-get install -y chromium" in proc.stderr
    assert not (tmp_path / "_build/executed").exists()  # checked before executing anything


def test_lessons_command_lists_parameters():
    proc = run_course("lessons")
    assert proc.returncode == 0, proc.stderr
    assert "distributions.nu = 3" in proc.stdout


def test_duplicate_lesson_names_are_rejected(minibook):
    (minibook.root / "book" / "more").mkdir()
    shutil.copy(minibook.root / "book" / "tiny.md", minibook.root / "book" / "more" / "tiny.md")
    toc = minibook.root / "_toc.yml"
    toc.write_text(toc.read_text() + "  - file: book/more/tiny\n")
    with pytest.raises(CourseError, match="two lessons share the name 'tiny'"):
        Project(minibook.root).lessons


def test_toc_entry_without_a_file_is_reported(minibook):
    toc = minibook.root / "_toc.yml"
    toc.write_text(toc.read_text() + "  - file: book/missing\n")
    with pytest.raises(CourseError, match="book/missing"):
        Project(minibook.root).lessons


def test_library_never_imports_the_build_tools():
    for path in (REPO / "glmm_lib").rglob("*.py"):
        text = path.read_text()
        for banned in ("import papermill", "import jupyter_book", "from course", "import course"):
            assert banned not in text, f"{path.name} imports build tooling ({banned})"
