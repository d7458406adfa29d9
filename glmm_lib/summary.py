"""A printed summary laid out like glmmTMB's summary(), line by line.

Numbers are formatted with R's rules (``format``/``printCoefmat``: significant
digits shared by a column, p-values below 2e-16 printed as "< 2e-16", the
significance stars) so a glmmTMB user reads the same digits.
"""
from __future__ import annotations

import math

import numpy as np

_EPS = 2.220446049250313e-16


def _sig_needed(x, digits):
    """Significant digits (<= digits) needed to show x as signif(x, digits) shows it."""
    if x == 0 or not np.isfinite(x):
        return 1
    target = float(f"{x:.{digits - 1}e}")
    for n in range(1, digits + 1):
        if float(f"{x:.{n - 1}e}") == target:
            return n
    return digits


def format_column(values, digits):
    """R's format(x, digits=): one number of decimals for the column, enough that every
    element shows its significant digits (up to ``digits``)."""
    values = np.asarray(values, float)
    decimals = 0
    for x in values[np.isfinite(values)]:
        if x == 0:
            continue
        rounded = float(f"{x:.{digits - 1}e}")
        exponent = math.floor(math.log10(abs(rounded)))
        decimals = max(decimals, _sig_needed(x, digits) - 1 - exponent)
    return [f"{x:.{decimals}f}" if np.isfinite(x) else "NA" for x in values]


def format_pvalues(pvalues, digits):
    out = []
    for p in pvalues:
        if not np.isfinite(p):
            out.append("NA")
        elif p < _EPS:
            out.append("< 2e-16")
        else:
            text = f"{p:.{digits}g}"
            if "e" in text:
                mant, exp = text.split("e")
                text = f"{mant}e{int(exp):03d}".replace("e-0", "e-")
            out.append(text)
    return out


def stars(p):
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return " "


def _table(header, rows, align_left_first=True):
    """Columns right-aligned (first column left), separated by one space, like R."""
    cols = list(zip(header, *rows))
    widths = [max(len(str(c)) for c in col) for col in cols]
    lines = []
    for row in [header] + rows:
        cells = []
        for k, (cell, width) in enumerate(zip(row, widths)):
            cells.append(str(cell).ljust(width) if k == 0 and align_left_first else str(cell).rjust(width))
        lines.append(" ".join(cells))
    return lines


class Summary:
    digits = 5   # glmmTMB prints with max(3, getOption("digits") - 2)

    def __init__(self, fit):
        self.fit = fit

    def coefficient_lines(self, params, bse, z, p, digits):
        est_se = np.concatenate([params, bse])
        finite = np.abs(est_se[np.isfinite(est_se) & (est_se != 0)])
        digmin = 1 + math.floor(math.log10(finite.max())) if finite.size else 1
        rounded = np.round(est_se, max(1, digits - digmin))
        formatted = format_column(rounded, digits)
        est, se = formatted[: len(params)], formatted[len(params):]
        zs = format_column(np.round(z, max(1, min(5, digits - 1))), digits)
        ps = format_pvalues(p, max(1, min(5, digits - 1)) - 2)
        header = ["", "Estimate", "Std. Error", "z value", "Pr(>|z|)", ""]
        rows = [[name, e, s, zz, pp, stars(pv)] for name, e, s, zz, pp, pv
                in zip(params.index, est, se, zs, ps, p)]
        lines = _table(header, rows)
        return [line.rstrip() if i == 0 else line for i, line in enumerate(lines)]

    def lines(self):
        fit = self.fit
        fam = fit.family
        model = fit.model
        out = [f" Family: {fam.name}  ( {fam.link.name} )",
               f"Formula:          {fit.formula}"]
        if model.frame.n_dropped:
            out.append(f"  ({model.frame.n_dropped} observations deleted due to missingness)")
        out.append("")
        header = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
        values = [f"{fit.aic:.1f}", f"{fit.bic:.1f}", f"{fit.llf:.1f}", f"{fit.deviance:.1f}",
                  f"{fit.df_resid}"]
        widths = [max(8, len(v)) for v in values]
        out.append(" ".join(h.rjust(w) for h, w in zip(header, widths)) + " ")
        out.append(" ".join(v.rjust(w) for v, w in zip(values, widths)) + " ")
        out.append("")
        re = model.random_effects
        if re.terms:
            out += ["Random effects:", "", "Conditional model:"]
            vc = fit.varcorr
            rows = []
            last_group = None
            for _, r in vc.iterrows():
                group = r["group"] if r["group"] != last_group else ""
                last_group = r["group"]
                rows.append([f" {group}", r["term"], f"{r['variance']:.4g}", f"{r['sd']:.4g}"])
            for line in _table([" Groups", "Name", "Variance", "Std.Dev."], rows):
                out.append(line)
            groups = ", ".join(f"{t.group_name}, {t.n_levels}" for t in re.terms)
            out.append(f"Number of obs: {fit.nobs}, groups:  {groups}")
            out.append("")
        dispersion = fam.dispersion_label() if hasattr(fam, "dispersion_label") else None
        if fam.aux_parameters:
            label = {"gaussian": "Dispersion estimate for gaussian family (sigma^2)"}.get(
                fam.name, f"Dispersion parameter for {fam.name} family ()")
            value = fit.sigma ** 2 if fam.name == "gaussian" else fit.sigma
            out.append(f"{label}: {value:.3g} ")
            out.append("")
        out.append("Conditional model:")
        out += self.coefficient_lines(fit.params, fit.bse.to_numpy(), fit.tvalues.to_numpy(),
                                      fit.pvalues.to_numpy(), self.digits)
        out.append("---")
        out.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        if not fit.converged:
            out.insert(0, "WARNING: the fit did not converge: " + "; ".join(fit.convergence_problems))
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def _repr_html_(self):
        import html
        return f"<pre>{html.escape(str(self))}</pre>"
