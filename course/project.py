"""Where things are: the book's sources, its lessons, and the build folders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import yaml

from .errors import CourseError

#: The repository this package lives in (used in place, not installed).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Suffixes a ``_toc.yml`` entry may resolve to, in the order Jupyter Book tries them.
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")


@dataclass(frozen=True)
class Lesson:
    """A page of the book that is a notebook, executed by the build.

    ``name`` is the file name without folder and suffix (``distributions``):
    it is what ``--param NAME.PARAM=VALUE`` and the handout file use.
    ``docname`` is the path from the book root without suffix
    (``book/day3/distributions``), as in ``_toc.yml``.
    """

    name: str
    docname: str
    source: Path

    @property
    def folder(self) -> PurePosixPath:
        return PurePosixPath(self.docname).parent


#: In every build folder this command made (``course clean`` deletes only such folders).
BUILD_MARKER = ".glmm-course-build"


class Project:
    """A course book rooted at ``root`` and built into ``out/_build``.

    ``root`` holds ``_config.yml``, ``_toc.yml``, ``book/`` and (optionally)
    ``glmm_lib/`` and ``data/``. ``out`` defaults to ``root``; tests build into
    a temporary folder instead.
    """

    def __init__(self, root: Path | str = REPO_ROOT, out: Path | str | None = None):
        self.root = Path(root).resolve()
        self.out = Path(out).resolve() if out is not None else self.root
        for required in ("_config.yml", "_toc.yml"):
            if not (self.root / required).is_file():
                raise CourseError(f"{self.root} is not a course book: {required} is missing")

    # --- sources -------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "_config.yml"

    @property
    def toc_path(self) -> Path:
        return self.root / "_toc.yml"

    @cached_property
    def config(self) -> dict:
        return yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}

    @cached_property
    def docnames(self) -> list[str]:
        """Every page listed in ``_toc.yml``, in reading order."""
        toc = yaml.safe_load(self.toc_path.read_text(encoding="utf-8")) or {}
        if "root" not in toc:
            raise CourseError(f"{self.toc_path}: no `root:` entry")
        names: list[str] = []

        def walk(node):
            if isinstance(node, dict):
                for key in ("root", "file"):
                    if key in node:
                        names.append(_strip_suffix(str(node[key])))
                for value in node.values():
                    if isinstance(value, (list, dict)):
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(toc)
        return list(dict.fromkeys(names))

    def source_of(self, docname: str) -> Path:
        for suffix in SOURCE_SUFFIXES:
            path = self.root / (docname + suffix)
            if path.is_file():
                return path
        raise CourseError(
            f"{self.toc_path.name} lists {docname!r} but none of "
            f"{', '.join(docname + s for s in SOURCE_SUFFIXES)} exists under {self.root}"
        )

    @cached_property
    def lessons(self) -> list[Lesson]:
        """The notebook pages of the book, in reading order."""
        lessons: list[Lesson] = []
        seen: dict[str, str] = {}
        for docname in self.docnames:
            source = self.source_of(docname)
            if not is_notebook(source):
                continue
            name = PurePosixPath(docname).name
            if name in seen:
                raise CourseError(
                    f"two lessons share the name {name!r} ({seen[name]} and {docname}); "
                    "lesson file names must be unique across the book"
                )
            seen[name] = docname
            lessons.append(Lesson(name=name, docname=docname, source=source))
        return lessons

    def lesson(self, name: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.name == name:
                return lesson
        raise CourseError(f"unknown lesson {name!r}; lessons: {', '.join(self.lesson_names)}", 2)

    @property
    def lesson_names(self) -> list[str]:
        return [lesson.name for lesson in self.lessons]

    @property
    def library_dirs(self) -> list[Path]:
        """Folders whose contents a lesson's output depends on besides its source: the
        library, the shipped data and the course's lesson helpers."""
        return [self.root / "glmm_lib", self.root / "data", self.root / "course" / "lessonkit"]

    # --- build folders -------------------------------------------------------
    @property
    def build_dir(self) -> Path:
        return self.out / "_build"

    def owns_build_dir(self) -> bool:
        """True when ``_build`` is this command's to write and delete in: it carries our
        marker, or it is the repository's own (ignored by git, documented as build output)."""
        build = self.build_dir
        if build.is_symlink() or (build.exists() and not build.is_dir()):
            return False
        return (not build.exists() or (build / BUILD_MARKER).is_file() or self.out == self.root
                or not any(build.iterdir()))

    def claim_build_dir(self) -> Path:
        """Make (and mark) the build folder, or refuse one this command did not make: the
        build deletes stale files inside it, so it never works in a folder of the user's."""
        if not self.owns_build_dir():
            raise CourseError(f"{self.build_dir} exists and was not made by this command; it "
                              "is left as it is: choose another --out")
        self.build_dir.mkdir(parents=True, exist_ok=True)
        (self.build_dir / BUILD_MARKER).touch()
        return self.build_dir

    @property
    def executed_dir(self) -> Path:
        """The book as Jupyter Book sees it: sources with lessons replaced by executed notebooks."""
        return self.build_dir / "executed"

    @property
    def html_dir(self) -> Path:
        return self.build_dir / "html"

    @property
    def doctree_dir(self) -> Path:
        return self.build_dir / ".doctrees"

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / "cache"

    @property
    def failed_dir(self) -> Path:
        return self.build_dir / "failed"

    @property
    def handouts_dir(self) -> Path:
        return self.html_dir / "handouts"

    def executed_path(self, lesson: Lesson) -> Path:
        return self.executed_dir / (lesson.docname + ".ipynb")

    def page_path(self, lesson_or_docname: Lesson | str) -> Path:
        docname = getattr(lesson_or_docname, "docname", lesson_or_docname)
        return self.html_dir / (docname + ".html")

    def handout_path(self, lesson: Lesson) -> Path:
        return self.handouts_dir / f"{lesson.name}.pdf"

    def handout_href(self, lesson: Lesson) -> str:
        """The handout's URL relative to the lesson's page."""
        depth = len(lesson.folder.parts)
        return "/".join([".."] * depth + ["handouts", f"{lesson.name}.pdf"])


def _strip_suffix(path: str) -> str:
    for suffix in SOURCE_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def is_notebook(path: Path) -> bool:
    """True for ``.ipynb`` files and MyST markdown files with a jupytext/kernelspec header."""
    if path.suffix == ".ipynb":
        return True
    if path.suffix != ".md":
        return False
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    if end < 0:
        return False
    try:
        header = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as err:
        raise CourseError(f"{path}: the front matter is not valid YAML: {err}") from None
    return isinstance(header, dict) and ("kernelspec" in header or "jupytext" in header)
