"""The Day 1 and Day 2 lesson pages: executed with their figures and exercises, every
number in the prose glued from the code, and the values the pages teach checked against
what the design implies (df of the strata, shrinkage, REML's bias).

The real course is built once per session (``built_site`` in conftest.py).
"""
from __future__ import annotations

import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import REPO
from course.project import Project
from test_lessons import glued, outputs

#: lesson -> (day folder, least number of figures)
LESSONS = {
    "linear_model": ("day1", 2),           # the RCBD, residual plots
    "blocks_fixed_random": ("day1", 1),    # means under both models
    "reml": ("day1", 2),                   # residual and block variance estimates
    "blups": ("day1", 1),                  # pooling arrows
    "subsampling": ("day1", 1),            # plants by pot
    "split_plot": ("day2", 1),             # nitro x variety means
    "alpha_lattice": ("day2", 1),          # genotype means, blocks fixed and random
    "covariance_structures": ("day2", 2),  # profiles, implied correlations
    "marginal_means": ("day2", 1),         # means with letters
    "residual_checks": ("day2", 3),        # oats residuals, whole plots, counts
}


def read(built_site, name) -> nbformat.NotebookNode:
    day, _ = LESSONS[name]
    return nbformat.read(built_site.executed / f"book/{day}/{name}.ipynb", as_version=4)


def test_days_1_and_2_come_before_day_3_in_the_toc():
    lessons = [lesson.name for lesson in Project(REPO).lessons]
    assert lessons[:len(LESSONS)] == list(LESSONS)
    assert lessons[len(LESSONS)] == "review"


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_is_executed_with_figures_parameters_and_exercises(built_site, name):
    nb = read(built_site, name)
    assert not [o for o in outputs(nb) if o.output_type == "error"], f"{name} has errors"
    figures = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert len(figures) >= LESSONS[name][1], f"{name}: {len(figures)} figures"
    assert all(o["metadata"]["image/png"]["alt"] for o in figures), "a figure without alt text"
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")
    source = (REPO / f"book/{LESSONS[name][0]}/{name}.md").read_text(encoding="utf-8")
    assert "## Exercises" in source and ":::{dropdown} Solutions" in source


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_glued_number_reaches_the_page(built_site, name):
    day, _ = LESSONS[name]
    source = (REPO / f"book/{day}/{name}.md").read_text(encoding="utf-8")
    roles = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", source))
    assert roles and roles <= set(glued(read(built_site, name)))
    html = (built_site.html / f"book/{day}/{name}.html").read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert "{glue" not in text and "glue:text" not in text


def test_split_plot_strata_have_the_classic_df(built_site):
    """Oats: whole-plot error (6 - 1)(3 - 1) = 10 df, subplot error 3 x 5 x 3 = 45 df
    (lmerTest's Kenward-Roger anova of the same model)."""
    values = glued(read(built_site, "split_plot"))
    assert int(values["whole_df"]) == 10 and int(values["split_df"]) == 45
    assert float(values["p_split"]) < 1e-10


def test_subsampling_naive_df_are_the_plants_and_right_df_the_pots(built_site):
    values = glued(read(built_site, "subsampling"))
    assert int(values["naive_df"]) == 64 - 4
    assert int(values["right_df"]) == 16 - 4


def test_reml_removes_mls_downward_bias(built_site):
    values = glued(read(built_site, "reml"))
    assert float(values["ml_res_bias"]) > 15          # percent too small under ML
    assert abs(float(values["reml_res_bias"])) < 10


def test_blups_shrink_by_the_reliability_of_a_block_mean(built_site):
    values = glued(read(built_site, "blups"))
    s2b, s2, t = float(values["sigma2_b"]), float(values["sigma2"]), int(values["per_block"])
    assert float(values["shrink"]) == pytest.approx(s2b / (s2b + s2 / t), rel=1e-9)
    assert 0 < float(values["shrink"]) < 1
