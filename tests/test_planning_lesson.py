"""The "Planning the next experiment" page (book/extras/planning.md), checked from its
source: a lesson of the book, re-runnable from its parameters cell, every number in
its prose glued from the code, every figure shown with a description.

Executing it (about 20 s of CPU) is left to the site build (tests/test_lessons.py
builds every lesson).
"""
from __future__ import annotations

import re

import jupytext

from conftest import REPO
from course.project import Project

SOURCE = REPO / "book/extras/planning.md"


def _code_cells():
    notebook = jupytext.read(SOURCE)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_page_is_a_lesson_in_the_extras_part():
    lessons = {lesson.name: lesson.docname for lesson in Project(REPO).lessons}
    assert lessons.get("planning") == "book/extras/planning"
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    extras = toc[toc.index('caption: "Extras"'):]
    assert "- file: book/extras/planning" in extras


def test_parameters_cell_sets_the_simulation_sizes():
    cells = _code_cells()
    parameters = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and cells.index(parameters[0]) == 0
    names = set(re.findall(r"^(\w+)\s*=", parameters[0].source, re.M))
    assert {"nsim_power", "nsim_boot", "seed", "blocks", "subjects"} <= names


def test_every_glue_role_has_a_glue_call():
    text = SOURCE.read_text(encoding="utf-8")
    roles = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    glued = set(re.findall(r'glue\("([A-Za-z0-9_]+)"', text))
    assert roles and roles <= glued, sorted(roles - glued)


def test_figures_are_shown_with_descriptions():
    sources = [c.source for c in _code_cells()]
    drawing = [s for s in sources if "plt.subplots" in s or ".plot(" in s]
    assert len(drawing) >= 3
    assert all("figure_text.show(" in s for s in drawing)
