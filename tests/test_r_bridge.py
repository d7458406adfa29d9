"""The R tabs of the lesson pages give the numbers the pages show.

``tests/r_bridge.R`` runs the R code of every page's R tabs and writes the values
of its fits, comparisons and means tables to ``tests/fixtures/r_bridge.json``;
each page glues the same values as computed in Python
(:mod:`course.lessonkit.bridge`). Here they must agree, key by key: the
coefficients and standard errors to R's own optimizer precision (glmmTMB's
default stops with gradients near 1e-3, which moves the fifth decimal), every
other number likewise. Two R outputs are not numbers to match, and the test says
which: a glmmTMB fit that R reports as not converged (``converged`` false in the
fixture; the AR(1) swine model stops with "false convergence") is compared by its
log-likelihood, which the Python fit must reach; and a likelihood-ratio "test" R prints
between models with the same number of parameters (Chi Df 0) must be blank here.

The real course is built once per session (``built_site`` in conftest.py).
"""
from __future__ import annotations

import ast
import json
import re

import nbformat
import numpy as np
import pytest

from conftest import REPO
from test_lessons import glued

FIXTURES = json.loads((REPO / "tests/fixtures/r_bridge.json").read_text())
PAGES = sorted(name for name in FIXTURES if not name.startswith("_"))
#: Relative and absolute tolerance: glmmTMB's default optimizer stops short of the maximum
#: by about 1e-5 relative in the coefficients (see the webworms page).
RTOL, ATOL = 2e-4, 2e-4


def python_values(built_site, page) -> dict:
    day = next((REPO / "book").glob(f"*/{page}.md")).parent.name
    executed = nbformat.read(built_site.executed / f"book/{day}/{page}.ipynb", as_version=4)
    return json.loads(ast.literal_eval(glued(executed)["r_bridge"]))


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
        theirs_all = {column: as_array(values) for column, values in r_values[key].items()
                      if column != "converged"}
        ours_all = {column: as_array(values) for column, values in numbers.items()}
        if r_values[key].get("converged") is False:
            assert ours_all["logLik"][0] >= theirs_all["logLik"][0] - ATOL, f"{page}: {key}"
            ours_all = {"logLik": ours_all["logLik"]}
        if "Chi Df" in theirs_all:
            no_test = theirs_all["Chi Df"] == 0
            for column in ("Chisq", "Chi Df", "Pr(>Chisq)"):
                assert np.isnan(ours_all[column][no_test]).all(), f"{page}: {key} {column}"
                theirs_all[column][no_test] = np.nan
        for column, ours in ours_all.items():
            assert column in theirs_all, f"{page}: {key} has no {column} in R"
            np.testing.assert_allclose(ours, theirs_all[column], rtol=RTOL, atol=ATOL,
                                       equal_nan=True, err_msg=f"{page}: {key} {column}")


def as_array(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_lesson_data_files_are_what_the_pages_draw():
    """The CSV files the R tabs of the Defining and Review pages read are the data those
    pages simulate (or subsample) in Python with their default parameters."""
    import sys

    import pandas as pd

    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    from make_lesson_data import lesson_data

    for name, drawn in lesson_data().items():
        stored = pd.read_csv(REPO / "tests" / "fixtures" / "data" / f"{name}.csv")
        pd.testing.assert_frame_equal(stored, drawn.reset_index(drop=True).astype(
            {c: str for c in drawn.columns if isinstance(drawn[c].dtype, pd.CategoricalDtype)}),
            check_exact=False, rtol=1e-12, obj=name)
