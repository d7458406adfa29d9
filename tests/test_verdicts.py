"""The phrases lessons glue into their prose follow the numbers they are given."""
from __future__ import annotations

import pytest

from course.lessonkit.verdicts import PremiseFailed, direction, evidence, p_text, premise, verdict


@pytest.mark.parametrize("p, words", [(0.047, "rejects it (p = 0.047)"),
                                      (0.064, "does not reject it (p = 0.064)"),
                                      (0.05, "does not reject it (p = 0.05)"),
                                      (2e-10, "rejects it (p < 0.001)")])
def test_verdict_follows_the_p_value(p, words):
    assert verdict(p) == words


def test_p_text_as_format_pval_with_two_digits():
    assert p_text(0.10151) == "p = 0.1"
    assert p_text(0.0123) == "p = 0.012"
    assert p_text(0.0004) == "p < 0.001"


@pytest.mark.parametrize("p, words", [(0.0005, "very strong evidence"), (0.005, "strong evidence"),
                                      (0.03, "moderate evidence"), (0.10, "little or no evidence"),
                                      (0.099, "weak evidence"), (0.6, "little or no evidence")])
def test_evidence_words(p, words):
    assert evidence(p) == words


def test_direction():
    assert direction(2, 1) == "higher" and direction(1, 2) == "lower" and direction(1, 1) == "the same"
    assert direction(3, 1, words=("raises", "lowers")) == "raises"


def test_bad_p_value_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        verdict(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        evidence(float("nan"))


def test_premise_stops_with_the_sentence():
    premise(True, "fine")
    with pytest.raises(PremiseFailed, match="the spray did more"):
        premise(False, "the spray did more")
