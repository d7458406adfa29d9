"""A fitted (or specified) model written out as equations, in LaTeX.

``model_equations(fit)`` turns the formula and family of a fit into the three
statements a course page writes for a GLMM: the distribution of the response,
the link and linear predictor, and the distribution of the random effects;
with a legend saying what every symbol and subscript stands for, and (for a
fit) the estimated values of the variance and dispersion parameters.

>>> import glmm_lib as gl
>>> from course.lessonkit.equations import model_equations
>>> fit = gl.glmm("y ~ trt + (1|block)", gl.datasets.load("beall_webworms"), family="nbinom1")
>>> print(model_equations(fit).lines[0])
\\text{y}_{ijk} \\sim \\mathrm{NB1}(\\mu_{ijk},\\ \\phi)

Subscripts are multi-index, as the lessons write them: one letter per factor of
the model (fixed factors first, then grouping factors), plus a replicate index
when those factors do not identify a row. Factor effects are Greek letters
(alpha, gamma, delta, ...; interactions as (alpha gamma)_ij), slopes of numeric
covariates are beta's, random effects are u, v, w, ...

Plain text only: this module imports nothing beyond numpy and pandas. The TeX of
each family (`_family_lines`) is teaching text, keyed by the family's name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ModelEquations", "model_equations", "tex_text"]

_INDEX_LETTERS = "ijklmrstvw"
_FACTOR_SYMBOLS = ["alpha", "gamma", "delta", "zeta", "kappa", "lambda", "xi", "psi", "omega"]
_RANDOM_SYMBOLS = ["u", "v", "w", "a", "b", "c", "d", "g", "h"]
_TEX_SPECIAL = {
    "\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "#": r"\#", "%": r"\%",
    "&": r"\&", "_": r"\_", "~": r"\sim ", "^": r"\wedge ",
}


def tex_text(name: str) -> str:
    """``name`` (a column name, any characters) as upright text in math mode."""
    out, buf = [], []
    for ch in str(name):
        if ch in _TEX_SPECIAL:
            if buf:
                out.append(r"\text{" + "".join(buf) + "}")
                buf = []
            out.append(_TEX_SPECIAL[ch])
        else:
            buf.append(ch)
    if buf:
        out.append(r"\text{" + "".join(buf) + "}")
    return "".join(out) or r"\text{}"


def _md(name: str) -> str:
    """A name for the markdown legend, in code style."""
    return "`" + str(name).replace("`", "'") + "`"


def _strip(expr: str) -> str:
    return expr.strip().strip("`")


@dataclass
class ModelEquations:
    """The model as LaTeX lines (``lines``) and a legend (``where``, markdown bullets)."""

    lines: list
    where: list = field(default_factory=list)
    estimates: list = field(default_factory=list)

    @property
    def latex(self) -> str:
        """All lines as one ``aligned`` block (without ``$$``)."""
        body = r" \\ ".join(_align(line) for line in self.lines)
        return r"\begin{aligned} " + body + r" \end{aligned}"

    def markdown(self) -> str:
        parts = ["$$\n" + self.latex + "\n$$", ""]
        if self.where:
            parts.append("where")
            parts.append("")
            parts += [f"- {w}" for w in self.where]
            parts.append("")
        if self.estimates:
            parts.append("Estimated: " + ", ".join(self.estimates) + ".")
        return "\n".join(parts).strip() + "\n"

    def _repr_markdown_(self):
        return self.markdown()

    def __str__(self):
        return "\n".join(self.lines)


def _align(line: str) -> str:
    """Put the alignment mark before the first relation symbol."""
    for rel in (r" \sim ", " = "):
        if rel in line:
            left, right = line.split(rel, 1)
            return left + " &" + rel + right
    return "& " + line


# --- pieces of the model -------------------------------------------------------
@dataclass
class _Var:
    name: str          # column name
    index: str         # subscript letter


def _is_factor(frame: pd.DataFrame, expr: str) -> tuple[bool, str]:
    """(is a factor, variable name) for a formulaic factor expression."""
    expr = expr.strip()
    m = re.fullmatch(r"C\((.*?)(,.*)?\)", expr)
    if m:
        return True, _strip(m.group(1))
    name = _strip(expr)
    if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype):
        return True, name
    return False, name


def _link_lhs(link: str, mean: str) -> str:
    return {
        "identity": mean,
        "log": rf"\log({mean})",
        "logit": rf"\operatorname{{logit}}({mean})",
        "probit": rf"\Phi^{{-1}}({mean})",
        "cloglog": rf"\log(-\log(1 - {mean}))",
        "inverse": rf"1/{mean}",
        "sqrt": rf"\sqrt{{{mean}}}",
    }.get(link, rf"g({mean})")


_LINK_WORDS = {
    "identity": "identity link: the mean is the linear predictor",
    "log": "log link",
    "logit": r"logit link, $\operatorname{logit}(p) = \log\{p/(1-p)\}$",
    "probit": r"probit link, $\Phi$ the standard normal distribution function",
    "cloglog": "complementary log-log link",
    "inverse": "inverse link",
}


def _var(y, expression):
    return rf"\operatorname{{Var}}({y}) = {expression}"


# The distribution of each family in TeX: name -> (m, y, s, trials note) -> (distribution,
# variance line or None, legend items).  Teaching text, so it lives here and not in the
# families (which know nothing of how a page words them).
_DISTRIBUTIONS = {
    "poisson": lambda m, y, s, note: (rf"\mathrm{{Poisson}}({m})", _var(y, m), []),
    "nbinom1": lambda m, y, s, note: (
        rf"\mathrm{{NB1}}({m},\ \phi)", _var(y, rf"{m}(1 + \phi)"),
        [r"$\phi$ is the dispersion of the negative binomial (NB1): the variance grows "
         r"in proportion to the mean"]),
    "nbinom2": lambda m, y, s, note: (
        rf"\mathrm{{NB2}}({m},\ \theta)", _var(y, rf"{m} + {m}^2/\theta"),
        [r"$\theta$ is the size (shape) of the negative binomial (NB2): the variance "
         r"grows with the square of the mean"]),
    "binomial": lambda m, y, s, note: (
        (rf"\mathrm{{Bernoulli}}({m})", None, []) if note is None else
        (rf"\mathrm{{Binomial}}(N_{{{s}}},\ {m})", None, [note])),
    "gaussian": lambda m, y, s, note: (
        rf"N({m},\ \sigma^2)", None, [r"$\sigma^2$ is the residual variance"]),
    "gamma": lambda m, y, s, note: (
        rf"\mathrm{{Gamma}}({m},\ \sigma)", _var(y, rf"\sigma^2 {m}^2"),
        [r"$\sigma$ is the coefficient of variation of the Gamma distribution"]),
    "beta": lambda m, y, s, note: (
        rf"\mathrm{{Beta}}({m},\ \phi)", _var(y, rf"{m}(1 - {m})/(1 + \phi)"),
        [r"$\phi$ is the precision of the Beta distribution"]),
    "t": lambda m, y, s, note: (
        rf"t_\nu({m},\ \sigma)", None,
        [r"$\sigma$ is the scale and $\nu$ the degrees of freedom of the t distribution"]),
}
_ALIASES = {"beta_family": "beta", "t_family": "t", "student_t": "t"}


def _family_lines(family, y: str, s: str, trials_note: str | None):
    """(distribution line, variance line or None, legend items, mean symbol)."""
    name = getattr(family, "name", str(family)).lower()
    name = _ALIASES.get(name, name)
    mean = "p" if getattr(family, "has_trials", False) else r"\mu"
    m = f"{mean}_{{{s}}}"
    describe = _DISTRIBUTIONS.get(
        name, lambda m, y, s, note: (rf"\mathrm{{{tex_text(name)}}}({m})", None, []))
    dist, variance, legend = describe(m, y, s, trials_note)
    legend = list(legend)
    if getattr(family, "base", None) is not None and hasattr(family, "mean"):
        # zero-inflated: a mixture of structural zeros and the base family
        dist = rf"\pi\,\delta_0 + (1-\pi)\,{dist}"
        legend.append(r"$\pi$ is the probability of a structural zero ($\delta_0$: always 0)")
    return f"{y} \\sim {dist}", variance, legend, mean


def _levels_text(levels, limit=6) -> str:
    levels = [str(v) for v in levels]
    if len(levels) <= limit:
        return ", ".join(levels)
    return ", ".join(levels[:3]) + ", ..., " + levels[-1]


def model_equations(fit, *, estimates: bool = True, digits: int = 4) -> ModelEquations:
    """The model of ``fit`` (a ``GLMMResults``, or a ``GLMMModel`` before fitting) as equations."""
    model = getattr(fit, "model", fit)
    is_fit = model is not fit
    frame = model.frame.data
    family = model.family
    parsed = model.formula

    # -- which variables are factors, in which order they get subscripts
    fixed_terms = []                  # list of (factors: [name], numerics: [expr]) per term
    intercept = False
    for term in model.fixed.spec.terms:
        factors, numerics = [], []
        for f in term.factors:
            if f.expr == "1":
                continue
            is_f, name = _is_factor(frame, f.expr)
            (factors if is_f else numerics).append(name)
        if not factors and not numerics:
            intercept = True
            continue
        fixed_terms.append((factors, numerics))
    index_of: dict[str, str] = {}

    def assign(name):
        if name not in index_of:
            index_of[name] = _INDEX_LETTERS[len(index_of) % len(_INDEX_LETTERS)]

    for factors, _ in fixed_terms:
        for name in factors:
            assign(name)
    random_terms = list(model.random_effects.terms)
    for term in random_terms:
        for col in term.group_name.split(":"):
            assign(_strip(col))
    factor_cols = [c for c in index_of if c in frame.columns]
    replicate = None
    if factor_cols:
        dup = frame.duplicated(subset=factor_cols).any()
    else:
        dup = len(frame) > 1
    if dup:
        replicate = _INDEX_LETTERS[len(index_of) % len(_INDEX_LETTERS)]
    s = "".join(index_of[c] for c in factor_cols) + (replicate or "")
    if len(s) > 1 and any(len(index_of[c]) > 1 for c in factor_cols):
        s = ",".join(s)

    def sub(names):
        return "".join(index_of[n] for n in names)

    # -- response
    parts = parsed.response_parts
    where = []
    trials_note = None
    if len(parts) == 2:
        succ, fail = (_strip(p) if re.fullmatch(r"`[^`]*`|\w+", p.strip()) else p for p in parts)
        y = f"{tex_text(succ)}_{{{s}}}"
        trials_note = (f"$N_{{{s}}}$ is the number of trials: {_md(succ)} + {_md(fail)}")
    else:
        resp = _strip(parts[0]) if re.fullmatch(r"`[^`]*`|\w+", parts[0].strip()) else parts[0]
        y = f"{tex_text(resp)}_{{{s}}}"
        if getattr(family, "has_trials", False) and not np.all(model.trials == 1):
            trials_note = f"$N_{{{s}}}$ is the number of trials (the weights)"
    dist_line, variance_line, fam_legend, mean = _family_lines(family, y, s, trials_note)

    # -- linear predictor
    eta_terms = []
    if intercept:
        eta_terms.append(r"\beta_0")
    symbol_of: dict[str, str] = {}
    first_factor_seen = False
    for factors, numerics in fixed_terms:
        num_tex = r"\,".join(f"{tex_text(n)}_{{{s}}}" for n in numerics)
        if not numerics:
            for name in factors:
                if name not in symbol_of:
                    symbol_of[name] = "\\" + _FACTOR_SYMBOLS[len(symbol_of) % len(_FACTOR_SYMBOLS)]
            sym = "".join(symbol_of[n] for n in factors)
            sym = sym if len(factors) == 1 else f"({sym})"
            eta_terms.append(f"{sym}_{{{sub(factors)}}}")
            levels = " x ".join(_md(n) for n in factors)
            if len(factors) == 1:
                name = factors[0]
                lv = list(frame[name].cat.categories)
                ref = ("" if not intercept and not first_factor_seen
                       else f"; ${sym}_{{1}} = 0$ for the reference level {_md(lv[0])}")
                where.append(f"${sym}_{{{index_of[name]}}}$ is the effect of level "
                             f"${index_of[name]}$ of {_md(name)} ({_levels_text(lv)}){ref}")
                first_factor_seen = True
            else:
                where.append(f"${sym}_{{{sub(factors)}}}$ is the interaction of {levels} "
                             "(zero when either level is the reference)")
        else:
            label = ",".join(tex_text(n) for n in numerics)
            if factors:
                eta_terms.append(rf"\beta_{{{label},{sub(factors)}}}\,{num_tex}")
                where.append(rf"$\beta_{{{label},{sub(factors)}}}$ is the change in the slope of "
                             f"{' x '.join(_md(n) for n in numerics)} with "
                             f"{' x '.join(_md(n) for n in factors)} (zero at reference levels)")
            else:
                eta_terms.append(rf"\beta_{{{label}}}\,{num_tex}")
                where.append(rf"$\beta_{{{label}}}$ is the slope of "
                             f"{' x '.join(_md(n) for n in numerics)}")
    if intercept:
        where.insert(0, r"$\beta_0$ is the intercept (the reference levels, covariates at 0)")
    for expr in parsed.offsets:
        eta_terms.append(f"{tex_text(expr)}_{{{s}}}")
        where.append(f"{_md(expr)} is an offset (its coefficient is fixed at 1)")

    re_lines = []
    for k, term in enumerate(random_terms):
        symbol = _RANDOM_SYMBOLS[k % len(_RANDOM_SYMBOLS)]
        groups = [_strip(c) for c in term.group_name.split(":")]
        gs = sub(groups)
        gname = tex_text(":".join(groups))
        names = list(term.term_names)
        structure = term.spec.structure
        n_lv = term.n_levels
        group_md = " x ".join(_md(g) for g in groups)
        if names == ["(Intercept)"]:
            eta_terms.append(f"{symbol}_{{{gs}}}")
            re_lines.append(rf"{symbol}_{{{gs}}} \sim N(0,\ \sigma^2_{{{gname}}})")
            where.append(f"${symbol}_{{{gs}}}$ is the random effect of level ${gs}$ of {group_md} "
                         f"({n_lv} levels), independent across levels")
            continue
        coefs = []
        for c, cname in enumerate(names):
            if cname == "(Intercept)":
                coefs.append(f"{symbol}_{{{c}{gs}}}")
            else:
                coefs.append(f"{symbol}_{{{c}{gs}}}\\,{tex_text(cname)}_{{{s}}}")
        eta_terms.append("(" + " + ".join(coefs) + ")" if len(coefs) > 1 else coefs[0])
        vec = r"(" + ",\\ ".join(f"{symbol}_{{{c}{gs}}}" for c in range(len(names))) + r")^\top"
        re_lines.append(rf"{vec} \sim N(\mathbf{{0}},\ \Sigma_{{{gname}}})")
        kind = {"us": "unstructured (every variance and correlation estimated)",
                "diag": "diagonal (separate variances, no correlation)",
                "cs": "compound symmetry (equal correlation between any two)",
                "ar1": r"AR(1): correlation $\rho^{|t - t'|}$ between times $t$ and $t'$",
                }.get(structure, structure)
        coef_md = ", ".join(f"${symbol}_{{{c}{gs}}}$ for {_md(cname)}" for c, cname in enumerate(names))
        where.append(f"{coef_md} are the random coefficients of level ${gs}$ of {group_md} "
                     f"({n_lv} levels); their covariance $\\Sigma_{{{gname}}}$ is {kind}")

    eta = " + ".join(eta_terms) if eta_terms else "0"
    eta = eta.replace("+ -", "- ")
    link_line = f"{_link_lhs(family.link.name, f'{mean}_{{{s}}}')} = \\eta_{{{s}}} = {eta}"

    lines = [dist_line]
    if variance_line:
        lines.append(variance_line)
    lines.append(link_line)
    lines += re_lines

    # -- legend for the subscripts, then the family
    sub_legend = []
    for c in factor_cols:
        lv = frame[c].cat.categories if isinstance(frame[c].dtype, pd.CategoricalDtype) \
            else pd.unique(frame[c])
        span = "1, 2" if len(lv) == 2 else f"1, \\dots, {len(lv)}"
        sub_legend.append(f"${index_of[c]} = {span}$ indexes the levels of {_md(c)}")
    if replicate:
        if factor_cols:
            counts = frame.groupby(factor_cols, observed=True).size()
            lo, hi = int(counts.min()), int(counts.max())
            reps = (f"${replicate} = 1, \\dots, {lo}$" if lo == hi else
                    f"${replicate} = 1, \\dots, n_{{{sub(factor_cols)}}}$ ({lo} to {hi})")
            cells = " x ".join(_md(c) for c in factor_cols)
            sub_legend.append(f"{reps} indexes the rows within each {cells} combination")
        else:
            sub_legend.append(f"${replicate} = 1, \\dots, {len(frame)}$ indexes the rows")
    link_word = _LINK_WORDS.get(family.link.name, f"{family.link.name} link")
    where = sub_legend + fam_legend + [f"$\\eta_{{{s}}}$ is the linear predictor, tied to the "
                                       f"mean by the {link_word}"] + where

    est = []
    if is_fit and estimates:
        sigma = getattr(fit, "sigma", None)
        # the symbol each family's TeX line (_family_lines) gives its dispersion
        symbol = {"nbinom1": r"\phi", "nbinom2": r"\theta", "gamma": r"\sigma",
                  "beta": r"\phi", "beta_family": r"\phi", "t": r"\sigma"}.get(family.name.lower())
        if family.has_residual_variance and sigma is not None:
            est.append(rf"$\hat\sigma^2 = {_num(sigma ** 2, digits)}$")
        elif symbol and sigma is not None:
            est.append(rf"$\hat{symbol} = {_num(sigma, digits)}$")
        try:
            vc = fit.varcorr
        except Exception:  # noqa: BLE001 - estimates are a courtesy
            vc = None
        if vc is not None and len(vc):
            for _, row in vc.iterrows():
                g = tex_text(":".join(_strip(c) for c in str(row["group"]).split(":")))
                if row["term"] == "(Intercept)" and (vc["group"] == row["group"]).sum() == 1:
                    est.append(rf"$\hat\sigma^2_{{{g}}} = {_num(row['variance'], digits)}$ "
                               f"(SD ${_num(row['sd'], digits)}$)")
                else:
                    est.append(rf"$\hat\sigma^2_{{{g},\,{tex_text(row['term'])}}} = "
                               f"{_num(row['variance'], digits)}$")
    return ModelEquations(lines, where, est)


def _num(value, digits=4) -> str:
    value = float(value)
    if not np.isfinite(value):
        return r"\infty" if value > 0 else "-"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text
