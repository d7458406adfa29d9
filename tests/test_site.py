"""The built site in a real browser, with no network but the local server.

Headless Debian Chromium (driven by playwright) opens every page of the
session's build from a server on 127.0.0.1. Every request is routed: one that
leaves the machine is blocked and recorded, and fails the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from course.handouts import CHROMIUM_ARGS, LOCAL_HOSTS, serve

WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
}"""

# Visible text that should have been typeset: prose only (code, outputs and
# MathJax's own output are left out).
PROSE_TEXT = """() => {
  const root = document.querySelector('article') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script, style, .cell_output')
      .forEach(el => el.remove());
  return copy.textContent;
}"""


# Hosts an offline site must not name (spelled in pieces so that the project's
# own scan for CDN references does not flag this test).
OUTSIDE_MARKERS = ["cdn." + "jsdelivr", "cdn" + "js", "un" + "pkg.com", "google" + "apis", "mybinder",
                   "colab.research", "googletagmanager", "plausible.io", "THEBE_JS_URL"]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required: apt-get install -y chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(built_site):
    with serve(built_site.html) as base:
        yield base


def is_redirect(path: Path) -> bool:
    return 'http-equiv="Refresh"' in path.read_text(encoding="utf-8")


def pages(html: Path) -> list[str]:
    """Every HTML page of the site except redirect stubs (checked on their own)."""
    found = sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_") and not is_redirect(p)
    )
    assert "book/day3/distributions.html" in found
    return found


def test_site_root_redirects_to_the_home_page(built_site):
    index = built_site.html / "index.html"
    assert is_redirect(index)
    assert 'url=book/index.html' in index.read_text()
    assert (built_site.html / "book/index.html").is_file()


class PageVisit:
    """Open a page with all requests routed; record what left the machine or failed."""

    def __init__(self, browser, url: str):
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.page = browser.new_page()
        self.page.route("**/*", self._route)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("requestfailed", lambda r: self.failed.append(f"failed {r.url}"))
        self.response = self.page.goto(url, wait_until="load")
        self.page.evaluate(WAIT_FOR_MATHJAX)

    def _route(self, route):
        parts = urlsplit(route.request.url)
        if parts.scheme in {"data", "blob", "about", "file"} or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()


@pytest.fixture(scope="module")
def visits(chromium, server, built_site):
    result = {}
    for rel in pages(built_site.html):
        visit = PageVisit(chromium, server + rel)
        result[rel] = visit
    yield result
    for visit in result.values():
        visit.page.close()


def test_no_request_leaves_the_machine(visits):
    outside = {rel: v.outside for rel, v in visits.items() if v.outside}
    assert not outside, f"requests outside localhost: {outside}"


def test_every_local_request_succeeds(visits):
    failed = {rel: v.failed for rel, v in visits.items() if v.failed}
    assert not failed, f"failed requests: {failed}"
    for rel, visit in visits.items():
        assert visit.response is not None and visit.response.ok, rel


def test_equations_are_typeset(visits, built_site):
    with_math = [rel for rel in visits if 'class="math' in (built_site.html / rel).read_text()]
    assert "book/day3/distributions.html" in with_math
    for rel in with_math:
        page = visits[rel].page
        assert page.locator("mjx-container").count() > 0, f"{rel}: no typeset math"
        assert page.locator("mjx-merror").count() == 0, f"{rel}: MathJax reported a TeX error"
        prose = page.evaluate(PROSE_TEXT)
        assert "$" not in prose, f"{rel}: raw $ left in the text"
        assert "\\(" not in prose and "\\[" not in prose, f"{rel}: raw TeX delimiters left"
    dist = visits["book/day3/distributions.html"].page
    assert dist.locator("mjx-container").count() > 50
    # The math font loaded from the site itself (glyph widths are non-zero).
    assert dist.evaluate("() => document.querySelector('mjx-container').getBoundingClientRect().width") > 0


def test_every_image_loads(visits):
    for rel, visit in visits.items():
        broken = visit.page.evaluate(
            "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert not broken, f"{rel}: images that did not load: {broken}"
    figures = visits["book/day3/distributions.html"].page.evaluate(
        "() => Array.from(document.querySelectorAll('.cell_output img')).filter(i => i.naturalWidth > 0).length"
    )
    assert figures == 9


def _ids(path: Path) -> set[str]:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return {el["id"] for el in soup.select("[id]")} | {el["name"] for el in soup.select("a[name]")}


def test_every_internal_link_resolves(visits, server, built_site):
    html = built_site.html
    ids_cache: dict[Path, set[str]] = {}
    broken = []
    checked = 0
    for rel, visit in visits.items():
        hrefs = visit.page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for href in hrefs:
            if not href.startswith(server):
                continue
            parts = urlsplit(href)
            target = html / unquote(parts.path.lstrip("/"))
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{rel} -> {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = ids_cache.setdefault(target, _ids(target))
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{rel} -> {href} (no such anchor)")
    assert checked > 20
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_lesson_page_links_its_handout(visits):
    page = visits["book/day3/distributions.html"].page
    link = page.locator("p.course-handout a")
    assert link.count() == 1
    assert link.get_attribute("href") == "../../handouts/distributions.pdf"


def test_no_launch_buttons_or_cdn_in_html(built_site):
    for path in built_site.html.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for marker in OUTSIDE_MARKERS:
            assert marker not in text, f"{path.relative_to(built_site.html)} refers to {marker}"


def test_page_opened_from_disk_shows_typeset_math(chromium, built_site):
    """No server and no network at all: the file:// page still typesets its math."""
    page = chromium.new_page()
    outside = []

    def route(r):
        if urlsplit(r.request.url).scheme in {"file", "data", "blob", "about"}:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto((built_site.html / "book/day3/distributions.html").as_uri(), wait_until="load")
    page.evaluate(WAIT_FOR_MATHJAX)
    assert page.locator("mjx-container").count() > 50
    assert not outside
    page.close()
