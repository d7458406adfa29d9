"""R's names: what R writes without backticks, and how it writes the rest.

R users' columns are full of dots, underscores and digits (``total.fruits``,
``dry.wt``, ``plant_ht.2``); all are ordinary characters of R's syntactic names
(``make.names``), and every part of the library reads them with this one rule.
"""
from __future__ import annotations

import re

# a name R writes without backticks (reserved words aside): a letter, or a dot not followed
# by a digit, then letters, digits, dots and underscores; or a lone dot
SYNTACTIC_NAME = re.compile(r"(([A-Za-z]|[.][._A-Za-z])[._A-Za-z0-9]*|[.])")

R_RESERVED = frozenset({
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
    "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "in"})


def is_syntactic(name: str) -> bool:
    return bool(SYNTACTIC_NAME.fullmatch(name)) and name not in R_RESERVED


def r_symbol(name: str) -> str:
    """A variable name as R deparses it: backticks only around non-syntactic names."""
    return name if is_syntactic(name) else f"`{name}`"
