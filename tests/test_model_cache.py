"""gl.glmm reuses the model of an earlier fit only when the data still hold what it was
built from (glmm_lib/model_cache.py)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl

FORMULA = "Reaction ~ Days + (1 | Subject)"


@pytest.fixture
def sleep():
    data = gl.datasets.load("belenky_sleepstudy")
    data["Subject"] = data["Subject"].astype(str).astype("category")
    return data


def test_the_same_data_reuse_the_model(sleep):
    first = gl.glmm(FORMULA, sleep)
    again = gl.glmm(FORMULA, sleep.copy())
    assert again.model is first.model
    assert again.llf == first.llf


def test_data_changed_in_place_give_a_new_model(sleep):
    first = gl.glmm(FORMULA, sleep)
    sleep.loc[sleep.index[0], "Reaction"] += 50.0
    changed = gl.glmm(FORMULA, sleep)
    assert changed.model is not first.model
    assert changed.model.y[0] == first.model.y[0] + 50.0
    assert changed.llf != first.llf


def test_reordered_levels_give_a_new_model(sleep):
    first = gl.glmm("Reaction ~ Subject + (1 | Days)", sleep)
    levels = list(sleep["Subject"].cat.categories)
    reordered = sleep.assign(Subject=sleep["Subject"].cat.reorder_categories(levels[::-1]))
    second = gl.glmm("Reaction ~ Subject + (1 | Days)", reordered)
    assert second.model is not first.model
    assert second.params.index[1] == f"Subject{levels[-2]}"


def test_other_arguments_give_a_new_model(sleep):
    ml = gl.glmm(FORMULA, sleep)
    reml = gl.glmm(FORMULA, sleep, REML=True)
    assert reml.model is not ml.model and reml.REML


def test_dropped_rows_warn_at_every_fit(sleep):
    sleep.loc[sleep.index[:3], "Reaction"] = np.nan
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = gl.glmm(FORMULA, sleep)
        assert fit.model.nobs == len(sleep) - 3
        assert any("missing values" in str(w.message) for w in caught)


def test_text_columns_are_compared_by_value(sleep):
    text = sleep.assign(Subject=sleep["Subject"].astype(str))
    first = gl.glmm(FORMULA, text)
    assert gl.glmm(FORMULA, pd.DataFrame(text)).model is first.model
    renamed = text.assign(Subject=text["Subject"].replace({text["Subject"].iloc[0]: "other"}))
    second = gl.glmm(FORMULA, renamed)
    assert second.model is not first.model
    assert "other" in second.model.random_effects.terms[0].levels
