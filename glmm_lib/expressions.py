"""The R expressions inside formulas: checked before anything evaluates them.

Formulas come from job files, command lines and shared clusters, so a term is
never handed to Python as it is.  Each expression is read into Python's syntax
tree (``ast``) with every R name replaced by a placeholder, and only this is
allowed: column names, numbers and strings, arithmetic, comparisons, the formula
operators (``+ - * / : ^ %in%``) and calls of the functions in
:data:`FUNCTIONS`.  Attribute access, subscripts, lambdas, comprehensions,
keyword tricks and calls of anything else are refused with a message naming the
term.  What passes can be evaluated (:func:`evaluate_expression`) or handed to
formulaic with its dotted column names quoted (:func:`for_formulaic`).
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

import numpy as np

from .errors import GLMMInputError
from .rnames import SYNTACTIC_NAME

# Functions a formula may call.  Those that formulaic itself provides are passed to it by
# name; the others get their implementation here (FORMULAIC_CONTEXT), so every allowed
# name works in every slot.
_NUMPY = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "log1p": np.log1p, "expm1": np.expm1,
          "log10": np.log10, "log2": np.log2, "abs": np.abs, "sin": np.sin, "cos": np.cos,
          "floor": np.floor, "ceiling": np.ceil, "pmin": np.minimum, "pmax": np.maximum}
_FORMULAIC = {"I", "C", "scale", "center", "poly", "bs"}
# R's names for a factor: the same as formulaic's C()
_FACTOR_ALIASES = {"factor": "C", "as.factor": "C"}
# the response and the offset slots
_WRAPPERS = {"cbind", "offset", "as.numeric"}
FUNCTIONS = frozenset(_NUMPY) | _FORMULAIC | frozenset(_FACTOR_ALIASES) | _WRAPPERS
# R's contrast names inside C(): formulaic's `contr` namespace has these
CONTRASTS = frozenset({"contr.treatment", "contr.sum", "contr.helmert", "contr.poly",
                       "contr.diff", "contr.SAS"})
#: What formulaic needs besides its own transforms (its default would read the caller's
#: variables: an explicit context keeps our module's names out of every formula).
FORMULAIC_CONTEXT = {name: f for name, f in _NUMPY.items() if name not in ("log", "exp", "abs")}

_ALLOWED_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv,
                      ast.USub, ast.UAdd, ast.Not, ast.Invert, ast.BitAnd, ast.BitOr,
                      ast.BitXor, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt,
                      ast.GtE)
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Name,
                  ast.Constant, ast.Call, ast.keyword, ast.List, ast.Tuple, ast.Load)
_NODE_WORDS = {ast.Attribute: "attribute access ('.' after a value)",
               ast.Subscript: "a subscript ('[...]')", ast.Lambda: "a lambda",
               ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
               ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension",
               ast.NamedExpr: "an assignment (':=')", ast.Starred: "a starred argument",
               ast.JoinedStr: "an f-string", ast.IfExp: "an if-expression",
               ast.Dict: "a dictionary", ast.Set: "a set", ast.Await: "await",
               ast.Yield: "yield", ast.YieldFrom: "yield"}


@dataclass(frozen=True)
class ReadExpression:
    """An expression in Python's syntax, its placeholders and the R names they stand for."""

    source: str                 # the R text as written
    python: str                 # the text with placeholders, for ast
    names: tuple                # R name of placeholder k (k = 0, 1, ...)
    quoted: frozenset           # placeholders written in backticks (always column names)

    def name_of(self, node) -> str | None:
        m = re.fullmatch(r"_r(\d+)_", node.id) if isinstance(node, ast.Name) else None
        return self.names[int(m.group(1))] if m else None


_LOGICAL = {"TRUE": "True", "FALSE": "False", "True": "True", "False": "False"}
_STRING = re.compile(r"""("([^"\\]|\\.)*"|'([^'\\]|\\.)*')""", re.S)
_NAME_AT = re.compile(SYNTACTIC_NAME.pattern)


def _tokens(expression: str):
    """(kind, text) pieces of an R expression: "quoted" (a backticked name, without its
    backticks), "name", "string", "in" (``%in%``) or a single other character."""
    text = str(expression)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise GLMMInputError(f"unclosed backtick in {expression!r}")
            yield "quoted", text[i + 1:end]
            i = end + 1
            continue
        match = _STRING.match(text, i) if ch in "'\"" else None
        kind = "string"
        if match is None and (ch.isalpha() or ch == ".") and not (
                i and (text[i - 1].isalnum() or text[i - 1] in "._")):
            match, kind = _NAME_AT.match(text, i), "name"
        if match is None and text.startswith("%in%", i):
            yield "in", "%in%"
            i += 4
            continue
        if match:
            yield kind, match.group(0)
            i = match.end()
            continue
        yield "char", ch
        i += 1


def read_expression(expression: str) -> ReadExpression:
    """Replace every R name (backticked or not) by a placeholder ``_rK_``; R's operators by
    Python's (``^`` -> ``**``, ``:`` and ``%in%`` -> ``*``).  Strings are kept as written."""
    out, names, quoted = [], [], set()
    for kind, text in _tokens(expression):
        if kind == "name" and text in _LOGICAL:
            out.append(_LOGICAL[text])
        elif kind in ("quoted", "name"):
            if kind == "quoted":
                quoted.add(len(names))
            out.append(f"_r{len(names)}_")
            names.append(text)
        elif kind == "in":
            out.append("*")
        else:
            out.append({"^": "**", ":": "*"}.get(text, text) if kind == "char" else text)
    return ReadExpression(str(expression), "".join(out), tuple(names), frozenset(quoted))


def _refuse(expression, where, reason):
    functions = ", ".join(sorted(FUNCTIONS - set(_FACTOR_ALIASES)))
    raise GLMMInputError(
        f"the term {expression!r} in {where} is not allowed: {reason}. Formula terms may use "
        f"column names (in backticks if they are not plain names), numbers, arithmetic, "
        f"comparisons and the functions {functions}, factor")


def check_expression(expression: str, where: str = "the formula") -> ReadExpression:
    """Read ``expression`` and refuse anything but the allowed forms (see the module's text)."""
    return _checked(str(expression), where)[0]


@functools.lru_cache(maxsize=4096)
def _checked(expression: str, where: str):
    """(ReadExpression, syntax tree) of an allowed expression; cached, since a fit reads the
    same few terms many times (the trees are only read, never changed)."""
    read = read_expression(expression)
    if not read.python.strip():
        _refuse(expression, where, "it is empty")
    try:
        tree = ast.parse(read.python.strip(), mode="eval")
    except SyntaxError as err:
        raise GLMMInputError(f"cannot parse the term {expression!r} in {where}: {err.msg}") \
            from None
    for node in ast.walk(tree):
        if isinstance(node, _ALLOWED_OPERATORS) or isinstance(node, (ast.operator, ast.cmpop,
                                                                       ast.boolop, ast.unaryop)):
            if not isinstance(node, _ALLOWED_OPERATORS):
                _refuse(expression, where, f"the operator {type(node).__name__}")
            continue
        if not isinstance(node, _ALLOWED_NODES):
            _refuse(expression, where, _NODE_WORDS.get(type(node), type(node).__name__))
        if isinstance(node, ast.Name) and read.name_of(node) is None:
            _refuse(expression, where, f"{node.id!r} is not a name R writes")
        if isinstance(node, ast.Name) and "__" in read.name_of(node) \
                and int(node.id[2:-1]) not in read.quoted:
            _refuse(expression, where, f"the name {read.name_of(node)!r} has a double underscore "
                    "(if it is a column, write it in backticks)")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            _refuse(expression, where, f"the constant {node.value!r}")
        if isinstance(node, ast.keyword) and not _plain_keyword(read, node.arg):
            _refuse(expression, where, "a keyword argument that is not a plain name")
        if isinstance(node, ast.Call):
            called = read.name_of(node.func)
            if called is None or int(node.func.id[2:-1]) in read.quoted \
                    or called not in FUNCTIONS:
                shown = called or _shown(read, node.func)
                _refuse(expression, where, f"{shown}() is not a function formulas may call")
    return read, tree


def _shown(read: ReadExpression, node) -> str:
    """A piece of the syntax tree written back with its R names."""
    return re.sub(r"_r(\d+)_", lambda m: read.names[int(m.group(1))], ast.unparse(node))


def _plain_keyword(read: ReadExpression, arg) -> bool:
    """``levels=`` in ``C(t, levels=...)``: the keyword is a placeholder of a plain name."""
    m = re.fullmatch(r"_r(\d+)_", arg or "")
    return bool(m) and int(m.group(1)) not in read.quoted and \
        re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", read.names[int(m.group(1))]) is not None


def _column_names(read: ReadExpression, tree) -> list:
    """The R names an expression uses as values (not as functions, not contrast names)."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)),
                       key=lambda n: n.col_offset):
        name = read.name_of(node)
        if name is None or id(node) in called:
            continue
        if name in CONTRASTS and int(node.id[2:-1]) not in read.quoted:
            continue
        found.append(name)
    return list(dict.fromkeys(found))


def expression_variables(expression: str) -> list:
    """Names of data columns an R-style expression uses (backticks allowed)."""
    return list(_variables(str(expression)))


@functools.lru_cache(maxsize=4096)
def _variables(expression: str) -> tuple:
    read, tree = _checked(expression, "the formula")
    return tuple(_column_names(read, tree))


def evaluate_expression(expression: str, data):
    """Evaluate an R-style arithmetic expression on a data frame's columns."""
    read, tree = _checked(str(expression), "the formula")
    namespace = {}
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        name = read.name_of(node)
        if name is None:
            continue
        if id(node) in called:
            function = _NUMPY.get(name) or {"I": _identity, "as.numeric": _identity}.get(name)
            if function is None:
                raise GLMMInputError(f"{name}() cannot be used in {expression!r}: only "
                                     f"arithmetic and {', '.join(sorted(_NUMPY))} work here")
            namespace[node.id] = function
        elif name in data.columns:
            namespace[node.id] = data[name].to_numpy(dtype=float)
        else:
            raise GLMMInputError(f"in {expression!r}: column {name!r} not found")
    try:
        value = eval(compile(tree, "<formula>", "eval"), {"__builtins__": {}}, namespace)
    except (TypeError, ValueError, ArithmeticError) as err:
        raise GLMMInputError(f"cannot evaluate {expression!r}: {err}") from None
    return np.broadcast_to(np.asarray(value, dtype=float), (len(data),)).copy()


def _identity(x):
    return x


@functools.lru_cache(maxsize=4096)
def for_formulaic(expression: str) -> str:
    """``expression`` checked, then written for formulaic: R's dotted column names in
    backticks (formulaic would read ``total.fruits`` as an attribute) and R's ``factor()``
    as formulaic's ``C()``; everything else as written."""
    check_expression(expression, "the formula")
    tokens = list(_tokens(expression))
    out = []
    for k, (kind, text) in enumerate(tokens):
        following = next((t for kd, t in tokens[k + 1:] if not (kd == "char" and t.isspace())),
                         None)
        if kind == "quoted":
            out.append(f"`{text}`")
        elif kind == "name" and text in _LOGICAL:
            out.append(_LOGICAL[text])
        elif kind == "name" and following == "(":
            out.append(_FACTOR_ALIASES.get(text, text))
        elif kind == "name" and "." in text and text not in CONTRASTS:
            out.append(f"`{text}`")
        else:
            out.append(text)
    return "".join(out)
