"""Words that follow the numbers: the phrases a lesson glues into its prose.

A page re-run on other data (``--param``) must not keep saying what the
workshop's data said. Every sentence that states a test's verdict, a
direction or the strength of the evidence takes its words from here, computed
from the values of the run:

>>> verdict(0.047)
'rejects it (p = 0.047)'
>>> direction(1.4, 1.0)
'higher'
>>> evidence(0.10)
'weak evidence'

and a sentence that cannot be rewritten (a remark about the workshop's data)
states its premise with :func:`premise`, which stops the build when the
premise no longer holds, so that the page is never published contradicting
itself.
"""
from __future__ import annotations

import math

from .tables import format_pvalue

__all__ = ["ALPHA", "PremiseFailed", "p_text", "verdict", "significant", "evidence", "direction",
           "premise"]

#: The level at which the pages call a test significant.
ALPHA = 0.05

#: Upper p-value limits of the words :func:`evidence` uses, strongest first.
EVIDENCE_WORDS = ((0.001, "very strong evidence"), (0.01, "strong evidence"),
                  (0.05, "moderate evidence"), (0.10, "weak evidence"))


class PremiseFailed(AssertionError):
    """A sentence of a lesson is no longer true for the data the lesson ran on."""


def _checked_p(p) -> float:
    p = float(p)
    if not (0.0 <= p <= 1.0) or math.isnan(p):
        raise ValueError(f"a p-value lies between 0 and 1, got {p!r}")
    return p


def p_text(p) -> str:
    """``"p = 0.047"`` or ``"p < 0.001"``: the p-value as R's ``format.pval`` with 2 digits,
    very small values as a bound."""
    p = _checked_p(p)
    if p < 0.001:
        return "p < 0.001"
    return f"p = {format_pvalue(p, 2)}"


def significant(p, alpha: float = ALPHA) -> bool:
    """Whether a test with p-value ``p`` rejects its null hypothesis at level ``alpha``."""
    return _checked_p(p) < alpha


def verdict(p, alpha: float = ALPHA, what: str = "it") -> str:
    """``"rejects it (p = 0.047)"`` or ``"does not reject it (p = 0.064)"`` at level ``alpha``;
    ``what`` names the hypothesis or model the test is about."""
    word = "rejects" if significant(p, alpha) else "does not reject"
    return f"{word} {what} ({p_text(p)})"


def evidence(p) -> str:
    """The strength of evidence against a null hypothesis in words: ``"very strong evidence"``
    (p < 0.001), ``"strong"`` (< 0.01), ``"moderate"`` (< 0.05), ``"weak"`` (< 0.10), and
    ``"little or no evidence"`` above."""
    p = _checked_p(p)
    for limit, words in EVIDENCE_WORDS:
        if p < limit:
            return words
    return "little or no evidence"


def direction(value, reference, words=("higher", "lower"), same: str = "the same") -> str:
    """``words[0]`` when ``value`` exceeds ``reference``, ``words[1]`` when it is below,
    ``same`` when they are equal."""
    value, reference = float(value), float(reference)
    if value > reference:
        return words[0]
    if value < reference:
        return words[1]
    return same


def premise(condition, statement: str) -> None:
    """Stop the lesson with :class:`PremiseFailed` unless ``condition`` holds; ``statement``
    is the page's sentence that relies on it."""
    if not bool(condition):
        raise PremiseFailed(f"the page says: {statement!r}, which is not true for this run's "
                            "data; rewrite the sentence or glue its words from the numbers")
