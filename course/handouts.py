"""PDF handouts: each lesson page printed to A4 by headless Chromium.

Debian's ``chromium`` is driven by playwright (no browser download). The site
is served from a local HTTP server on 127.0.0.1 while printing; every request
that would leave the machine is blocked and reported as an error, because the
site must work offline. A handout is printed again only when its page (or the
site's course.css) changed.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from .cache_key import cache_key
from .errors import CourseError
from .project import Project

#: Bump when the print settings change, so that handouts are printed again.
HANDOUT_FORMAT = 2
#: The two editions of a handout: the student's (solutions left out by the print
#: stylesheet) and the instructor's, in ``handouts/instructor/``, which prints them.
EDITIONS = ("student", "instructor")
#: Opens the code of hide-input cells, whose toggles course.css leaves out of print.
_OPEN_HIDDEN_CODE = """() => {
  document.querySelectorAll("details.hide, details.above-input").forEach(d => { d.open = true; });
}"""
#: Marks the page as the instructor edition and opens every dropdown, for course.css.
_INSTRUCTOR_EDITION = """() => {
  document.documentElement.classList.add("course-instructor");
  document.querySelectorAll("details.sd-dropdown").forEach(d => { d.open = true; });
}"""
INSTALL_HINT = "apt-get update && apt-get install -y chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

_WAIT_FOR_PAGE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (document.fonts) { await document.fonts.ready; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
}"""

_FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 14mm;color:#555;'
    'display:flex;justify-content:space-between;">'
    '<span class="title"></span><span><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></span></div>'
)


def find_chromium() -> str:
    """Path of the Chromium executable, or a :class:`CourseError` saying how to install it.

    ``COURSE_CHROMIUM`` overrides the search.
    """
    override = os.environ.get("COURSE_CHROMIUM")
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise CourseError(
            f"COURSE_CHROMIUM={override} is not an executable file. Chromium prints the PDF "
            f"handouts; install Debian's with: {INSTALL_HINT} (or build with --no-handouts)"
        )
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise CourseError(
        "Chromium was not found (looked for `chromium` and `chromium-browser` on PATH). "
        f"It prints the PDF handouts; install it with: {INSTALL_HINT}  "
        "(or build the site alone with --no-handouts)"
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on the terminal
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port); yields the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def browser(executable: str | None = None):
    """A headless Debian Chromium driven by playwright."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = executable or find_chromium()
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as err:
            raise CourseError(
                f"could not start Chromium ({executable}): {err}\n"
                f"Install or repair it with: {INSTALL_HINT}"
            ) from None
        try:
            yield chromium
        finally:
            chromium.close()


def _print_page(chromium, url: str, pdf_path: Path, edition: str = "student") -> None:
    outside: list[str] = []

    def route(request_route):
        host = urlsplit(request_route.request.url).hostname
        scheme = urlsplit(request_route.request.url).scheme
        if scheme in {"data", "blob", "about"} or host in LOCAL_HOSTS:
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page = chromium.new_page()
    try:
        page.route("**/*", route)
        response = page.goto(url, wait_until="load")
        if response is None or not response.ok:
            raise CourseError(f"cannot print {url}: HTTP {response.status if response else '?'}")
        page.evaluate(_WAIT_FOR_PAGE)
        page.evaluate(_OPEN_HIDDEN_CODE)
        if edition == "instructor":
            page.evaluate(_INSTRUCTOR_EDITION)
        if outside:
            raise CourseError(
                f"{url} requested resources outside this machine, which an offline site "
                f"must not do: {', '.join(sorted(set(outside)))}"
            )
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = pdf_path.with_suffix(".pdf.part")
        page.pdf(
            path=str(tmp),
            format="A4",
            print_background=True,
            tagged=True,     # a tagged PDF: headings, tables, and each figure's alt text
            margin={"top": "15mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=_FOOTER,
        )
        tmp.replace(pdf_path)
    finally:
        page.close()


def _site_root(html_path: Path) -> Path:
    for folder in html_path.resolve().parents:
        if (folder / "_static").is_dir():
            return folder
    return html_path.resolve().parent


def print_pdfs(site_dir: Path, jobs: list[tuple], *, progress: bool = True) -> None:
    """Print each ``(html_path, pdf_path)`` or ``(html_path, pdf_path, edition)`` of ``jobs``
    (:data:`EDITIONS`; the student's by default); the HTML files lie under ``site_dir``."""
    if not jobs:
        return
    site_dir = Path(site_dir).resolve()
    with serve(site_dir) as base, browser() as chromium:
        bar = tqdm(jobs, desc="Printing handouts", unit="page", disable=not progress)
        for html_path, pdf_path, *edition in bar:
            rel = Path(html_path).resolve().relative_to(site_dir).as_posix()
            bar.set_postfix_str(Path(pdf_path).name)
            _print_page(chromium, base + rel, Path(pdf_path), *edition)
        bar.close()


def print_pdf(html_path: Path | str, pdf_path: Path | str, site_dir: Path | str | None = None) -> Path:
    """Print one built HTML page to an A4 PDF (figures and typeset math included)."""
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    if not html_path.is_file():
        raise CourseError(f"no such page: {html_path}")
    print_pdfs(Path(site_dir) if site_dir else _site_root(html_path), [(html_path, pdf_path)],
               progress=False)
    return pdf_path


def _handout_key(project: Project, page: Path, edition: str) -> str:
    """The cache key of a handout: its edition, its page and the site's stylesheet."""
    css = project.html_dir / "_static" / "course.css"
    return cache_key([("handout format", str(HANDOUT_FORMAT)), ("edition", edition),
                      ("page", page.read_bytes()),
                      ("css", css.read_bytes() if css.is_file() else b"")])


def instructor_handout_path(project: Project, lesson) -> Path:
    """The instructor edition of a lesson's handout (solutions printed)."""
    return project.handouts_dir / "instructor" / f"{lesson.name}.pdf"


def _edition_path(project: Project, lesson, edition: str) -> Path:
    return instructor_handout_path(project, lesson) if edition == "instructor" \
        else project.handout_path(lesson)


def build_handouts(project: Project, *, force: bool = False, progress: bool = True) -> list[Path]:
    """Two PDFs per lesson, the student's in ``_build/html/handouts/`` and the instructor's
    in ``handouts/instructor/``; returns the PDFs (re)printed."""
    record_file = project.cache_dir / "handouts.json"
    try:
        record = json.loads(record_file.read_text())
    except (OSError, ValueError):
        record = {}
    jobs, keys = [], {}
    for lesson in project.lessons:
        page = project.page_path(lesson)
        if not page.is_file():
            raise CourseError(f"the page of lesson {lesson.name!r} was not built: {page}")
        for edition in EDITIONS:
            pdf, name = _edition_path(project, lesson, edition), f"{edition}/{lesson.name}"
            keys[name] = _handout_key(project, page, edition)
            if force or not pdf.is_file() or record.get(name) != keys[name]:
                jobs.append((page, pdf, edition))
    if progress and not jobs:
        print("Handouts: all up to date")
    print_pdfs(project.html_dir, jobs, progress=progress)
    record_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.write_text(json.dumps(keys, indent=1))
    wanted = {_edition_path(project, lesson, edition)
              for lesson in project.lessons for edition in EDITIONS}
    for folder in (project.handouts_dir, project.handouts_dir / "instructor"):
        if folder.is_dir():
            for stale in folder.glob("*.pdf"):
                if stale not in wanted:
                    stale.unlink()
    return [pdf for _, pdf, _ in jobs]
