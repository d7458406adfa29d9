"""The Day 3 lesson pages: executed with their figures, numbers glued from the
code (never typed), the webworm and Orobanche summaries as the workshop
handout printed them (R's glmmTMB), and the webworm page re-run on another
data set of the same design.

The real course is built once per session (``built_site`` in conftest.py).
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup

from conftest import REPO
from course.execute import ensure_kernel, run_notebook
from course.project import Project

#: Lesson -> the least number of figures its executed notebook must have.
FIGURES = {
    "review": 1,        # partial pooling
    "defining": 3,      # design I data, design II data, GLMM vs log-LMM means
    "webworms": 4,      # exploration, Poisson residuals, NB1 residuals, means
    "orobanche": 4,     # proportions, binomial residuals, plate residuals, probabilities
    "repeated": 4,      # swine diagram, profiles, implied correlations, final means
    "wrapup": 1,        # treatment effects by block
}
ORDER = ["review", "distributions", "defining", "webworms", "orobanche", "repeated", "wrapup"]


def read(built_site, name) -> nbformat.NotebookNode:
    return nbformat.read(built_site.executed / f"book/day3/{name}.ipynb", as_version=4)


def outputs(nb):
    for cell in nb.cells:
        yield from cell.get("outputs", [])


def glued(nb) -> dict:
    """Values stored with myst_nb's glue(): name -> the Python repr as text."""
    found = {}
    for out in outputs(nb):
        meta = out.get("metadata", {}).get("scrapbook")
        if meta:
            prefix = meta.get("mime_prefix", "")
            found[meta["name"]] = out["data"][prefix + "text/plain"]
    return found


def text_outputs(nb) -> str:
    parts = []
    for out in outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        else:
            data = out.get("data", {})
            parts.append(data.get("text/plain", ""))
            if "text/html" in data:
                parts.append(BeautifulSoup(data["text/html"], "html.parser").get_text("\n"))
    return "\n".join(parts)


def check_coefficients(printed: str, handout: dict) -> None:
    """Each coefficient row of the printed summary (name, estimate, SE, ...)
    agrees with the handout's value to the digits the handout printed."""
    for name, (estimate, se) in handout.items():
        row = re.search(rf"^{re.escape(name)}\s+(-?[0-9.]+)\s+([0-9.]+)", printed, re.M)
        assert row, f"no summary row for {name}"
        assert float(row.group(1)) == pytest.approx(estimate, abs=6e-4), name
        assert float(row.group(2)) == pytest.approx(se, abs=6e-4), name


def page_text(built_site, name) -> str:
    html = (built_site.html / f"book/day3/{name}.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser").get_text(" ")


def test_day3_lessons_are_in_the_toc_in_section_order():
    lessons = [lesson.name for lesson in Project(REPO).lessons]
    day3 = [name for name in lessons if name in ORDER]
    assert day3 == ORDER


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_lesson_is_executed_with_its_figures(built_site, name):
    nb = read(built_site, name)
    assert not [o for o in outputs(nb) if o.output_type == "error"], f"{name} has errors"
    figures = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert len(figures) >= FIGURES[name], f"{name}: {len(figures)} figures"
    # a parameters cell, so the page can be re-run with other values
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_glued_number_reaches_the_page(built_site, name):
    """Numbers in the prose come from the code: every {glue:text} role in the
    source is rendered (no role left as text, no missing key)."""
    source = (REPO / f"book/day3/{name}.md").read_text(encoding="utf-8")
    roles = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", source))
    assert roles <= set(glued(read(built_site, name))), "a glue role has no glued value"
    text = page_text(built_site, name)
    assert "{glue" not in text and "glue:text" not in text


def test_webworms_summary_matches_the_handout(built_site):
    """The handout's glmmTMB summary: AIC 3012.4, BIC 3043.4, logLik -1500.2,
    deviance 3000.4, df.resid 1294; block variance 0.1034 (SD 0.3216);
    dispersion 0.308; estimates (SE) 0.27106 (0.10482), -0.97814 (0.10155),
    -0.47650 (0.08642), -1.20051 (0.11028)."""
    nb = read(built_site, "webworms")
    values = glued(nb)
    assert round(float(values["nb_aic"]), 1) == 3012.4
    assert round(float(values["nb_loglik"]), 1) == -1500.2
    assert round(float(values["nb_block_var"]), 4) == 0.1034
    assert round(float(values["nb_block_sd"]), 4) == 0.3216
    assert round(float(values["nb_phi"]), 3) == 0.308
    printed = text_outputs(nb)
    assert re.search(r"3012\.4\s+3043\.4\s+-1500\.2\s+3000\.4\s+1294", printed)
    nb1_summary = printed[printed.index("Family: nbinom1"):]
    check_coefficients(nb1_summary, {"(Intercept)": (0.27106, 0.10482), "trtT2": (-0.97814, 0.10155),
                                 "trtT3": (-0.47650, 0.08642), "trtT4": (-1.20051, 0.11028)})
    # and the prose states them
    text = page_text(built_site, "webworms")
    assert "3012.4" in text and "-1500.2" in text


def test_webworms_comparison_and_means(built_site):
    values = glued(read(built_site, "webworms"))
    # Poisson vs NB1: AIC 3048.0 vs 3012.4 (glmmTMB), LR statistic 37.6 on 1 df
    assert float(values["aic_gain"]) == pytest.approx(3047.988 - 3012.373, abs=0.05)
    assert float(values["lrt_chisq"]) == pytest.approx(37.61, abs=0.05)
    # emmeans 1.8.4 on glmmTMB's model with plots (tests/fixtures/r_bridge.json): T1 mean
    # 1.2992 larvae per unit area, T4 the lowest, 0.39051
    assert float(values["ref_mean"]) == pytest.approx(1.2992, abs=5e-4)
    assert values["best_level"] == "'T4'"
    assert float(values["best_mean"]) == pytest.approx(0.39051, abs=5e-4)


def test_orobanche_summary_matches_the_handout(built_site):
    """AIC 117.9, BIC 122.1, logLik -54.9, deviance 109.9, df.resid 17;
    estimates (SE) -0.4122 (0.1842), 0.5401 (0.2498), -0.1459 (0.2232),
    0.7781 (0.3064)."""
    printed = text_outputs(read(built_site, "orobanche"))
    assert re.search(r"117\.9\s+122\.1\s+-54\.9\s+109\.9\s+17\b", printed)
    first_summary = printed[printed.index("Family: binomial"):]
    first_summary = first_summary[:first_summary.index("Signif. codes")]
    assert "plate" not in first_summary
    check_coefficients(first_summary, {"(Intercept)": (-0.4122, 0.1842), "extractcucumber": (0.5401, 0.2498),
                                 "genO75": (-0.1459, 0.2232),
                                 "extractcucumber:genO75": (0.7781, 0.3064)})


def test_repeated_lesson_fits_all_structures(built_site):
    nb = read(built_site, "repeated")
    printed = text_outputs(nb)
    for name in ("CS", "AR(1)", "CS + AR(1)", "UN"):
        assert name in printed
    assert "ConvergenceWarning" not in printed and "did not converge" not in printed


def test_webworms_page_reruns_on_a_resampled_copy(tmp_path):
    """The parameters cell names the data: the page runs unchanged on another
    data set of the same design (here the counts resampled within every block
    and treatment), as `build --param webworms.data=...` does."""
    from glmm_lib import datasets

    worms = datasets.load("beall_webworms")
    rng = np.random.default_rng(2024)
    resampled = worms.copy()
    for _, rows in worms.groupby(["block", "trt"], observed=True):
        resampled.loc[rows.index, "y"] = rng.choice(rows["y"].to_numpy(), size=len(rows))
    csv = tmp_path / "resampled.csv"
    resampled.to_csv(csv, index=False)

    project = Project(REPO, out=tmp_path)
    kernel = ensure_kernel(project)
    lesson = project.lesson("webworms")
    out = tmp_path / "webworms.ipynb"
    nb = run_notebook(lesson.source, out, {"data": str(csv), "n_sim": 100}, cwd=lesson.source.parent,
                      kernel_name=kernel, name="webworms", progress_bar=False)
    assert not [o for o in outputs(nb) if o.output_type == "error"]
    assert len([o for o in outputs(nb) if "image/png" in o.get("data", {})]) >= 4
    values = glued(nb)
    assert round(float(values["nb_aic"]), 1) != 3012.4      # other data, other fit
    assert str(csv) in "".join(c.source for c in nb.cells)
