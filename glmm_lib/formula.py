"""Parse an lme4/glmmTMB formula into its parts.

``y ~ trt + offset(log(a)) + (1 | block) + ar1(0 + time | pig)`` becomes a
response expression, the fixed-effects right-hand side (handed to formulaic),
the offset expressions and one ``RandomTermSpec`` per random term, with nested
grouping ``(1|a/b)`` expanded as lme4 does: ``(1|b:a) + (1|a)``, the inner factor first
and named inner:outer (so its levels read ``b1:a1``, as glmmTMB prints them).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .errors import GLMMInputError

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


# a name R writes without backticks (reserved words aside): a letter, or a dot not followed
# by a digit, then letters, digits, dots and underscores; or a lone dot
SYNTACTIC_NAME = re.compile(r"(([A-Za-z]|[.][._A-Za-z])[._A-Za-z0-9]*|[.])")


def plain_terms(rhs):
    """The column names of a right-hand side made only of plain names and ``1`` joined by
    ``+`` (``trt + x``, ``1``), or None for anything else (functions, interactions, ``-``)."""
    terms = [t.strip() for t in split_top_level(rhs, "+")]
    names = [t for t in terms if t != "1"]
    if all(SYNTACTIC_NAME.fullmatch(t) and t != "." for t in names):   # R's "." is "all columns"
        return list(dict.fromkeys(names))
    return None


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
            offsets.append(off.group(1).strip())
        else:
            if "|" in stripped:
                raise GLMMInputError(_pointer(formula, position,
                                              "a random term must be in parentheses: (1 | group)"))
            fixed.append(stripped)
        position += len(piece) + 1
    fixed_rhs = " + ".join(fixed) if fixed else "1"
    return ParsedFormula(formula, lhs.strip(), fixed_rhs, offsets, random)


def _random_terms(inner, structure, formula, position):
    double = "||" in inner
    parts = inner.split("||") if double else split_top_level(inner, "|")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise GLMMInputError(_pointer(formula, position,
                                      "a random term reads (terms | group), e.g. (1 | block)"))
    lhs, group = parts[0].strip(), parts[1].strip()
    if structure is None:
        structure = "diag" if double else "us"
    nested = [g.strip() for g in group.split("/")]
    if any(not g for g in nested):
        raise GLMMInputError(_pointer(formula, position, f"bad grouping {group!r}"))
    # lme4's findbars: a/b/c -> c:b:a, b:a, a (lme4 writes the first c:(b:a))
    groups = [":".join(reversed(nested[: k + 1])) for k in reversed(range(len(nested)))]
    return [RandomTermSpec(lhs, g, structure) for g in groups]


_BACKTICK = re.compile(r"`([^`]*)`")
_KEYWORD = re.compile(r"(?<![`\w.])(" + "|".join(
    k for k in __import__("keyword").kwlist if k not in ("True", "False", "None")) + r")(?![`\w])")


def _quote_keywords(expression):
    """Column names that are Python keywords (``yield``) are read as quoted names."""
    return _KEYWORD.sub(lambda m: f"`{m.group(1)}`", expression)


def expression_variables(expression: str) -> list:
    """Names of data columns an R-style expression uses (backticks allowed)."""
    names = []
    text = _BACKTICK.sub(lambda m: names.append(m.group(1)) or f"__q{len(names) - 1}__",
                         _quote_keywords(expression))
    quoted = list(names)
    text = text.replace("^", "**")
    try:
        tree = ast.parse(text.replace(":", "*"), mode="eval")
    except SyntaxError as err:
        raise GLMMInputError(f"cannot parse the expression {expression!r}: {err.msg}") from None
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            is_call = any(isinstance(p, ast.Call) and p.func is node for p in ast.walk(tree))
            if is_call:
                continue
            m = re.fullmatch(r"__q(\d+)__", node.id)
            found.append(quoted[int(m.group(1))] if m else node.id)
    return list(dict.fromkeys(found))


_FUNCTIONS = None


def evaluate_expression(expression: str, data):
    """Evaluate an R-style arithmetic expression on a data frame's columns."""
    import numpy as np

    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "log1p": np.log1p,
                      "log10": np.log10, "log2": np.log2, "abs": np.abs,
                      "I": lambda x: x, "as_numeric": np.asarray}
    names = []
    text = _BACKTICK.sub(lambda m: names.append(m.group(1)) or f"__q{len(names) - 1}__",
                         _quote_keywords(expression))
    text = text.replace("^", "**")
    namespace = dict(_FUNCTIONS)
    for i, name in enumerate(names):
        namespace[f"__q{i}__"] = data[name].to_numpy(dtype=float)
    for name in expression_variables(expression):
        if name not in names and name in data.columns:
            namespace[name] = data[name].to_numpy(dtype=float)
    try:
        value = eval(compile(text, "<formula>", "eval"), {"__builtins__": {}}, namespace)
    except NameError as err:
        raise GLMMInputError(f"in {expression!r}: {err}") from None
    except (TypeError, ValueError) as err:
        raise GLMMInputError(f"cannot evaluate {expression!r}: {err}") from None
    return np.broadcast_to(np.asarray(value, dtype=float), (len(data),)).copy()
