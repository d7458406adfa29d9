"""Accessibility of the course: palette, tables, figure descriptions, and axe-core in the browser.

The first tests need no build: the palette against the WCAG contrast formula
and a simulation of colour blindness, the table formatter against R's
``format.pval``, the figure descriptions against the data they describe.
The browser tests run axe-core (shipped inside axe-playwright-python: nothing
is fetched) with Debian's chromium over every page of the session's build,
and fail on any violation of impact moderate or above, naming rule, page and
element; every figure must carry a description, not a file path.
"""

from __future__ import annotations

import itertools
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from course.lessonkit import figure_text
from course.lessonkit.palette import LINES, OKABE_ITO, TEXT, contrast_ratio, relative_luminance
from course.lessonkit.tables import format_pvalue, format_table


# --- palette ------------------------------------------------------------------------------
def test_contrast_ratio_matches_wcag_reference_values():
    # WCAG 2.1's definitions: black on white is 21:1; #767676 is the lightest grey
    # that passes 4.5:1 on white (4.54), #777777 fails (4.48).
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777") < 4.5
    assert relative_luminance("#FF0000") == pytest.approx(0.2126)
    assert contrast_ratio("#0072B2", "#FFFFFF") == contrast_ratio("#FFFFFF", "#0072B2")


def test_text_colours_reach_4_5_to_1_and_line_colours_3_to_1():
    assert all(contrast_ratio(c) >= 4.5 for c in TEXT.values()), TEXT
    assert all(contrast_ratio(c) >= 3.0 for c in LINES), {c: round(contrast_ratio(c), 2) for c in LINES}
    from glmm_lib.diagnostic_plots import SIGNAL

    assert contrast_ratio(SIGNAL) >= 4.5


def _hue(colour: str) -> tuple[float, float]:
    import colorsys

    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    return h * 360, s


def test_no_pure_red_and_green_together():
    colours = [*LINES, *TEXT.values()]
    reds = [c for c in colours if _hue(c)[1] > 0.6 and (_hue(c)[0] < 15 or _hue(c)[0] > 345)]
    greens = [c for c in colours if _hue(c)[1] > 0.6 and 90 <= _hue(c)[0] <= 150]
    assert not (reds and greens), (reds, greens)


# Colour blindness as seen on a screen: Viénot, Brettel & Mollon (1999), the
# linear-RGB matrices for protanopes and deuteranopes (Machado et al. 2009, severity 1).
_DEFICIENCIES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}


def _linear(colour: str) -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("deficiency", sorted(_DEFICIENCIES))
def test_line_colours_stay_apart_for_colour_blind_readers(deficiency):
    matrix = _DEFICIENCIES[deficiency]
    seen = {c: np.clip(matrix @ _linear(c), 0, 1) ** (1 / 2.2) for c in LINES}
    closest = min(np.linalg.norm(seen[a] - seen[b]) for a, b in itertools.combinations(LINES, 2))
    # A red and a green of similar lightness (#D00000, #008000) come out 0.13 apart
    # for a deuteranope in this measure; every pair of the palette is further apart.
    assert closest > 0.15, (deficiency, closest)


def test_line_colours_are_okabe_ito_hues():
    okabe = {_hue(c)[0] for c in OKABE_ITO.values() if c != "#000000"}
    for colour in LINES:
        assert min(abs(_hue(colour)[0] - h) for h in okabe) < 12, colour


# --- tables -------------------------------------------------------------------------------
@pytest.mark.parametrize("p, printed", [
    # R 4.x: format.pval(p, digits = 3)
    (0.0123, "0.0123"), (0.04999, "0.05"), (0.5, "0.5"), (1.0, "1"),
    (0.000123, "0.000123"), (1.23e-05, "1.23e-05"), (1e-20, "<2e-16"), (np.nan, ""),
])
def test_pvalues_print_as_r_format_pval(p, printed):
    assert format_pvalue(p, 3) == printed


def test_table_has_no_index_column_and_no_empty_header():
    frame = pd.DataFrame({"mean": [1.23456, np.nan], "p.value": [0.0123, 1e-20]},
                         index=pd.Index(["T1", "T2"], name="trt"))
    frame.attrs["notes"] = ["P value adjustment: tukey"]
    table = format_table(frame, digits={"mean": 2})
    html = table._repr_html_()
    headers = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", html)
    assert headers == ["trt", "mean", "p.value"]
    assert "<td class=\"numeric\">1.23</td>" in html and "<td class=\"numeric\"></td>" in html
    assert "&lt;2e-16" in html and "P value adjustment: tukey" in html
    plain = format_table(pd.DataFrame({"a": [1, 2]}))
    assert re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", plain._repr_html_()) == ["a"]
    with pytest.raises(KeyError, match="no column"):
        format_table(frame, pvalues=["P"])


# --- figure descriptions -------------------------------------------------------------------
def test_rcbd_description_comes_from_the_data():
    data = pd.DataFrame({"block": list("aabb"), "trt": ["T1", "T2"] * 2, "y": [4.0, 1.0, 6.0, 2.0]})
    text = figure_text.describe_rcbd(data, "y", "trt", "block")
    assert "T1 and T2" in text and "2 blocks" in text
    assert "highest T1 (5)" in text and "lowest T2 (1.5)" in text


def test_curves_are_described_by_their_labels_and_peaks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    x = np.linspace(-3, 3, 61)
    ax.plot(x, np.exp(-x**2 / 2), label=r"$\sigma$ = 1")
    ax.set(xlabel="y", ylabel="density", title="Normal densities")
    text = figure_text.describe_curves(ax)
    plt.close(fig)
    assert text.startswith("Normal densities: density against y.")
    assert "σ = 1 peaks at 1 at 0." in text


# --- the built site in a browser ----------------------------------------------------------
def _pages(html):
    return sorted(
        p.relative_to(html).as_posix() for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_")
        and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")
    )


@pytest.fixture(scope="module")
def axe_results(built_site):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from course.handouts import CHROMIUM_ARGS, serve

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required: apt-get install -y chromium"
    axe = Axe()
    results = {}
    with serve(built_site.html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for rel in _pages(built_site.html):
            page = browser.new_page()
            page.goto(base + rel)
            page.wait_for_load_state("load")
            images = page.evaluate("() => Array.from(document.querySelectorAll('img'))"
                                   ".map(i => [i.getAttribute('src'), i.getAttribute('alt')])")
            results[rel] = (axe.run(page).response["violations"], images)
            page.close()
        browser.close()
    assert "book/day3/webworms.html" in results
    return results


SERIOUS = {"moderate", "serious", "critical"}


def test_no_accessibility_violations_of_impact_moderate_or_above(axe_results):
    found = [f"{v['id']} ({v['impact']}) on {rel}: {', '.join(str(n['target']) for n in v['nodes'])}"
             for rel, (violations, _) in axe_results.items()
             for v in violations if v["impact"] in SERIOUS]
    assert not found, "axe-core violations:\n" + "\n".join(found)


def test_no_minor_accessibility_violations(axe_results):
    found = [f"{v['id']} on {rel}: {len(v['nodes'])} element(s)"
             for rel, (violations, _) in axe_results.items() for v in violations
             if v["impact"] not in SERIOUS]
    assert not found, "axe-core violations:\n" + "\n".join(found)


def test_every_figure_has_a_description_not_a_file_name(axe_results):
    bad = []
    figures = 0
    for rel, (_, images) in axe_results.items():
        for src, alt in images:
            figures += 1
            text = (alt or "").strip()
            if not text or re.search(r"\.(png|jpe?g|svg|gif)\b", text, re.I) or "/" in text.split()[0]:
                bad.append(f"{rel}: {src} has alt {alt!r}")
    assert figures >= 26
    assert not bad, "\n".join(bad)
