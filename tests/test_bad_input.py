"""Bad input (issue 4): a clear GLMMInputError naming the column and the first bad rows,
never a numpy traceback; missing values dropped with a warning; fits that stop short of
the maximum say so."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib.errors import ConvergenceWarning, GLMMInputError, SingularFitWarning


@pytest.fixture
def counts():
    rng = np.random.default_rng(7)
    n = 60
    group_effect = np.repeat(rng.normal(0, 0.7, 6), n // 6)
    return pd.DataFrame({
        "y": rng.poisson(3 * np.exp(group_effect)).astype(float),
        "x": rng.normal(size=n),
        "trt": pd.Categorical(np.tile(["A", "B", "C"], n // 3)),
        "g": pd.Categorical(np.repeat([f"g{i}" for i in range(6)], n // 6)),
        "s": rng.integers(0, 5, n).astype(float),
        "n": np.full(n, 5.0),
    })


def fit_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gl.glmm(*args, **kwargs)


# ---------------------------------------------------------------- columns

def test_missing_column_lists_the_columns(counts):
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("y ~ trt + dose + (1|g)", counts, family="poisson")
    message = str(err.value)
    assert "'dose'" in message and "not found" in message
    for column in counts.columns:
        assert column in message


def test_missing_grouping_column(counts):
    with pytest.raises(GLMMInputError, match=r"'block'.*not found"):
        gl.glmm("y ~ trt + (1|block)", counts, family="poisson")


def test_missing_response_and_offset_columns(counts):
    with pytest.raises(GLMMInputError, match="'count'"):
        gl.glmm("count ~ trt + (1|g)", counts, family="poisson")
    with pytest.raises(GLMMInputError, match="'area'"):
        gl.glmm("y ~ trt + offset(log(area)) + (1|g)", counts, family="poisson")


def test_data_must_be_a_data_frame(counts):
    with pytest.raises(GLMMInputError, match="DataFrame"):
        gl.glmm("y ~ x", counts.to_dict("list"), family="poisson")


# ---------------------------------------------------------------- missing values

def test_rows_with_missing_values_are_dropped_with_a_warning(counts):
    df = counts.copy()
    df.loc[[3, 10], "x"] = np.nan
    df.loc[20, "trt"] = np.nan
    df.loc[30, "unused"] = 1.0          # a column the model does not use: ignored
    with pytest.warns(UserWarning, match=r"3 rows with missing values") as record:
        fit = gl.glmm("y ~ x + trt + (1|g)", df, family="poisson")
    message = str(record[0].message)
    assert "x" in message and "trt" in message          # the columns
    assert "3, 10, 20" in message                       # the first rows
    assert fit.nobs == len(df) - 3
    full = fit_quietly("y ~ x + trt + (1|g)", df.drop(index=[3, 10, 20]), family="poisson")
    np.testing.assert_allclose(fit.params, full.params, rtol=1e-8)
    assert "3 observations deleted due to missingness" in str(fit.summary())


def test_missing_response_is_dropped_too(counts):
    df = counts.copy()
    df.loc[5, "y"] = np.nan
    with pytest.warns(UserWarning, match="1 row with missing values in y"):
        fit = gl.glmm("y ~ x + (1|g)", df, family="poisson")
    assert fit.nobs == len(df) - 1


def test_all_rows_missing(counts):
    df = counts.assign(x=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(GLMMInputError, match="no rows left"):
            gl.glmm("y ~ x + (1|g)", df, family="poisson")


# ---------------------------------------------------------------- responses

@pytest.mark.parametrize("family", ["poisson", "nbinom1", "nbinom2"])
def test_negative_counts_name_the_rows(counts, family):
    df = counts.copy()
    df.loc[[4, 17], "y"] = [-1.0, -3.0]
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("y ~ x + (1|g)", df, family=family)
    message = str(err.value)
    assert "'y'" in message and "non-negative whole numbers" in message
    assert "rows 4, 17" in message and "-1.0" in message and family in message


@pytest.mark.parametrize("family", ["poisson", "nbinom1", "nbinom2"])
def test_non_integer_counts_name_the_rows(counts, family):
    df = counts.copy()
    df.loc[8, "y"] = 2.5
    with pytest.raises(GLMMInputError, match=r"rows 8 .*2\.5"):
        gl.glmm("y ~ x + (1|g)", df, family=family)


def test_successes_above_trials(counts):
    df = counts.copy()
    df.loc[[2, 9], "s"] = [7.0, 6.0]
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("cbind(s, n - s) ~ x + (1|g)", df, family="binomial")
    message = str(err.value)
    assert "successes exceed trials" in message and "rows 2, 9" in message


def test_proportion_above_one(counts):
    df = counts.assign(p=counts["s"] / counts["n"])
    df.loc[6, "p"] = 1.4
    with pytest.raises(GLMMInputError, match=r"proportion in \[0, 1\].*rows 6"):
        gl.glmm("p ~ x + (1|g)", df, family="binomial", weights="n")


def test_non_whole_successes_need_weights(counts):
    df = counts.assign(p=counts["s"] / counts["n"])
    with pytest.raises(GLMMInputError, match="weights"):
        gl.glmm("p ~ x + (1|g)", df, family="binomial")


def test_cbind_with_a_count_family(counts):
    with pytest.raises(GLMMInputError, match="binomial response"):
        gl.glmm("cbind(s, n - s) ~ x + (1|g)", counts, family="poisson")


def test_factor_response_for_a_count_family(counts):
    with pytest.raises(GLMMInputError, match="'trt' is a factor"):
        gl.glmm("trt ~ x + (1|g)", counts, family="poisson")


def test_negative_weights(counts):
    df = counts.assign(w=1.0)
    df.loc[11, "w"] = -2.0
    with pytest.raises(GLMMInputError, match=r"weights.*rows 11"):
        gl.glmm("y ~ x + (1|g)", df, family="poisson", weights="w")


@pytest.mark.parametrize("formula, message", [
    ("y ~ x + offset(log(area)) + (1|g)", r"offset is not finite at rows 13"),
    ("y ~ x + log(area) + (1|g)", r"not finite \(e.g. log of 0\) in log\(area\)$"),
])
def test_log_of_zero(counts, formula, message):
    df = counts.assign(area=1.0)
    df.loc[13, "area"] = 0.0
    with pytest.raises(GLMMInputError, match=message):
        with np.errstate(divide="ignore"):
            gl.glmm(formula, df, family="poisson")


# ---------------------------------------------------------------- random terms

def test_grouping_factor_with_one_level(counts):
    df = counts.assign(site=pd.Categorical(["only"] * len(counts)))
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("y ~ x + (1|site)", df, family="poisson")
    message = str(err.value)
    assert "'site'" in message and "only one level ('only')" in message


def test_grouping_factor_with_one_level_after_dropping_rows(counts):
    """Unused categories do not count as levels."""
    df = counts[counts["g"] == "g0"].copy()
    with pytest.raises(GLMMInputError, match="only one level"):
        gl.glmm("y ~ x + (1|g)", df, family="poisson")


def test_more_parameters_than_rows(counts):
    df = counts.iloc[[0, 10, 20, 30]]        # four groups, four rows
    with pytest.raises(GLMMInputError, match="parameters but only 4 rows"):
        gl.glmm("y ~ x + trt + (1|g)", df, family="poisson")


# ---------------------------------------------------------------- formulas

def caret_position(message):
    """Column of the '^' under the formula line of a parse error."""
    lines = message.splitlines()
    formula_line, caret_line = lines[-2], lines[-1]
    return caret_line.index("^") - (len(formula_line) - len(formula_line.lstrip()))


@pytest.mark.parametrize("formula, what, at", [
    ("y ~ x + (1|g", "unclosed '('", "(1|g"),
    ("y ~ x + 1|g)", "unmatched ')'", ")"),
    ("y ~ x + + (1|g)", "empty term", "+ (1|g)"),
    ("y x + (1|g)", "expected one '~'", None),
    ("y ~ x ~ z", "expected one '~'", None),
    ("y ~ x + 1|g", "a random term must be in parentheses", "1|g"),
    ("y ~ x + (|g)", "a random term reads (terms | group)", "(|g)"),
    ("y ~ x + (1|)", "a random term reads (terms | group)", "(1|)"),
])
def test_formula_that_does_not_parse_shows_where(counts, formula, what, at):
    with pytest.raises(GLMMInputError) as err:
        gl.glmm(formula, counts, family="poisson")
    message = str(err.value)
    assert message.startswith("cannot parse formula")
    assert what in message
    assert formula in message
    if at is not None:
        # the caret points at (or just before) the offending part
        position = caret_position(message)
        assert abs(position - formula.index(at)) <= 1, (message, position, formula.index(at))


def test_empty_formula(counts):
    with pytest.raises(GLMMInputError, match="non-empty string"):
        gl.glmm("", counts)


def test_bad_fixed_part_is_an_input_error(counts):
    with pytest.raises(GLMMInputError):
        gl.glmm("y ~ x + undefined_function(x) + (1|g)", counts, family="poisson")


# ---------------------------------------------------------------- families

def test_unknown_family_lists_the_families(counts):
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("y ~ x + (1|g)", counts, family="poison")
    message = str(err.value)
    assert "unknown family 'poison'" in message
    for name in ("binomial", "gaussian", "nbinom1", "nbinom2", "poisson"):
        assert name in message


@pytest.mark.parametrize("family, link", [("poisson", "logit"), ("binomial", "inverse"),
                                          ("nbinom1", "identity"), ("gaussian", "probit")])
def test_family_link_pair_that_does_not_exist(counts, family, link):
    with pytest.raises(GLMMInputError) as err:
        gl.glmm("y ~ x + (1|g)", counts, family=family, link=link)
    message = str(err.value)
    assert f"no link '{link}'" in message and family in message
    assert "available links" in message


# ---------------------------------------------------------------- convergence

def test_stopped_optimizer_warns_and_says_why():
    ww = gl.datasets.load("beall_webworms")
    with pytest.warns(ConvergenceWarning, match="did not converge: large gradient") as record:
        fit = gl.glmm("y ~ trt + (1|block)", ww, family="nbinom1", max_iter=1, newton_steps=0)
    assert fit.converged is False
    assert any("large gradient" in p for p in fit.convergence_problems)
    assert "did not converge" in str(record[0].message)
    assert "did not converge" in str(fit.summary())


def test_variance_at_zero_is_a_singular_fit():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"g": pd.Categorical(np.repeat([f"g{i}" for i in range(8)], 10)),
                       "x": rng.normal(size=80)})
    df["y"] = rng.poisson(np.exp(0.5 + 0.3 * df["x"])).astype(float)   # no group effect
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gl.glmm("y ~ x + (1|g)", df, family="poisson")
    kinds = {type(w.message) for w in caught}
    assert SingularFitWarning in kinds
    singular = next(str(w.message) for w in caught if isinstance(w.message, SingularFitWarning))
    assert "the g variance is estimated as zero" in singular
    assert "fixed effects" in singular and "theta:" not in singular
    assert ConvergenceWarning not in kinds       # a variance at zero is a result, not a failure
    assert fit.varcorr["sd"].iloc[0] < 1e-3
    assert fit.converged is True
    assert fit.convergence.singular == ("the g variance is estimated as zero",)
    assert fit.convergence_problems == ["singular fit: the g variance is estimated as zero"]


def test_errors_are_value_errors(counts):
    """GLMMInputError is a ValueError, so generic handlers catch it."""
    with pytest.raises(ValueError):
        gl.glmm("y ~ nope", counts, family="poisson")


def test_repeated_column_name_is_refused():
    df = pd.DataFrame(np.arange(12.0).reshape(6, 2), columns=["y", "y"]).assign(g=list("aabbcc"))
    with pytest.raises(GLMMInputError, match="more than one column named 'y'"):
        gl.glmm("y ~ 1 + (1|g)", df, family="gaussian")
