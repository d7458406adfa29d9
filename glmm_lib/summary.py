"""A printed summary laid out like glmmTMB's ``print(summary(fit))``, line by line.

glmmTMB 1.1.5 prints with ``digits = max(3, getOption("digits") - 3)`` = 4 and R's own
formatting rules, which ``rstyle`` reproduces; this module lays out the sections.

Only the ``Data:`` line (R prints the name of the data object) and lines that depend on
how the fit was called (``Weights:``, ``Offset:``) can differ from glmmTMB's output.
"""
from __future__ import annotations

import re

import numpy as np

from .rstyle.deparse import deparse_formula, lhs_width
from .rstyle.numbers import format_c, format_r, r_round
from .rstyle.printing import cat_fill, coefficient_table, print_matrix, print_named


def _make_names(names):
    """R's make.names(names, unique = TRUE)."""
    out, seen = [], {}
    for name in names:
        clean = re.sub(r"[^A-Za-z0-9._]", ".", name)
        if not re.match(r"[A-Za-z]|\.(?![0-9])", clean):
            clean = "X" + clean
        out.append(clean)
    result = []
    for name in out:
        if name in seen:
            k = seen[name]
            while f"{name}.{k}" in out or f"{name}.{k}" in result:
                k += 1
            seen[name] = k + 1
            result.append(f"{name}.{k}")
        else:
            seen[name] = 1
            result.append(name)
    return result


class Summary:
    digits = 4   # print.summary.glmmTMB: max(3, getOption("digits") - 3)

    def __init__(self, fit):
        self.fit = fit

    # ---- pieces of the model ------------------------------------------------
    def _dispersion(self):
        """("none" | "trivial" | "zero" | "model", aux name) for the family's dispersion."""
        model = self.fit.model
        name = self.fit.family.dispersion_parameter
        if name is None or name not in model.aux_designs:
            return "none", None
        design = model.aux_designs[name]
        fixed = getattr(model, "aux_fixed", {}).get(name)
        if design.shape[1] == 0:
            return "zero", name
        if fixed is None:
            return "trivial", name
        return "model", name

    def _aux_rhs(self, name):
        fixed = getattr(self.fit.model, "aux_fixed", {}).get(name)
        return None if fixed is None else fixed.rhs

    def _data_name(self):
        data = getattr(self.fit.model.frame, "data", None)
        name = getattr(data, "attrs", {}).get("name") if data is not None else None
        return name or "data"

    # ---- sections -------------------------------------------------------------
    def header_lines(self):
        fam = self.fit.family
        out = cat_fill([" Family:", fam.name, f" ( {fam.link.name} )"])
        formula = self.fit.formula
        out += cat_fill(["Formula:         "] + deparse_formula(formula))
        pass_width = lhs_width(formula)
        zi = self._aux_rhs(self.fit.family.zero_inflation_parameter)
        if zi is not None:
            out += cat_fill(["Zero inflation:  ", " " * (pass_width + 2),
                             "".join(deparse_formula("~" + zi))], sep="")
        kind, name = self._dispersion()
        if kind in ("zero", "model"):
            rhs = "0" if kind == "zero" else self._aux_rhs(name)
            out += cat_fill(["Dispersion:      ", " " * (pass_width + 2),
                             "".join(deparse_formula("~" + rhs))], sep="")
        out += cat_fill(["Data:", self._data_name()])
        dropped = self.fit.model.frame.n_dropped
        if dropped:
            out.append(f"  ({dropped} observation{'s' if dropped > 1 else ''} deleted due to "
                       "missingness)")
        return out

    def aic_lines(self):
        fit = self.fit
        values = [fit.aic, fit.bic, fit.llf, fit.deviance, fit.df_resid]
        rounded = [r_round(v, 1) for v in values]
        text = format_r(rounded)
        text[4] = format_r([rounded[4]])[0]
        return print_named(text, ["AIC", "BIC", "logLik", "deviance", "df.resid"])

    def varcorr_lines(self):
        """formatVC(): Groups, Name, Variance, Std.Dev. (and Corr) as glmmTMB prints them."""
        fit, digits = self.fit, self.digits
        re = fit.model.random_effects
        vc = fit.varcorr
        groups, names, sds, corr_cells = [], [], [], []
        use_corr = False
        start = 0
        terms = []
        for term in re.terms:
            rows = vc.iloc[start: start + term.size]
            start += term.size
            terms.append((term, rows))
        max_len = 0
        for term, rows in terms:
            n_shown = 1 if term.structure.name == "ar1" else term.size
            max_len = max(max_len, n_shown)
            if term.structure.name != "us" or n_shown > 1:
                use_corr = True
        kind, _ = self._dispersion()
        use_scale = fit.family.has_residual_variance and kind != "zero"
        if use_scale:
            max_len = max(max_len, 1)
        group_names = [t.group_name for t, _ in terms]
        if len(set(group_names)) < len(group_names):
            group_names = _make_names(group_names)
        for (term, rows), label in zip(terms, group_names):
            structure = term.structure.name
            n_shown = 1 if structure == "ar1" else term.size
            sd = rows["sd"].to_numpy(float)[:n_shown]
            for i in range(n_shown):
                groups.append(label if i == 0 else "")
                names.append(str(rows["term"].iloc[i]))
                sds.append(sd[i])
            corr_cells += self._corr_cells(term, rows, n_shown, max_len)
        if use_scale:
            groups.append("Residual")
            names.append("")
            sigma = fit.sigma if kind == "trivial" else float("nan")
            sds.append(sigma)
            corr_cells.append([""] * max_len)
        sds = np.asarray(sds, float)
        variances = format_r(sds ** 2, digits)
        sd_text = format_r(sds, digits)
        colnames = ["Groups", "Name", "Variance", "Std.Dev."]
        cells = [[g, n, v, s] for g, n, v, s in zip(groups, names, variances, sd_text)]
        if use_corr:
            colnames += ["Corr"] + [""] * (max_len - 1)
            for row, extra in zip(cells, corr_cells):
                row += extra
        lines = print_matrix(cells, colnames, [""] * len(cells), right=False)
        counts = []
        seen = set()
        for term, _ in terms:
            if term.group_name not in seen:
                seen.add(term.group_name)
                counts.append(f"{term.group_name}, {term.n_levels}")
        lines += cat_fill([f"Number of obs: {fit.nobs}, groups: ", "; ".join(counts)])
        return lines

    def _corr_cells(self, term, rows, n_shown, max_len):
        structure = term.structure.name
        size = term.size
        if structure in ("ar1", "cs"):
            rho = float(rows["rho"].iloc[0]) if "rho" in rows.columns else float("nan")
            corr = np.full((size, size), rho) + (1 - rho) * np.eye(size)
        elif size > 1 and structure == "us":
            corr = np.eye(size)
            for i in range(size):
                for j in range(i):
                    corr[i, j] = corr[j, i] = float(rows.iloc[i][f"corr_{j + 1}"])
        else:
            corr = np.eye(size)
        dig = max(2, self.digits - 2)
        flat = format_r([r_round(v, dig) for v in corr.ravel()], 7, nsmall=dig)
        text = np.array(flat, dtype=object).reshape(size, size)
        if structure in ("ar1", "cs") and size > 1:
            out = [[f"{text[1, 0]} ({structure})"] + [""] * (max_len - 1)]
            return out + [[""] * max_len for _ in range(n_shown - 1)]
        out = []
        for i in range(n_shown):
            row = [text[i, j] if j < i else "" for j in range(size)]
            out.append((row + [""] * max_len)[:max_len])
        return out

    def dispersion_lines(self):
        kind, name = self._dispersion()
        if kind != "trivial":
            return []
        fam = self.fit.family
        classic = fam.reports_sigma_squared
        sigma = self.fit.sigma
        label, symbol = (("Dispersion estimate", "sigma^2") if classic
                         else ("Dispersion parameter", ""))
        value = sigma ** 2 if classic else sigma
        return ["", f"{label} for {fam.name} family ({symbol}): {format_c(value, 3)} "]

    def coefficient_sections(self):
        fit = self.fit
        out = ["", "Conditional model:"]
        out += coefficient_table(list(fit.params.index), fit.params.to_numpy(),
                                 fit.bse.to_numpy(), self.digits)
        params_zi = getattr(fit, "params_zi", None)
        if params_zi is not None and len(params_zi):
            out += ["", "Zero-inflation model:"]
            out += coefficient_table(list(params_zi.index), params_zi.to_numpy(),
                                     fit.bse_zi.to_numpy(), self.digits)
        kind, _ = self._dispersion()
        if kind == "model":
            out += ["", "Dispersion model:"]
            out += coefficient_table(list(fit.params_disp.index), fit.params_disp.to_numpy(),
                                     fit.bse_disp.to_numpy(), self.digits)
        return out

    def lines(self):
        fit = self.fit
        out = []
        if not fit.converged:
            out.append("WARNING: the fit did not converge: " + "; ".join(fit.convergence_problems))
        out += self.header_lines()
        out.append("")
        out += self.aic_lines()
        out.append("")
        if fit.model.random_effects.terms:
            out += ["Random effects:", "", "Conditional model:"]
            out += self.varcorr_lines()
        out += self.dispersion_lines()
        out += self.coefficient_sections()
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        import html
        return f"<pre>{html.escape(str(self))}</pre>"
