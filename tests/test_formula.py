"""Stage 1: lme4/glmmTMB formula text -> ParsedFormula (response, fixed part, offsets,
random terms), and the small R-expression evaluator used for responses and offsets."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glmm_lib.errors import GLMMInputError
from glmm_lib.formula import (RandomTermSpec, evaluate_expression, expression_variables,
                              parse_formula, split_top_level)


def specs(formula):
    return [(t.lhs, t.group, t.structure) for t in parse_formula(formula).random]


def test_random_intercept():
    p = parse_formula("y ~ trt + (1|block)")
    assert p.response == "y"
    assert p.fixed == "trt"
    assert p.offsets == []
    assert p.random == [RandomTermSpec("1", "block", "us")]
    assert p.response_parts == ["y"]


def test_spacing_does_not_matter():
    assert specs("y~trt+(1|block)") == specs("y ~ trt + ( 1 | block )") == [("1", "block", "us")]


def test_crossed_terms():
    p = parse_formula("y ~ x + (1|a) + (1|b)")
    assert p.fixed == "x"
    assert specs("y ~ x + (1|a) + (1|b)") == [("1", "a", "us"), ("1", "b", "us")]


def test_nested_slash_expands_as_lme4():
    """lme4's findbars: (1|a/b) is (1|b:a) + (1|a), the interaction first, named inner:outer."""
    assert specs("y ~ x + (1|a/b)") == [("1", "b:a", "us"), ("1", "a", "us")]
    assert specs("y ~ x + (x|a/b)") == [("x", "b:a", "us"), ("x", "a", "us")]


def test_three_level_nesting():
    # lme4 names the first c:(b:a); the same factor
    assert [t.group for t in parse_formula("y ~ 1 + (1|a/b/c)").random] == ["c:b:a", "b:a", "a"]


def test_colon_grouping_is_one_term():
    assert specs("y ~ x + (1|a) + (1|a:b)") == [("1", "a", "us"), ("1", "a:b", "us")]


def test_double_bar_is_diagonal():
    assert specs("Reaction ~ Days + (Days||Subject)") == [("Days", "Subject", "diag")]


def test_random_slope_is_unstructured():
    assert specs("Reaction ~ Days + (Days|Subject)") == [("Days", "Subject", "us")]
    assert specs("Reaction ~ Days + (1 + Days | Subject)") == [("1 + Days", "Subject", "us")]


@pytest.mark.parametrize("structure", ["us", "diag", "cs", "ar1"])
def test_covariance_structures(structure):
    p = parse_formula(f"weight ~ trt*week + (1|room) + {structure}(0 + time|pig)")
    assert p.fixed == "trt*week"
    assert specs(p.text) == [("1", "room", "us"), ("0 + time", "pig", structure)]
    assert str(p.random[1]) == (f"({p.random[1].lhs} | pig)" if structure == "us"
                                else f"{structure}(0 + time | pig)")


def test_offsets_are_taken_out_of_the_fixed_part():
    p = parse_formula("n ~ food*sex + offset(log(brood)) + (1|nest)")
    assert p.fixed == "food*sex"
    assert p.offsets == ["log(brood)"]
    two = parse_formula("y ~ x + offset(log(a)) + offset(b)")
    assert two.offsets == ["log(a)", "b"]
    assert two.fixed == "x"


def test_cbind_response():
    p = parse_formula("cbind(germ, n - germ) ~ extract*gen")
    assert p.response_parts == ["germ", "n - germ"]
    assert p.fixed == "extract*gen"
    assert p.random == []


def test_cbind_needs_two_parts():
    with pytest.raises(GLMMInputError, match="exactly two parts"):
        parse_formula("cbind(a, b, c) ~ x").response_parts


def test_intercept_only_and_no_intercept():
    assert parse_formula("y ~ (1|g)").fixed == "1"
    assert parse_formula("y ~ 1 + (1|g)").fixed == "1"
    assert parse_formula("y ~ 0 + x + (1|g)").fixed == "0 + x"
    assert parse_formula("y ~ x - 1").fixed == "x - 1"


def test_backticked_names_keep_their_specials():
    p = parse_formula("`my y` ~ `a+b` + (1|`g|h`)")
    assert p.response == "`my y`"
    assert p.fixed == "`a+b`"
    assert [t.group for t in p.random] == ["`g|h`"]


def test_split_top_level_respects_parentheses_and_backticks():
    assert split_top_level("a + f(b + c) + `d + e`", "+") == ["a ", " f(b + c) ", " `d + e`"]


@pytest.mark.parametrize("expression, names", [
    ("y", ["y"]),
    ("log(BroodSize)", ["BroodSize"]),
    ("n - germ", ["n", "germ"]),
    ("incidence/size", ["incidence", "size"]),
    ("I(x^2) + log1p(z)", ["x", "z"]),
    ("`my y` + 1", ["my y"]),
    ("yield", ["yield"]),            # a Python keyword is still an R name
])
def test_expression_variables(expression, names):
    assert sorted(expression_variables(expression)) == sorted(names)


def test_evaluate_expression():
    df = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [1.0, 1.0, 2.0], "my y": [3.0, 4.0, 5.0],
                       "yield": [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(evaluate_expression("log(a)", df), np.log([1, 2, 4]))
    np.testing.assert_allclose(evaluate_expression("a - b", df), [0, 1, 2])
    np.testing.assert_allclose(evaluate_expression("a/b", df), [1, 2, 2])
    np.testing.assert_allclose(evaluate_expression("a^2", df), [1, 4, 16])
    np.testing.assert_allclose(evaluate_expression("`my y` * 2", df), [6, 8, 10])
    np.testing.assert_allclose(evaluate_expression("yield", df), [1, 2, 3])
    np.testing.assert_allclose(evaluate_expression("3", df), [3, 3, 3])   # broadcast


def test_evaluate_expression_unknown_name_is_an_input_error():
    with pytest.raises(GLMMInputError, match="nope"):
        evaluate_expression("log(nope)", pd.DataFrame({"a": [1.0]}))


@pytest.mark.parametrize("rhs, names", [("trt + x", ["trt", "x"]), ("1", []), ("1 + x.1", ["x.1"]),
                                        ("a + a", ["a"]), ("x + log(z)", None), ("a*b", None),
                                        ("x - 1", None), ("0 + x", None), ("`a b`", ["a b"]),
                                        ("`a.b` + c", ["a.b", "c"]), (". + x", None)])
def test_plain_terms(rhs, names):
    from glmm_lib.formula import plain_terms

    assert plain_terms(rhs) == names
