"""PDF handouts: one A4 PDF per lesson, with pages, the title and the figures."""

from __future__ import annotations

import re
import subprocess
import zlib

import pytest


def title_of(lesson) -> str:
    for line in lesson.source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{lesson.source} has no '# ' title")


def pdfinfo(path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def pdftext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def handouts(built_site, project):
    return {lesson: built_site.html / "handouts" / f"{lesson.name}.pdf" for lesson in project.lessons}


def test_one_handout_per_lesson(handouts, built_site):
    assert handouts
    for lesson, pdf in handouts.items():
        assert pdf.is_file(), f"no handout for {lesson.name}"
    on_disk = {p.name for p in (built_site.html / "handouts").glob("*.pdf")}
    assert on_disk == {pdf.name for pdf in handouts.values()}


def pdf_objects(pdf) -> bytes:
    """The PDF's bytes with every Flate-compressed stream inflated (object streams hold the
    structure tree of a tagged PDF)."""
    data = pdf.read_bytes()
    inflated = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            inflated.append(zlib.decompressobj().decompress(data[match.end():]))
        except zlib.error:
            continue
    return b"".join(inflated)


def test_handouts_are_a4_with_pages_and_the_title(handouts):
    for lesson, pdf in handouts.items():
        info = pdfinfo(pdf)
        assert int(info["Pages"]) > 0
        width, height = map(float, re.findall(r"[\d.]+", info["Page size"])[:2])
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, f"{pdf.name} is not A4: {info['Page size']}"
        text = " ".join(pdftext(pdf).split())
        assert title_of(lesson) in text
        assert info.get("Tagged", "").strip() == "yes", f"{pdf.name} is not a tagged PDF"


def test_distributions_handout_keeps_figures_math_and_code(handouts):
    pdf = next(p for lesson, p in handouts.items() if lesson.name == "distributions")
    assert int(pdfinfo(pdf)["Pages"]) >= 5
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len(images) >= 9, "the figures did not make it into the PDF"
    text = pdftext(pdf)
    assert "stats.beta(" in text and "draw_counts(ax" in text  # code is printed
    assert "Student t" in text and "Negative binomial" in text
    # Math is typeset (Greek letters as glyphs), not left as raw TeX.
    assert "α" in text and "σ" in text and "θ" in text
    assert "\\frac" not in text and "\\text{" not in text and "\\operatorname" not in text
    assert "Printable handout" not in text  # the page's link to itself is hidden in print
    # the figures' descriptions travel with the tagged PDF as their /Alt text
    assert b"/Alt" in pdf_objects(pdf)


def test_lesson_pages_link_their_handouts(built_site, project):
    for lesson in project.lessons:
        page = (built_site.html / (lesson.docname + ".html")).read_text(encoding="utf-8")
        assert f'href="{project.handout_href(lesson)}"' in page


def test_student_handouts_leave_solutions_and_toggles_out(handouts):
    """No "Show code cell source" bars, and the solutions are not in the student's edition."""
    for lesson, pdf in handouts.items():
        text = pdftext(pdf)
        assert "Show code cell source" not in text, lesson.name
        assert "Solutions" not in text and "Hints" not in text, lesson.name


def test_instructor_handouts_print_the_solutions(handouts, built_site):
    for lesson, pdf in handouts.items():
        instructor = built_site.html / "handouts" / "instructor" / pdf.name
        assert instructor.is_file(), f"no instructor handout for {lesson.name}"
        source = lesson.source.read_text(encoding="utf-8")
        if ":::{dropdown} Solutions" in source:
            text = pdftext(instructor)
            assert "Solutions" in text, lesson.name
            assert int(pdfinfo(instructor)["Pages"]) >= int(pdfinfo(pdf)["Pages"])
