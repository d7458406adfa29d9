"""Parse an lme4/glmmTMB formula into its parts.

``y ~ trt + offset(log(a)) + (1 | block) + ar1(0 + time | pig)`` becomes a
response expression, the fixed-effects right-hand side (handed to formulaic),
the offset expressions and one ``RandomTermSpec`` per random term, with nested
grouping ``(1|a/b)`` expanded as lme4 does: ``(1|b:a) + (1|a)``, the inner factor first
and named inner:outer (so its levels read ``b1:a1``, as glmmTMB prints them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import GLMMInputError
from .expressions import check_expression, evaluate_expression, expression_variables, for_formulaic
from .rnames import SYNTACTIC_NAME

__all__ = ["COVARIANCE_STRUCTURES", "ParsedFormula", "RandomTermSpec", "SYNTACTIC_NAME",
           "evaluate_expression", "expression_variables", "parse_formula", "parse_one_sided",
           "plain_terms", "split_top_level"]

COVARIANCE_STRUCTURES = ("us", "diag", "cs", "ar1")


@dataclass(frozen=True)
class RandomTermSpec:
    lhs: str              # e.g. "1", "Days", "0 + time"
    group: str            # e.g. "block", "a:b"
    structure: str        # one of COVARIANCE_STRUCTURES

    def __str__(self):
        inner = f"{self.lhs} | {self.group}"
        return f"({inner})" if self.structure == "us" else f"{self.structure}({inner})"


@dataclass
class ParsedFormula:
    text: str
    response: str                         # "y" or "cbind(s, n - s)"
    fixed: str                            # right-hand side for formulaic
    offsets: list = field(default_factory=list)
    random: list = field(default_factory=list)

    @property
    def response_parts(self):
        """One expression, or two for cbind(successes, failures)."""
        m = re.fullmatch(r"\s*cbind\s*\((.*)\)\s*", self.response, re.S)
        if not m:
            return [self.response.strip()]
        parts = split_top_level(m.group(1), ",")
        if len(parts) != 2:
            raise GLMMInputError(
                f"cbind() in the response needs exactly two parts (successes, failures); got "
                f"{self.response!r}")
        return [p.strip() for p in parts]


def _unquoted(text):
    """(position, character, parenthesis depth after it) for characters outside backticks."""
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
            continue
        if quoted:
            continue
        depth += (ch == "(") - (ch == ")")
        yield i, ch, depth


def plain_terms(rhs):
    """The column names of a right-hand side made only of names (plain or in backticks) and
    ``1`` joined by ``+`` (``trt + x``, ``1``), or None for anything else (functions,
    interactions, ``-``)."""
    terms = [t.strip() for t in split_top_level(rhs, "+")]
    names = []
    for term in terms:
        if term == "1":
            continue
        if len(term) > 2 and term[0] == term[-1] == "`" and "`" not in term[1:-1]:
            names.append(term[1:-1])
        elif SYNTACTIC_NAME.fullmatch(term) and term != ".":   # R's "." is "all columns"
            names.append(term)
        else:
            return None
    return list(dict.fromkeys(names))


def split_top_level(text, separator):
    """Split on ``separator`` where it is outside parentheses and backticks."""
    parts, start = [], 0
    for i, ch, depth in _unquoted(text):
        if ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _check_balanced(text, formula):
    depth = 0
    for i, ch, depth in _unquoted(text):
        if depth < 0:
            raise GLMMInputError(_pointer(formula, i, "unmatched ')'"))
    if text.count("`") % 2:
        raise GLMMInputError(_pointer(formula, formula.rfind("`"), "unclosed backtick"))
    if depth:
        raise GLMMInputError(_pointer(formula, formula.rfind("("), "unclosed '('"))


def _pointer(formula, position, message):
    return f"cannot parse formula: {message}\n    {formula}\n    {' ' * max(position, 0)}^"


_STRUCTURED = re.compile(r"^\s*(" + "|".join(COVARIANCE_STRUCTURES) + r")\s*\((.*)\)\s*$", re.S)
_BARE = re.compile(r"^\s*\((.*)\)\s*$", re.S)
_OFFSET = re.compile(r"^\s*offset\s*\((.*)\)\s*$", re.S)


def parse_formula(formula: str) -> ParsedFormula:
    if not isinstance(formula, str) or not formula.strip():
        raise GLMMInputError("the formula must be a non-empty string such as 'y ~ trt + (1|block)'")
    _check_balanced(formula, formula)
    sides = split_top_level(formula, "~")
    if len(sides) != 2 or not sides[0].strip():
        where = formula.find("~")
        raise GLMMInputError(_pointer(formula, where if where >= 0 else len(formula),
                                      "expected one '~' with the response on its left"))
    lhs, rhs = sides
    check_expression(lhs.strip(), "the response")
    offset_base = len(lhs) + 1
    fixed, offsets, random = [], [], []
    position = offset_base
    for piece in split_top_level(rhs, "+"):
        stripped = piece.strip()
        if not stripped:
            raise GLMMInputError(_pointer(formula, position, "empty term"))
        structured, bare, off = _STRUCTURED.match(piece), _BARE.match(piece), _OFFSET.match(piece)
        if structured and "|" in structured.group(2):
            random.extend(_random_terms(structured.group(2), structured.group(1), formula, position))
        elif bare and len(split_top_level(bare.group(1), "|")) > 1:
            random.extend(_random_terms(bare.group(1), None, formula, position))
        elif off:
            check_expression(off.group(1).strip(), "the formula's offset")
            offsets.append(off.group(1).strip())
        else:
            if "|" in stripped:
                raise GLMMInputError(_pointer(formula, position,
                                              "a random term must be in parentheses: (1 | group)"))
            fixed.append(design_term(stripped))
        position += len(piece) + 1
    fixed_rhs = " + ".join(fixed) if fixed else "1"
    return ParsedFormula(formula, lhs.strip(), fixed_rhs, offsets, random)


_GROUP_NAME = re.compile(SYNTACTIC_NAME.pattern)


def design_term(term: str) -> str:
    """One term of a design's right-hand side as formulaic must read it: checked, and with
    R's dotted names quoted (formulaic would read ``total.fruits`` as an attribute)."""
    if term in ("0", "1", "-1"):
        return term
    return for_formulaic(term)


def design_rhs(rhs: str, what: str) -> str:
    """A whole right-hand side (``x + log(total.fruits)``) term by term, as design_term."""
    terms = [t.strip() for t in split_top_level(rhs, "+")]
    if any(not t for t in terms):
        raise GLMMInputError(f"{what} {rhs!r} has an empty term")
    return " + ".join(design_term(t) for t in terms)


def parse_one_sided(formula, what: str) -> str | None:
    """The right-hand side of a one-sided formula (ziformula, dispformula), checked."""
    if formula is None:
        return None
    text = str(formula).strip()
    if not text.startswith("~"):
        raise GLMMInputError(f"{what} must be a one-sided formula such as '~1' or '~x', "
                             f"got {formula!r}")
    return design_rhs(text[1:].strip() or "1", what)


def _random_terms(inner, structure, formula, position):
    double = "||" in inner
    parts = inner.split("||") if double else split_top_level(inner, "|")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise GLMMInputError(_pointer(formula, position,
                                      "a random term reads (terms | group), e.g. (1 | block)"))
    lhs, group = design_rhs(parts[0].strip(), "a random term"), parts[1].strip()
    if structure is None:
        structure = "diag" if double else "us"
    nested = [g.strip() for g in group.split("/")]
    if any(not g for g in nested):
        raise GLMMInputError(_pointer(formula, position, f"bad grouping {group!r}"))
    for factor in (f.strip() for g in nested for f in g.split(":")):
        if not (_GROUP_NAME.fullmatch(factor) and "__" not in factor or
                factor.startswith("`") and factor.endswith("`") and len(factor) > 2):
            raise GLMMInputError(_pointer(
                formula, position, f"the grouping {group!r} must name columns (a, a:b, a/b), "
                f"not {factor!r}"))
    # lme4's findbars: a/b/c -> c:b:a, b:a, a (lme4 writes the first c:(b:a))
    groups = [":".join(reversed(nested[: k + 1])) for k in reversed(range(len(nested)))]
    return [RandomTermSpec(lhs, g, structure) for g in groups]
