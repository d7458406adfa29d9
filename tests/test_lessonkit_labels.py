"""Axis labels of the lessons name the response with its unit, read from the data's
description (issue 19: "larvae per sampling unit", not "mean y")."""
from __future__ import annotations

import pytest

from course.lessonkit.data import label, unit
from course.lessonkit.tables import format_pvalue


def test_a_shipped_data_sets_unit_is_read_from_its_description():
    assert unit("yates_oats", "yield") == "1/4 lb per subplot"
    assert label("yates_oats", "yield", "mean") == "mean yield (1/4 lb per subplot)"


def test_the_units_remark_is_left_out_of_the_label():
    assert label("greenhouse_pots", "height") == "height (cm)"
    assert label("beall_webworms", "y", "fitted") == "fitted y (larvae per unit area)"


def test_a_factor_and_a_file_of_ones_own_have_no_unit(tmp_path):
    assert label("yates_oats", "Block") == "Block"
    assert label(str(tmp_path / "trial.csv"), "yield", "fitted") == "fitted yield"


def test_an_unknown_column_is_an_error():
    with pytest.raises(KeyError, match="no column 'yeild'"):
        label("yates_oats", "yeild")


def test_a_bootstrap_p_value_column_is_printed_as_format_pval():
    from course.lessonkit.tables import P_VALUE_COLUMNS

    assert "Pr(boot)" in P_VALUE_COLUMNS
    assert format_pvalue(3 / 401) == "0.00748"
