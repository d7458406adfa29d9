"""R's ``deparse()`` of a formula: operator spacing by precedence, and R's line breaking."""
from __future__ import annotations

import re

DEPARSE_CUTOFF = 60              # deparse(width.cutoff = 60)

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


def lhs_width(text):
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
