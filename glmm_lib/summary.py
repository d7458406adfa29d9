"""A printed summary laid out like glmmTMB's ``print(summary(fit))``, line by line.

glmmTMB 1.1.5 prints with ``digits = max(3, getOption("digits") - 3)`` = 4 and R's own
formatting rules, reproduced here:

- ``format(x, digits=)`` (R's formatReal): every element gets the significant digits it
  needs (up to ``digits``), the column shares one number of decimals and one width, and
  switches to scientific notation when that is narrower;
- ``round`` (R >= 4.0's algorithm), ``zapsmall``, ``format.pval`` (``< 2e-16``),
  ``formatC(x, digits = 3)``;
- ``printCoefmat`` (estimates and SEs rounded together, z values to 3 decimals after
  ``zapsmall``, p-values, significance stars and their legend);
- ``print`` of a character matrix (row names left-aligned, columns right- or
  left-aligned, blocks of columns that fit in 80 characters) and of a named vector;
- ``deparse`` of the formula (R's spacing around operators, a line break after a binary
  operator once a line passes 60 characters) and ``cat(..., fill = TRUE)``.

Only the ``Data:`` line (R prints the name of the data object) and lines that depend on
how the fit was called (``Weights:``, ``Offset:``) can differ from glmmTMB's output.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

EPS = 2.220446049250313e-16      # .Machine$double.eps
WIDTH = 80                       # getOption("width")
DEPARSE_CUTOFF = 60              # deparse(width.cutoff = 60)
_KP_MAX = 22

SIGNIF_LEGEND = "0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 \u2018.\u2019 0.1 \u2018 \u2019 1"


# ================================================================ R numbers

def r_round(x, digits):
    """R's ``round(x, digits)`` (R >= 4.0.0): the nearer of the two candidates with
    ``digits`` decimals, computed in double precision; ties to the even last digit.
    ``digits`` may be fractional (rounded to the nearest integer, as R does)."""
    x = float(x)
    if not math.isfinite(x) or x == 0.0:
        return x
    dig = int(math.floor(digits + 0.5))
    if dig == 0:
        return float(round(x))          # Python rounds half to even, as R's nearbyint
    if x < 0:
        return -_positive_round(-x, dig)
    return _positive_round(x, dig)


def _positive_round(x, dig):
    if dig > 308:
        return x
    l10x = math.log10(2.0) * (0.5 + math.frexp(x)[1] - 1)   # M_LOG10_2 * (0.5 + logb(x))
    if l10x + dig > 15:
        return x
    if dig > 0:
        pow10 = 10.0 ** dig
        x10 = pow10 * x
        i10 = math.floor(x10)
        xd, xu = i10 / pow10, math.ceil(x10) / pow10
    else:
        pow10 = 10.0 ** (-dig)
        x10 = x / pow10
        i10 = math.floor(x10)
        xd, xu = i10 * pow10, math.ceil(x10) * pow10
    du, dd = xu - x, x - xd
    return xu if (du < dd or (du == dd and i10 % 2 == 1)) else xd


def zapsmall(values, digits):
    """R 4.2's zapsmall: round to ``digits - log10(max |x|)`` decimals."""
    values = np.asarray(values, float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    mx = np.max(np.abs(finite))
    d = max(0.0, digits - math.log10(mx)) if mx > 0 else digits
    return np.array([r_round(v, d) if np.isfinite(v) else v for v in values])


def _scientific(x, digits):
    """R's scientific(): (negative, exponent, significant digits, rounding widens)."""
    if x == 0:
        return False, 0, 1, False
    neg = x < 0
    r = abs(x)
    kp = int(math.floor(math.log10(r))) - digits + 1
    scaled = Fraction(r) / Fraction(10) ** kp
    if scaled < 10 ** (digits - 1):
        scaled *= 10
        kp -= 1
    alpha = round(scaled)                # nearest integer, ties to even
    nsig = digits
    while nsig > 0 and alpha % 10 == 0:
        alpha //= 10
        nsig -= 1
    if nsig == 0:
        nsig = 1
        kp += 1
    kpower = kp + digits - 1
    rgt = min(max(digits - kpower, 0), _KP_MAX)
    fuzz = 0.5 / 10.0 ** rgt
    widens = 0 < kpower <= _KP_MAX and r < 10.0 ** kpower - fuzz
    return neg, kpower, nsig, widens


def format_r(values, digits=7, nsmall=0, na="NA"):
    """R's ``format(x, digits = digits, nsmall = nsmall)`` of a numeric vector: strings
    of one common width, fixed or scientific notation for all."""
    values = [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]
    finite = [v for v in values if math.isfinite(v)]
    w = d = e = 0
    if finite:
        neg = 0
        rgt = mxl = mxsl = mxns = -(10 ** 9)
        mnl = 10 ** 9
        for v in finite:
            neg_i, kpower, nsig, widens = _scientific(v, digits)
            left = kpower + 1 - (1 if widens else 0)
            sleft = neg_i + (1 if left <= 0 else left)
            right = nsig - left
            neg = neg or neg_i
            rgt, mxl, mnl = max(rgt, right), max(mxl, left), min(mnl, left)
            mxsl, mxns = max(mxsl, sleft), max(mxns, nsig)
        if mxl < 0:
            mxsl = 1 + neg
        rgt = max(rgt, 0)
        w_fixed = mxsl + rgt + (rgt != 0)
        e = 2 if (mxl > 100 or mnl <= -99) else 1
        d = mxns - 1
        w = neg + (d > 0) + d + 4 + e
        if w_fixed <= w:                 # R_print.scipen = 0
            e = 0
            if nsmall > rgt:
                rgt = nsmall
                w_fixed = mxsl + rgt + (rgt != 0)
            d, w = rgt, w_fixed
    if len(finite) < len(values):
        w = max(w, len(na))
    out = []
    for v in values:
        if math.isnan(v):
            out.append(na.rjust(w))
        elif math.isinf(v):
            out.append(("Inf" if v > 0 else "-Inf").rjust(w))
        elif e:
            text = ("%#.*e" if d else "%.*e") % (d, v)
            mantissa, exponent = text.split("e")
            sign, digits_ = exponent[0], exponent[1:].lstrip("0")
            out.append(f"{mantissa}e{sign}{digits_.rjust(e + 1, '0')}".rjust(w))
        else:
            out.append(("%.*f" % (d, v)).rjust(w))
    return out


def format_pval(pvalues, digits, eps=EPS):
    """R's ``format.pval(pv, digits = digits, eps = eps)``."""
    pv = np.asarray(pvalues, float)
    out = ["NA"] * pv.size
    ok = ~np.isnan(pv)
    is0 = ok & (pv < eps)
    rest = np.flatnonzero(ok & ~is0)
    rr = {}
    if rest.size:
        values = pv[rest]
        expo = np.floor(np.log10(np.where(values > 0, values, 1e-50)))
        fixp = (expo >= -3) | ((expo == -4) & (digits > 1))
        for mask in (fixp, ~fixp):
            if mask.any():
                for i, text in zip(rest[mask], format_r(values[mask], digits)):
                    rr[i] = text
        for i, text in rr.items():
            out[i] = text
    if is0.any():
        d = max(1, digits - 2)
        if rr:
            nc = max(len(t) for t in rr.values())
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if (d == 1 and nc <= 6) else " "
        else:
            sep = "" if d == 1 else " "
        text = "<" + sep + format_r([eps], d)[0]
        for i in np.flatnonzero(is0):
            out[i] = text
    return out


def format_c(x, digits=3):
    """R's ``formatC(x, digits = digits)`` ("g" format, width digits + 1)."""
    if x is None or not np.isfinite(x):
        return "NA".rjust(digits + 1)
    return "%*.*g" % (digits + 1, digits, x)


def signif_stars(p):
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p <= cut:
            return mark
    return " "


# ================================================================ R printing

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
    from scipy import stats
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


# ================================================================ R deparse of a formula

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<backtick>`[^`]*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<name>[A-Za-z.][A-Za-z0-9._]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|%[^%]*%|[~+\-*/:^|&!<>=,()\[\]$])
""", re.X)

# binding powers (R's precedence); spaced operators are deparsed with spaces around them
_INFIX = {"~": 10, "||": 20, "|": 20, "&&": 30, "&": 30, "==": 50, "!=": 50, "<": 50,
          ">": 50, "<=": 50, ">=": 50, "+": 60, "-": 60, "*": 70, "/": 70, ":": 90, "^": 110}
_SPACED = {"~", "||", "|", "&&", "&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*"}
_UNARY_POWER = {"-": 100, "+": 100, "!": 40, "~": 10}


class _Parser:
    def __init__(self, text):
        self.tokens = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind != "space":
                self.tokens.append((kind, m.group()))
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expression(self, rbp=0):
        kind, value = self.take()
        if kind == "op" and value == "(":
            left = ("paren", self.expression())
            self.take()                                         # ")"
        elif kind == "op" and value in _UNARY_POWER:
            left = ("unary", value, self.expression(_UNARY_POWER[value]))
        else:
            left = ("atom", value)
        while True:
            kind, value = self.peek()
            if kind == "op" and value == "(":                   # a call
                self.take()
                args = []
                while self.peek()[1] != ")":
                    args.append(self.argument())
                    if self.peek()[1] == ",":
                        self.take()
                self.take()
                left = ("call", left, args)
                continue
            if kind == "op" and value.startswith("%") and len(value) > 1:
                power, spaced = 80, True
            elif kind == "op" and value in _INFIX:
                power, spaced = _INFIX[value], value in _SPACED
            else:
                break
            if power <= rbp and not (value == "^" and power == rbp):
                break
            self.take()
            right = self.expression(power - 1 if value == "^" else power)
            left = ("binary", value, left, right, spaced)
        return left

    def argument(self):
        kind, value = self.peek()
        nxt = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else (None, None)
        if kind in ("name", "backtick") and nxt == ("op", "="):
            self.take()
            self.take()
            return ("named", value, self.expression())
        return self.expression()


class _Deparser:
    """R's deparse2buff for the node kinds a formula has, with its line breaking."""

    def __init__(self, cutoff=DEPARSE_CUTOFF):
        self.cutoff, self.lines, self.line, self.indent, self.start = cutoff, [], "", 0, True

    def write(self, text):
        if self.start:
            self.start = False
            self.line += "".join("    " if i < 4 else "  " for i in range(self.indent))
        self.line += text

    def writeline(self):
        self.lines.append(self.line)
        self.line, self.start = "", True

    def linebreak(self, state):
        if len(self.line) > self.cutoff:
            if not state[0]:
                state[0] = True
                self.indent += 1
            self.writeline()

    def node(self, n):
        kind = n[0]
        if kind == "atom":
            self.write(n[1])
        elif kind == "paren":
            self.write("(")
            self.node(n[1])
            self.write(")")
        elif kind == "unary":
            self.write(n[1])
            self.node(n[2])
        elif kind == "named":
            self.write(f"{n[1]} = ")
            self.node(n[2])
        elif kind == "call":
            self.node(n[1])
            self.write("(")
            state = [False]
            for k, arg in enumerate(n[2]):
                if k:
                    self.write(", ")
                    self.linebreak(state)
                self.node(arg)
            if state[0]:
                self.indent -= 1
            self.write(")")
        elif kind == "binary":
            _, op, left, right, spaced = n
            self.node(left)
            if spaced:
                self.write(f" {op} ")
                state = [False]
                self.linebreak(state)
                self.node(right)
                if state[0]:
                    self.indent -= 1
            else:
                self.write(op)
                self.node(right)

    def result(self):
        if self.line or not self.lines:
            self.writeline()
        return self.lines


def deparse_formula(text, cutoff=DEPARSE_CUTOFF):
    """The lines R's ``deparse()`` gives for a formula typed as ``text``."""
    try:
        parser = _Parser(text)
        tree = parser.expression()
        if parser.pos != len(parser.tokens):
            return [text]
    except (IndexError, TypeError):
        return [text]
    d = _Deparser(cutoff)
    d.node(tree)
    return d.result()


def _lhs_width(text):
    """nchar(deparse(formula[[2]])): the width of the response expression."""
    try:
        tree = _Parser(text).expression()
    except (IndexError, TypeError):
        return 0
    if tree[0] == "binary" and tree[1] == "~":
        d = _Deparser(cutoff=10 ** 6)
        d.node(tree[2])
        return len(d.result()[0])
    return 0


# ================================================================ the summary

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
        model, fam = self.fit.model, self.fit.family
        if not fam.aux_parameters or fam.name in ("binomial", "poisson"):
            return "none", None
        getter = getattr(model, "dispersion_parameter", None)
        name = getter(fam) if getter else fam.aux_parameters[0].name
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
        pass_width = _lhs_width(formula)
        zi = self._aux_rhs("zi")
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
        use_scale = fit.family.name == "gaussian" and kind != "zero"
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
        classic = fam.name in ("gaussian", "Gamma", "t")
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
