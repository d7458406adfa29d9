"""Stage 2: formula + data -> model frame and designs (X with R's names, the random-effects
structure, response, trials, weights, offset).

Expected column names and column sums are R 4.2.2's ``model.matrix`` on the same data
(treatment contrasts, levels in the order of the data's categoricals)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl
from glmm_lib.errors import GLMMInputError
from glmm_lib.fixed import FixedEffects, aliased_columns, build_matrix, r_name
from glmm_lib.model import GLMMModel

from test_glmmtmb import FIX, load_data


@pytest.fixture(scope="module")
def webworms():
    return gl.datasets.load("beall_webworms")


@pytest.fixture(scope="module")
def crowder():
    df = gl.datasets.load("crowder_seeds")
    df["x"] = np.arange(1, 22) / 10
    return df


# R: model.matrix(<formula>, data) column names and colSums
WEBWORMS_R = {
    "trt": (["(Intercept)", "trtT2", "trtT3", "trtT4"], [1300, 325, 325, 325]),
    "spray*lead": (["(Intercept)", "sprayY", "leadY", "sprayY:leadY"], [1300, 650, 650, 325]),
    "0 + trt": (["trtT1", "trtT2", "trtT3", "trtT4"], [325, 325, 325, 325]),
    "trt - 1": (["trtT1", "trtT2", "trtT3", "trtT4"], [325, 325, 325, 325]),
}
CROWDER_R = {
    "extract*gen": (["(Intercept)", "extractcucumber", "genO75", "extractcucumber:genO75"],
                    [21, 11, 11, 6]),
    "gen/extract": (["(Intercept)", "genO75", "genO73:extractcucumber", "genO75:extractcucumber"],
                    [21, 11, 5, 6]),
    "x*extract": (["(Intercept)", "x", "extractcucumber", "x:extractcucumber"],
                  [21, 23.1, 11, 17.6]),
    "x:extract": (["(Intercept)", "x:extractbean", "x:extractcucumber"], [21, 5.5, 17.6]),
    "log(x) + I(x^2)": (["(Intercept)", "log(x)", "I(x^2)"], [21, -2.9741480544, 33.11]),
    "(extract + gen + x)^2": (["(Intercept)", "extractcucumber", "genO75", "x",
                               "extractcucumber:genO75", "extractcucumber:x", "genO75:x"],
                              [21, 11, 11, 23.1, 6, 17.6, 9.6]),
}


@pytest.mark.parametrize("rhs", list(WEBWORMS_R))
def test_webworms_design_matches_model_matrix(webworms, rhs):
    names, sums = WEBWORMS_R[rhs]
    fe = FixedEffects.from_frame(rhs, webworms)
    assert fe.names == names
    np.testing.assert_allclose(fe.X.sum(axis=0), sums, rtol=1e-10)


@pytest.mark.parametrize("rhs", list(CROWDER_R))
def test_crowder_design_matches_model_matrix(crowder, rhs):
    names, sums = CROWDER_R[rhs]
    fe = FixedEffects.from_frame(rhs, crowder)
    assert fe.names == names
    np.testing.assert_allclose(fe.X.sum(axis=0), sums, rtol=1e-10)


def test_interaction_columns_are_the_products(crowder):
    fe = FixedEffects.from_frame("extract*gen", crowder)
    cucumber = (crowder["extract"] == "cucumber").to_numpy(float)
    o75 = (crowder["gen"] == "O75").to_numpy(float)
    expected = np.column_stack([np.ones(21), cucumber, o75, cucumber * o75])
    np.testing.assert_array_equal(fe.X, expected)
    assert fe.terms == {"1": ["(Intercept)"], "extract": ["extractcucumber"],
                        "gen": ["genO75"], "extract:gen": ["extractcucumber:genO75"]}


def test_numeric_by_factor_interaction_values(crowder):
    fe = FixedEffects.from_frame("x*extract", crowder)
    cucumber = (crowder["extract"] == "cucumber").to_numpy(float)
    np.testing.assert_allclose(fe.X[:, 3], crowder["x"].to_numpy() * cucumber)


def test_model_uses_categorical_level_order(webworms):
    """The first category is the reference, not the alphabetically first label."""
    df = webworms.copy()
    df["trt"] = df["trt"].cat.reorder_categories(["T3", "T1", "T2", "T4"])
    m = GLMMModel("y ~ trt + (1|block)", df, family="poisson")
    assert m.fixed.names == ["(Intercept)", "trtT1", "trtT2", "trtT4"]
    assert m.random_effects.terms[0].levels == [f"B{i}" for i in range(1, 14)]


def test_text_columns_use_sorted_levels(webworms):
    df = webworms.copy()
    df["trt"] = df["trt"].astype(str)
    df["block"] = df["block"].astype(str)
    m = GLMMModel("y ~ trt + (1|block)", df, family="poisson")
    assert m.fixed.names == ["(Intercept)", "trtT2", "trtT3", "trtT4"]
    # string order, as R's factor() of character data: B1, B10, B11, B12, B13, B2, ...
    assert m.random_effects.terms[0].levels[:3] == ["B1", "B10", "B11"]


def test_rank_deficient_design_names_the_columns(webworms):
    """trt is spray x lead in Beall's design, so trt + spray:lead is aliased: trt's columns
    already span the four cells, and R's rule names every column after them."""
    with pytest.raises(GLMMInputError, match="rank deficient") as err:
        FixedEffects.from_frame("trt + spray:lead", webworms)
    assert "rank deficient: leadY, sprayY:leadN, sprayY:leadY cannot be estimated" in str(err.value)


# R: which coefficients lm() leaves NA (fixtures/make_aliased_cases.R)
ALIASED = json.loads((FIX / "aliased_cases.json").read_text(encoding="utf-8"))


def _aliased_case_frame(name, webworms):
    if name == "webworms":
        return webworms
    return pd.DataFrame({
        column: pd.Categorical(v["values"], categories=v["levels"]) if isinstance(v, dict)
        else np.asarray(v, dtype=float)
        for column, v in ALIASED["frames"][name].items()})


@pytest.mark.parametrize("case", ALIASED["cases"], ids=lambda c: f"{c['frame']}: {c['formula']}")
def test_aliased_columns_are_the_ones_r_names(case, webworms):
    """Of a set of aliased columns R names the later ones in model-matrix order, whichever of
    several equal columns a size-pivoted QR would have kept (trt's columns given spray and lead,
    an empty cell, copies, a sum of earlier columns, 1e-10 from a column; 1e-5 from one is kept)."""
    data = _aliased_case_frame(case["frame"], webworms)
    rhs = case["formula"].split("~", 1)[1].strip()
    mm = build_matrix(rhs, data, "test design")
    names = [r_name(c) for c in mm.columns]
    assert names == case["columns"]
    X = np.asarray(mm, dtype=float)
    assert [names[j] for j in aliased_columns(X)] == case["aliased"]
    # other rounding, same answer: the rows in another order
    rows = np.random.default_rng(0).permutation(len(X))
    assert [names[j] for j in aliased_columns(X[rows])] == case["aliased"]
    if case["aliased"]:
        with pytest.raises(GLMMInputError, match="rank deficient") as err:
            FixedEffects.from_frame(rhs, data)
        assert f"rank deficient: {', '.join(case['aliased'])} cannot be estimated" in str(err.value)
    else:
        assert FixedEffects.from_frame(rhs, data).names == case["columns"]


def test_scale_is_r_scale():
    """scale(x) standardizes with the n - 1 standard deviation, as R."""
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0, 7.0]})
    fe = FixedEffects.from_frame("scale(x)", df)
    assert fe.names == ["(Intercept)", "scale(x)"]
    x = df["x"].to_numpy()
    np.testing.assert_allclose(fe.X[:, 1], (x - x.mean()) / x.std(ddof=1))


def test_scale_inside_a_model_finds_its_column():
    df = load_data("grouseticks")
    m = GLMMModel("TICKS ~ YEAR + scale(HEIGHT) + (1|BROOD) + (1|LOCATION)", df, family="poisson")
    assert m.fixed.names == ["(Intercept)", "YEAR96", "YEAR97", "scale(HEIGHT)"]
    assert [t.n_levels for t in m.random_effects.terms] == [118, 63]


# ---------------------------------------------------------------- random-effects structure

def test_random_intercept_structure(webworms):
    m = GLMMModel("y ~ trt + (1|block)", webworms, family="poisson")
    re = m.random_effects
    assert re.q == 13 and re.K == 1 and re.n_theta == 1
    codes = webworms["block"].cat.codes.to_numpy()
    np.testing.assert_array_equal(re.cols[:, 0], codes)
    # Lambda = exp(theta): A = Z Lambda has the SD in each row's own column
    np.testing.assert_allclose(re.values(np.array([np.log(0.5)]))[:, 0], 0.5)


def test_crossed_terms_columns():
    df = load_data("sim_crossed_poisson")
    m = GLMMModel("y ~ x + (1|a) + (1|b)", df, family="poisson")
    re = m.random_effects
    na, nb = df["a"].nunique(), df["b"].nunique()
    assert re.q == na + nb and re.K == 2
    np.testing.assert_array_equal(re.cols[:, 0], df["a"].cat.codes)
    np.testing.assert_array_equal(re.cols[:, 1], na + df["b"].cat.codes.to_numpy())


def test_nested_slash_expands_to_outer_and_interaction():
    df = load_data("sim_nested_binomial")
    slash = GLMMModel("cbind(y, n - y) ~ x + (1|a/b)", df, family="binomial")
    colon = GLMMModel("cbind(y, n - y) ~ x + (1|a) + (1|a:b)", df, family="binomial")
    for m in (slash, colon):
        terms = {frozenset(t.group_name.split(":")): t for t in m.random_effects.terms}
        assert set(terms) == {frozenset({"a"}), frozenset({"a", "b"})}
        assert terms[frozenset({"a"})].n_levels == 12
        inner = terms[frozenset({"a", "b"})]
        # b's labels b1..b4 repeat within every a: the interaction has 12 x 4 levels
        assert inner.n_levels == 48
        pairs = set(zip(df["a"].astype(str), df["b"].astype(str)))
        assert len(pairs) == 48
        # rows of the same (a, b) share a level, rows of different pairs do not
        key = df["a"].astype(str) + "/" + df["b"].astype(str)
        assert pd.Series(inner.codes).groupby(key.to_numpy()).nunique().max() == 1
        assert len(set(inner.codes)) == 48


def test_random_slope_design():
    df = load_data("sleepstudy")
    m = GLMMModel("Reaction ~ Days + (Days|Subject)", df)
    term = m.random_effects.terms[0]
    assert term.term_names == ["(Intercept)", "Days"]
    assert term.structure.name == "us" and term.structure.n_params == 3
    np.testing.assert_array_equal(term.design.X, np.column_stack([np.ones(len(df)), df["Days"]]))
    re = m.random_effects
    assert re.q == 36 and re.K == 2
    codes = df["Subject"].cat.codes.to_numpy()
    np.testing.assert_array_equal(re.cols, np.column_stack([2 * codes, 2 * codes + 1]))
    # theta = 0: Lambda = I, so A = Z
    np.testing.assert_allclose(re.values(np.zeros(3)), term.design.X)


def test_double_bar_gives_independent_terms():
    df = load_data("sleepstudy")
    m = GLMMModel("Reaction ~ Days + (Days||Subject)", df)
    (term,) = m.random_effects.terms
    assert term.term_names == ["(Intercept)", "Days"]
    assert term.structure.name == "diag" and term.structure.n_params == 2
    lam = term.structure.factor(np.log([2.0, 3.0]))
    np.testing.assert_allclose(lam, np.diag([2.0, 3.0]))


def test_ar1_term_design():
    df = load_data("sim_poisson_ar1")
    m = GLMMModel("count ~ trt + week + ar1(0 + time|id)", df, family="poisson")
    (term,) = m.random_effects.terms
    assert term.structure.name == "ar1"
    assert term.term_names == [f"timet{i:02d}" for i in range(1, 11)]
    assert term.n_levels == 40
    rho = 0.6
    cov = term.structure.covariance(np.array([np.log(2.0), rho / np.sqrt(1 - rho**2)]))
    lags = np.abs(np.subtract.outer(np.arange(10), np.arange(10)))
    np.testing.assert_allclose(cov, 4.0 * rho**lags, atol=1e-12)


# ---------------------------------------------------------------- response, offsets, weights

def test_cbind_response_gives_successes_and_trials(crowder):
    m = GLMMModel("cbind(germ, n - germ) ~ extract*gen", crowder, family="binomial")
    np.testing.assert_array_equal(m.y, crowder["germ"])
    np.testing.assert_array_equal(m.trials, crowder["n"])
    np.testing.assert_array_equal(m.weights, 1.0)


def test_proportion_with_weights_is_cbind(crowder):
    df = crowder.assign(p=crowder["germ"] / crowder["n"])
    m = GLMMModel("p ~ extract*gen", df, family="binomial", weights="n")
    np.testing.assert_allclose(m.y, crowder["germ"])
    np.testing.assert_array_equal(m.trials, crowder["n"])
    np.testing.assert_array_equal(m.weights, 1.0)


def test_zero_one_response_has_one_trial():
    df = load_data("cbpp_bernoulli")
    m = GLMMModel("y ~ period + (1|herd)", df, family="binomial")
    np.testing.assert_array_equal(m.trials, 1.0)
    assert set(np.unique(m.y)) == {0.0, 1.0}


def test_offset_in_the_formula():
    df = load_data("owls")
    m = GLMMModel("SiblingNegotiation ~ FoodTreatment*SexParent + offset(log(BroodSize)) "
                  "+ (1|Nest)", df, family="poisson")
    np.testing.assert_allclose(m.offset, np.log(df["BroodSize"]))
    assert m.fixed.names == ["(Intercept)", "FoodTreatmentSatiated", "SexParentMale",
                             "FoodTreatmentSatiated:SexParentMale"]


def test_offset_argument_as_array_and_column():
    df = load_data("owls").assign(logb=lambda d: np.log(d["BroodSize"]))
    f = "SiblingNegotiation ~ FoodTreatment + (1|Nest)"
    by_array = GLMMModel(f, df, family="poisson", offset=np.log(df["BroodSize"].to_numpy()))
    by_column = GLMMModel(f, df, family="poisson", offset="logb")
    np.testing.assert_allclose(by_array.offset, df["logb"])
    np.testing.assert_allclose(by_column.offset, df["logb"])


def test_offset_argument_as_expression():
    """glmmTMB(..., offset = log(BroodSize)) is written offset="log(BroodSize)"."""
    df = load_data("owls")
    m = GLMMModel("SiblingNegotiation ~ FoodTreatment + (1|Nest)", df, family="poisson",
                  offset="log(BroodSize)")
    np.testing.assert_allclose(m.offset, np.log(df["BroodSize"]))


def test_offsets_add_up():
    df = load_data("owls")
    m = GLMMModel("SiblingNegotiation ~ FoodTreatment + offset(log(BroodSize)) + (1|Nest)", df,
                  family="poisson", offset=np.full(len(df), 0.5))
    np.testing.assert_allclose(m.offset, np.log(df["BroodSize"]) + 0.5)


def test_weights_column():
    df = load_data("cbpp").assign(w=lambda d: d["size"] / 10.0)
    m = GLMMModel("incidence ~ period + (1|herd)", df, family="poisson", weights="w")
    np.testing.assert_allclose(m.weights, df["w"])
    assert m.weighted


# ---------------------------------------------------------------- backticked names

@pytest.fixture(scope="module")
def odd_names():
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame({
        "my y": rng.poisson(3, n).astype(float),
        "a b": pd.Categorical(np.tile(["u", "v", "w"], n // 3)),
        "x 1": rng.uniform(0.1, 1, n),
        "yield": rng.normal(size=n),
        "g-1": pd.Categorical(np.repeat([f"G{i}" for i in range(6)], n // 6)),
    })


def test_backticked_names_print_as_r(odd_names):
    """R: colnames(model.matrix(~ `a b` * `x 1` + log(`x 1`), d))."""
    fe = FixedEffects.from_frame("`a b` * `x 1` + log(`x 1`)", odd_names)
    assert fe.names == ["(Intercept)", "`a b`v", "`a b`w", "`x 1`", "log(`x 1`)",
                        "`a b`v:`x 1`", "`a b`w:`x 1`"]


def test_backticked_response_and_group(odd_names):
    m = GLMMModel("`my y` ~ `x 1` + (1|`g-1`)", odd_names, family="poisson")
    np.testing.assert_array_equal(m.y, odd_names["my y"])
    assert m.fixed.names == ["(Intercept)", "`x 1`"]
    assert m.random_effects.terms[0].n_levels == 6


def test_python_keyword_as_column(odd_names):
    m = GLMMModel("yield ~ `x 1` + (1|`g-1`)", odd_names)
    np.testing.assert_array_equal(m.y, odd_names["yield"])


@pytest.mark.parametrize("size", [1, 2, 4])
def test_unstructured_jacobian_matches_central_differences(size):
    """The closed-form d Lambda / d theta of us() against differences of ``factor``."""
    from glmm_lib.covstruct import Unstructured
    structure = Unstructured(size)
    theta = np.random.default_rng(size).normal(0.0, 0.7, structure.n_params)
    h = 1e-6
    for k, analytic in enumerate(structure.jacobian(theta)):
        step = np.zeros_like(theta)
        step[k] = h
        numeric = (structure.factor(theta + step) - structure.factor(theta - step)) / (2 * h)
        np.testing.assert_allclose(analytic, numeric, atol=1e-8)


@pytest.mark.parametrize("rhs", ["trt", "x + trt", "lead + x + spray", "1 + x", "trt + trt", "x"])
def test_main_effects_built_directly_match_formulaic(webworms, rhs):
    """Main effects of plain columns skip formulaic; the matrix, the names, and the
    design for new data (formulaic's spec, made on first use) are what formulaic gives."""
    from glmm_lib.fixed import build_matrix, main_effects, r_name

    df = webworms.assign(x=np.linspace(-1, 1, len(webworms)))
    direct = FixedEffects.from_frame(rhs, df)
    assert main_effects(rhs, df) is not None and direct._spec is None
    reference = build_matrix(rhs, df, "test")
    assert direct.names == [r_name(c) for c in reference.columns]
    np.testing.assert_array_equal(direct.X, np.asarray(reference, dtype=float))
    newdata = df.iloc[[5, 400, 1000]]
    np.testing.assert_array_equal(direct.matrix_for(newdata), direct.X[[5, 400, 1000]])
    assert sum(direct.terms.values(), []) == direct.names


@pytest.mark.parametrize("rhs", ["0 + trt", "trt - 1", "spray*lead", "log(y + 1)", "trt:lead"])
def test_other_formulas_go_through_formulaic(webworms, rhs):
    from glmm_lib.fixed import main_effects

    assert main_effects(rhs, webworms) is None
