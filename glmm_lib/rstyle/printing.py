"""R's printing of character matrices, named vectors, ``cat(fill = TRUE)`` and
``printCoefmat`` (the coefficient table with significance stars)."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .numbers import format_pval, format_r, r_round, zapsmall

WIDTH = 80                       # getOption("width")

SIGNIF_LEGEND = "0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 \u2018.\u2019 0.1 \u2018 \u2019 1"


def signif_stars(p):
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p <= cut:
            return mark
    return " "


def print_matrix(cells, colnames, rownames, right=True, width=WIDTH):
    """R's print of a character matrix (quote = FALSE): row names left-aligned, each
    column preceded by one space and right- (or left-) aligned to the wider of its
    header and entries; columns that do not fit in ``width`` go to further blocks."""
    nrow, ncol = len(rownames), len(colnames)
    rlabw = max((len(r) for r in rownames), default=0)
    widths = [max([len(colnames[j])] + [len(cells[i][j]) for i in range(nrow)]) + 1
              for j in range(ncol)]

    def cell(text, w):
        return text.rjust(w) if right else text.ljust(w)

    lines = []
    jmin = 0
    while jmin < ncol:
        total, jmax = rlabw, jmin
        while True:
            total += widths[jmax]
            jmax += 1
            if not (jmax < ncol and total + widths[jmax] < width):
                break
        cols = range(jmin, jmax)
        lines.append(" " * rlabw + "".join(" " + cell(colnames[j], widths[j] - 1) for j in cols))
        for i in range(nrow):
            lines.append(rownames[i].ljust(rlabw)
                         + "".join(" " + cell(cells[i][j], widths[j] - 1) for j in cols))
        jmin = jmax
    return lines


def print_named(values, names, width=WIDTH):
    """R's print of a named character vector (quote = FALSE): one common width,
    right-aligned, each entry followed by one space."""
    w = max(len(s) for s in list(values) + list(names))
    per_line = max(1, width // (w + 1))
    lines = []
    for start in range(0, len(values), per_line):
        chunk = slice(start, start + per_line)
        lines.append("".join(n.rjust(w) + " " for n in names[chunk]))
        lines.append("".join(v.rjust(w) + " " for v in values[chunk]))
    return lines


def cat_fill(items, sep=" ", width=WIDTH):
    """R's ``cat(..., sep = sep, fill = TRUE)``: a new line before an item that would pass
    ``width`` (the separator is written before that decision), and one at the end."""
    lines, line, used = [], "", 0
    for k, item in enumerate(items):
        if k:
            line += sep
        if used + len(item) + len(sep) > width and used:
            lines.append(line)
            line, used = "", 0
        line += item
        used += len(item) + len(sep)
    lines.append(line)
    return lines


def coefficient_table(names, estimate, se, digits=4):
    """R's ``printCoefmat(cbind(Estimate, Std. Error, z value, Pr(>|z|)), zap.ind = 3,
    digits = digits)`` as glmmTMB calls it: the table lines and, when a p-value is below
    0.1, the significance legend."""
    est, se = np.asarray(estimate, float), np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    p = 2 * stats.norm.sf(np.abs(z))
    n = est.size
    coef_se = np.concatenate([est, se])
    cells = [["", "", "", ""] for _ in range(n)]
    acs = np.abs(coef_se[np.isfinite(coef_se)])
    if acs.size:
        nonzero = acs[acs != 0]
        digmin = 1 + math.floor(math.log10(nonzero.min())) if nonzero.size else 1
        rounded = [r_round(v, max(1, digits - digmin)) for v in coef_se]
        text = format_r(rounded, digits)
        # an entry shown as 0 that is not 0 is shown with its own digits
        wrong = [k for k, (v, t) in enumerate(zip(coef_se, text))
                 if np.isfinite(v) and (v == 0) != (float(t) == 0)]
        if wrong:
            for k, t in zip(wrong, format_r(coef_se[wrong], max(1, digits - 1))):
                text[k] = t
        for i in range(n):
            cells[i][0], cells[i][1] = text[i], text[n + i]
    dig_tst = max(1, min(5, digits - 1))
    zz = zapsmall(z, digits)
    z_text = format_r([r_round(v, dig_tst) if np.isfinite(v) else v for v in zz], digits)
    p_ok = np.isfinite(p)
    p_text = format_pval(p[p_ok], dig_tst) if p_ok.any() else []
    for i in range(n):
        cells[i][2] = z_text[i] if np.isfinite(z[i]) else "NA"
        cells[i][3] = p_text.pop(0) if p_ok[i] else "NA"
        for k in (0, 1):
            if not np.isfinite(coef_se[k * n + i]):
                cells[i][k] = "NaN" if np.isnan(coef_se[k * n + i]) else cells[i][k]
    colnames = ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]
    stars = p_ok.any() and bool(np.any(p[p_ok] < 0.1))
    if stars:
        marks = [signif_stars(v) for v in p]
        w = max(len(m) for m in marks)
        for row, mark in zip(cells, marks):
            row.append(mark.ljust(w))
        colnames.append("")
    lines = print_matrix(cells, colnames, list(names), right=True)
    if stars:
        lines += ["---", "Signif. codes:  " + SIGNIF_LEGEND]
    return lines
