"""Build the static site with Jupyter Book from the executed notebooks.

The book Jupyter Book sees is ``_build/executed/``: a mirror of ``book/`` (and
the bibliography files) in which each lesson's MyST source is replaced by its
executed ``.ipynb``. Files are copied only when their content changed and keep
their modification time, so Sphinx's incremental build re-reads only pages
that really changed. Jupyter Book's own execution is off (``_config.yml``).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sys
from pathlib import Path

from .errors import CourseError
from .project import REPO_ROOT, Project

#: Files Sphinx reads as documents (or tracks itself); any other staged file is an asset.
DOC_SUFFIXES = {".md", ".ipynb", ".rst", ".bib"}


def _sources(project: Project) -> dict[Path, Path]:
    """Files to mirror: relative path in the staged book -> source file."""
    lesson_sources = {lesson.source for lesson in project.lessons}
    files: dict[Path, Path] = {}
    book = project.root / "book"
    if book.is_dir():
        for path in book.rglob("*"):
            if path.is_file() and path not in lesson_sources and not _ignored(path):
                files[path.relative_to(project.root)] = path
    for docname in project.docnames:
        path = project.source_of(docname)
        if path not in lesson_sources:
            files[path.relative_to(project.root)] = path
    for bib in project.config.get("bibtex_bibfiles") or []:
        path = project.root / bib
        if not path.is_file():
            raise CourseError(f"_config.yml lists the bibliography {bib}, which does not exist")
        files[Path(bib)] = path
    return files


def _ignored(path: Path) -> bool:
    return any(part in {"__pycache__", ".ipynb_checkpoints"} for part in path.parts)


def stage(project: Project) -> list[Path]:
    """Mirror the book's sources into ``_build/executed`` and drop stale files.

    Expects the lessons to have been executed into the same folder already
    (see :func:`course.execute.execute_lessons`). Returns the staged paths
    (relative) that were copied because they are new or changed.
    """
    staged = project.executed_dir
    wanted = _sources(project)
    keep = {project.executed_path(lesson) for lesson in project.lessons}
    missing = [str(p.relative_to(staged)) for p in keep if not p.is_file()]
    if missing:
        raise CourseError(f"lessons not executed yet: {', '.join(sorted(missing))}")
    changed = []
    for rel, src in wanted.items():
        dst = staged / rel
        if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        changed.append(rel)
    wanted_paths = {staged / rel for rel in wanted} | keep
    for path in sorted(staged.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted_paths:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return changed


def build_html(project: Project, *, strict: bool = False, quiet: bool = False) -> Path:
    """Stage the book and run Jupyter Book's HTML build into ``_build/html``."""
    from jupyter_book.sphinx import build_sphinx

    # _config.yml loads course.sphinx_offline: make sure Sphinx can import it.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    changed = stage(project)
    if any(rel.suffix not in DOC_SUFFIXES for rel in changed):
        # Sphinx copies static files (CSS, MathJax) only when some page is
        # rebuilt; when only an asset changed, make it rebuild the root page.
        root = project.docnames[0]
        lesson = {lesson.docname: lesson for lesson in project.lessons}.get(root)
        root_doc = (project.executed_path(lesson) if lesson else
                    project.executed_dir / project.source_of(root).relative_to(project.root))
        if root_doc.is_file():
            os.utime(root_doc)
    result = build_sphinx(
        project.executed_dir,
        project.html_dir,
        noconfig=True,
        path_config=str(project.config_path),
        confoverrides={"external_toc_path": project.toc_path.as_posix(), "latex_individualpages": False},
        doctreedir=project.doctree_dir,
        builder="html",
        warningiserror=strict,
        quiet=quiet,
    )
    if result != 0:
        detail = f": {result}" if isinstance(result, Exception) else ""
        raise CourseError(f"the Jupyter Book build failed{detail} (see the messages above)")
    return project.html_dir / "index.html"
