"""Execute lesson notebooks with papermill, with a cache.

A lesson is executed again only when its *cache key* changes: the key hashes
the lesson source, its parameter overrides, and every file of the library
(``glmm_lib/``), the shipped data (``data/``) and the lesson helpers
(``course/lessonkit/``), plus :data:`CACHE_FORMAT` (:func:`lesson_key`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from .cache_key import cache_key, file_parts, json_part
from .errors import LessonFailed
from .params import read_notebook
from .project import Lesson, Project

#: Bump when the way executed notebooks are post-processed changes.
CACHE_FORMAT = 2
#: The kernel lessons run in: this Python, with the book root on ``sys.path``.
KERNEL_NAME = "glmm-course"
#: Tag papermill puts on the cell it injects, and the Jupyter Book tag that hides it.
INJECTED_TAG = "injected-parameters"
REMOVE_TAG = "remove-cell"


@dataclass
class Executed:
    """What happened to one lesson in :func:`execute_lessons`."""

    lesson: Lesson
    notebook: Path
    cached: bool
    seconds: float


# --- cache -----------------------------------------------------------------
def library_fingerprint(project: Project) -> str:
    """A hash of every file under the project's library folders (``glmm_lib/``, ``data/``,
    ``course/lessonkit/``)."""
    return cache_key(part for folder in project.library_dirs
                     for part in file_parts(folder, project.root))


def lesson_key(source: Path, overrides: dict, library: str) -> str:
    """The cache key of a lesson: its source, its parameter overrides and the library."""
    return cache_key([("lesson format", str(CACHE_FORMAT)), ("source", source.read_bytes()),
                      ("overrides", json_part(overrides)), ("library", library)])


def _record_path(project: Project, lesson: Lesson) -> Path:
    return project.cache_dir / "lessons" / f"{lesson.name}.json"


def is_cached(project: Project, lesson: Lesson, key: str) -> bool:
    record = _record_path(project, lesson)
    if not (record.is_file() and project.executed_path(lesson).is_file()):
        return False
    try:
        return json.loads(record.read_text())["key"] == key
    except (ValueError, KeyError):
        return False


# --- kernel ----------------------------------------------------------------
def ensure_kernel(project: Project) -> str:
    """Make the ``glmm-course`` kernel findable and return its name.

    The kernel is this very interpreter (so a lesson sees exactly the packages
    of the environment that runs the build) with the book root on
    ``PYTHONPATH`` (so ``import glmm_lib`` works without installing it). Its
    spec lives in the build folder and is put first on ``JUPYTER_PATH``; nothing
    is registered in the user's Jupyter folders.
    """
    jupyter_dir = project.claim_build_dir() / "jupyter"
    spec_dir = jupyter_dir / "kernels" / KERNEL_NAME
    pythonpath = os.pathsep.join(
        p for p in [str(project.root), os.environ.get("PYTHONPATH", "")] if p
    )
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=ERROR"],
        "display_name": "Python 3 (glmm-course)",
        "language": "python",
        "env": {"PYTHONPATH": pythonpath, "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
        "metadata": {"debugger": False},
    }
    spec_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec, indent=1)
    spec_file = spec_dir / "kernel.json"
    if not spec_file.is_file() or spec_file.read_text() != text:
        spec_file.write_text(text)
    paths = os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
    if str(jupyter_dir) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(jupyter_dir)] + [p for p in paths if p])
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    return KERNEL_NAME


# --- one notebook ------------------------------------------------------------
def _source_line(source_file: Path | None, cell_source: str) -> int | None:
    """Line of ``source_file`` where ``cell_source`` starts, if it can be found."""
    if source_file is None or not cell_source.strip():
        return None
    text = source_file.read_text(encoding="utf-8")
    if source_file.suffix == ".ipynb":
        return None
    pos = text.find(cell_source.strip().splitlines()[0])
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def run_notebook(
    notebook,
    output_path: Path,
    parameters: dict | None = None,
    *,
    cwd: Path | None = None,
    kernel_name: str = KERNEL_NAME,
    name: str | None = None,
    source_file: Path | None = None,
    progress_bar: bool = True,
):
    """Execute ``notebook`` (a path to .md/.ipynb, or an nbformat node) with papermill.

    ``parameters`` override the ``parameters`` cell; papermill's injected cell
    is tagged ``remove-cell`` so that the site and handouts do not show it.
    The executed notebook is written to ``output_path`` and returned. On an
    error in a cell, raises :class:`LessonFailed` naming the lesson and the
    cell, and leaves the partly executed notebook at ``output_path``.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(notebook, nbformat.NotebookNode):
        source_file = source_file or Path(notebook)
        notebook = read_notebook(Path(notebook))
    name = name or (source_file.stem if source_file else "notebook")
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    injected_at = None
    if parameters:
        tagged = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
        injected_at = tagged[0] + 1 if tagged else 0
    try:
        nb = pm.execute_notebook(
            notebook,
            str(output_path),
            parameters=parameters or None,
            kernel_name=kernel_name,
            cwd=str(cwd) if cwd else None,
            progress_bar=progress_bar and {"desc": f"  {name}", "unit": "cell", "leave": False},
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        # papermill counts cells with its injected one; the user counts source cells.
        cell_no = err.cell_index + 1 - int(injected_at is not None and injected_at <= err.cell_index)
        where = f"cell {cell_no}"
        line = _source_line(source_file, err.source)
        if line:
            where += f" ({source_file.name}, line {line})"
        first = err.source.strip().splitlines()[0] if err.source.strip() else ""
        raise LessonFailed(
            f"lesson {name!r} failed in {where}: {err.ename}: {err.evalue}\n"
            f"  cell starts: {first}\n"
            f"  executed notebook with the traceback: {output_path}",
            lesson=name,
            cell=cell_no,
            notebook=output_path,
        ) from None
    except Exception as err:  # kernel died, could not start, bad notebook
        raise LessonFailed(
            f"lesson {name!r} could not be executed: {type(err).__name__}: {err}",
            lesson=name,
            cell=None,
        ) from None
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if INJECTED_TAG in tags and REMOVE_TAG not in tags:
            tags.append(REMOVE_TAG)
    nbformat.write(nb, str(output_path))
    return nb


def add_handout_link(nb, href: str) -> None:
    """Put a link to the PDF handout right under the notebook's title."""
    link = f'<p class="course-handout"><a href="{href}">Printable handout (PDF, A4)</a></p>'
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, text in enumerate(lines):
            if text.startswith("# "):
                cell.source = "\n".join(lines[: i + 1] + ["", link, ""] + lines[i + 1 :])
                return
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(link))


# --- all lessons -------------------------------------------------------------
def execute_lessons(
    project: Project,
    lessons: list[Lesson] | None = None,
    overrides: dict[str, dict] | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    handout_links: bool = True,
) -> list[Executed]:
    """Execute every lesson whose cache key changed; return what happened to each.

    Executed notebooks go to ``_build/executed/<docname>.ipynb``. A failing
    lesson raises :class:`LessonFailed` (the partly executed notebook is kept
    in ``_build/failed/``) and stops the run.
    """
    lessons = project.lessons if lessons is None else lessons
    overrides = overrides or {}
    library = library_fingerprint(project)
    results: list[Executed] = []
    kernel = None
    bar = tqdm(lessons, desc="Executing lessons", unit="lesson", disable=not progress)
    try:
        for lesson in bar:
            bar.set_postfix_str(lesson.name)
            params = overrides.get(lesson.name, {})
            key = lesson_key(lesson.source, params, library)
            target = project.executed_path(lesson)
            if not force and is_cached(project, lesson, key):
                results.append(Executed(lesson, target, cached=True, seconds=0.0))
                if progress:
                    bar.write(f"  {lesson.name}: unchanged, not executed again")
                continue
            kernel = kernel or ensure_kernel(project)
            partial = project.failed_dir / f"{lesson.name}.ipynb"
            start = time.perf_counter()
            nb = run_notebook(
                lesson.source,
                partial,
                params,
                cwd=lesson.source.parent,
                kernel_name=kernel,
                name=lesson.name,
                progress_bar=progress,
            )
            seconds = time.perf_counter() - start
            if handout_links:
                add_handout_link(nb, project.handout_href(lesson))
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(target))
            partial.unlink()
            record = _record_path(project, lesson)
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(
                json.dumps({"key": key, "parameters": params, "seconds": round(seconds, 2)}, default=repr)
            )
            results.append(Executed(lesson, target, cached=False, seconds=seconds))
            if progress:
                bar.write(f"  {lesson.name}: executed in {seconds:.1f} s")
    finally:
        bar.close()
    return results
