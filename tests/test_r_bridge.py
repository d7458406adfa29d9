"""The R tabs of the lesson pages give the numbers the pages show.

``tests/r_bridge.R`` runs the R code of every page's R tabs and writes the values
of its fits, comparisons and means tables to ``tests/fixtures/r_bridge.json``;
each page glues the same values as computed in Python
(:mod:`course.lessonkit.bridge`). Here they must agree, key by key: the
coefficients and standard errors to R's own optimizer precision (glmmTMB's
default stops with gradients near 1e-3, which moves the fifth decimal), every
other number likewise.

The real course is built once per session (``built_site`` in conftest.py).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import REPO
from test_lessons import glued, read

FIXTURES = json.loads((REPO / "tests/fixtures/r_bridge.json").read_text())
PAGES = sorted(name for name in FIXTURES if not name.startswith("_"))
#: Relative and absolute tolerance: glmmTMB's default optimizer stops short of the maximum
#: by about 1e-5 relative in the coefficients (see the webworms page).
RTOL, ATOL = 2e-4, 2e-4


def python_values(built_site, page) -> dict:
    return json.loads(glued(read(built_site, page))["r_bridge"].strip("'"))


def test_every_page_with_r_tabs_has_fixtures():
    pages = {path.stem for path in (REPO / "book").glob("*/*.md")
             if re.search(r"^```r\s*$", path.read_text(encoding="utf-8"), re.M)}
    assert pages == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_r_tabs_give_the_page_numbers(built_site, page):
    r_values = FIXTURES[page]["values"]
    py_values = python_values(built_site, page)
    fits = {key for key, value in r_values.items() if "coef" in value}
    assert fits <= set(py_values), f"R fits without a Python counterpart: {fits - set(py_values)}"
    assert set(py_values) <= set(r_values), f"no R value for {set(py_values) - set(r_values)}"
    for key, numbers in py_values.items():
        for column, values in numbers.items():
            assert column in r_values[key], f"{page}: {key} has no {column} in R"
            ours = np.array([np.nan if v is None else v for v in values], dtype=float)
            theirs = np.array([np.nan if v is None else v for v in r_values[key][column]], dtype=float)
            np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True,
                                       err_msg=f"{page}: {key} {column}")
