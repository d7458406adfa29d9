"""p-value adjustments and simultaneous-interval multipliers (glmm_lib.multiplicity)
against R: ``p.adjust``, ``ptukey``, ``qtukey`` and ``qt`` (R 4.2.2), from
tests/fixtures/multiplicity/p_adjust.json, made by make_p_adjust.R beside it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from glmm_lib.errors import GLMMInputError
from glmm_lib.multiplicity import (adjust_p_values, critical_value, smallest_adjusted,
                                   tukey_p_values)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "multiplicity" / "p_adjust.json"


def _reference():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _values(x):
    """jsonlite writes a length-one vector as a scalar and NA as null."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


def _df(value):
    return np.inf if value is None else float(value)      # jsonlite writes Inf as null


CASES = [(name, method) for name in _reference()["adjusted"]
         for method in ("none", "bonferroni", "sidak", "holm", "BH")]


@pytest.mark.parametrize("name,method", CASES)
def test_adjustments_match_r(name, method):
    case = _reference()["adjusted"][name]
    got = adjust_p_values(_values(case["p"]), method)
    expected = _values(case[method])
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert got[~np.isnan(got)] == pytest.approx(expected[~np.isnan(expected)], rel=1e-12,
                                                 abs=1e-15)


@pytest.mark.parametrize("name", list(_reference()["adjusted"]))
def test_smallest_adjusted_is_the_least_of_the_family(name):
    case = _reference()["adjusted"][name]
    for method in ("holm", "BH"):
        expected = np.nanmin(_values(case[method]))
        assert smallest_adjusted(_values(case["p"]), method) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(smallest_adjusted([np.nan, np.nan], "BH"))


def test_method_names_are_case_insensitive_and_checked():
    p = [0.01, 0.02, 0.03]
    assert adjust_p_values(p, "bh") == pytest.approx(adjust_p_values(p, "BH"))
    assert adjust_p_values(p, "Holm") == pytest.approx([0.03, 0.04, 0.04])
    with pytest.raises(GLMMInputError, match="unknown p-value adjustment 'scheffe'"):
        adjust_p_values(p, "scheffe")
    with pytest.raises(GLMMInputError, match="no simultaneous intervals"):
        critical_value("BH", 0.95, 3, 3, 10)


def test_tukey_p_values_match_ptukey():
    for row in _reference()["tukey_p"]:
        t = row["q"] / np.sqrt(2.0)
        got = tukey_p_values([t, -t], row["k"], _df(row["df"]))
        assert got == pytest.approx([row["p"]] * 2, rel=1e-6, abs=1e-9), row


def test_critical_values_match_qtukey_and_qt():
    ref = _reference()
    for row in ref["tukey_critical"]:
        got = critical_value("tukey", row["level"], row["k"], None, _df(row["df"]))
        assert got == pytest.approx(row["critical"], rel=1e-6), row
    for row in ref["t_critical"]:
        df = _df(row["df"])
        for method in ("bonferroni", "sidak"):
            got = critical_value(method, row["level"], None, row["m"], df)
            assert got == pytest.approx(row[method], rel=1e-10), (row, method)
        # Holm's intervals are Bonferroni's; no adjustment is the plain t quantile
        assert critical_value("holm", row["level"], None, row["m"], df) == \
            pytest.approx(row["bonferroni"], rel=1e-10)
        if row["m"] == 1:
            assert critical_value("none", row["level"], None, 1, df) == \
                pytest.approx(row["bonferroni"], rel=1e-10)
