"""A formula never runs code (issue 15, item 2), and R's dotted names work (issue 17, item 2).

Each known escape pattern is given to every slot that takes an expression; the
payload would create a file, so the test fails if any of it ran.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, run_course

import glmm_lib as gl
from glmm_lib.expressions import check_expression, evaluate_expression, for_formulaic

WEBWORMS = REPO / "data" / "beall_webworms.csv"


def payloads(marker):
    """Ways formula terms have been used to run code, each creating ``marker``."""
    shell = f"'touch {marker}'"
    return [
        f"I(row.__class__.__init__.__globals__['__builtins__']['__import__']('os')"
        f".system({shell}))",
        f"I(__import__('os').system({shell}))",
        f"I(eval(\"__import__('os').system({shell})\"))",
        f"I(exec(\"import os; os.system({shell})\"))",
        f"I(np.__loader__)",
        f"I(np.os.system({shell}))",
        f"I(open('{marker}', 'w'))",
        f"log(getattr(np, 'os').system({shell}))",
        f"I((lambda: __import__('os').system({shell}))())",
        f"I([__import__('os').system({shell}) for _ in [1]])",
        f"I(x.__class__)",
        f"I(globals()['__builtins__'])",
        f"I(vars())",
        f"I(breakpoint())",
        f"C(trt, **{{'levels': __import__('os').system({shell})}})",
        f"I(\"\".join.__self__)",
        f"I(f\"{{__import__('os').system({shell})}}\")",
        f"I(compile('1', 'f', 'eval'))",
        f"log(y)[0]",
        f"I(y if __import__('os').system({shell}) else y)",
        f"`log`(y)",
    ]


@pytest.fixture
def webworms():
    return pd.read_csv(WEBWORMS)


def assert_refused(marker, call):
    with pytest.raises(gl.GLMMInputError) as info:
        call()
    assert not marker.exists(), "a formula ran code"
    message = str(info.value)
    assert "not allowed" in message or "cannot parse" in message, message
    assert "Traceback" not in message
    return message


@pytest.mark.parametrize("k", range(len(payloads("m"))))
def test_escape_patterns_are_refused_in_every_slot(tmp_path, webworms, k):
    marker = tmp_path / "ran"
    term = payloads(marker)[k]
    slots = {
        "fixed": lambda: gl.GLMMModel(f"y ~ trt + {term} + (1|block)", webworms,
                                      family="poisson"),
        "response": lambda: gl.GLMMModel(f"{term} ~ trt + (1|block)", webworms),
        "random": lambda: gl.GLMMModel(f"y ~ trt + ({term}|block)", webworms,
                                       family="poisson"),
        "offset": lambda: gl.GLMMModel(f"y ~ trt + offset({term}) + (1|block)", webworms,
                                       family="poisson"),
        "ziformula": lambda: gl.GLMMModel("y ~ trt + (1|block)", webworms, family="poisson",
                                          ziformula=f"~ {term}"),
        "dispformula": lambda: gl.GLMMModel("y ~ trt + (1|block)", webworms, family="nbinom2",
                                            dispformula=f"~ {term}"),
        "weights": lambda: gl.GLMMModel("y ~ trt + (1|block)", webworms, family="poisson",
                                        weights=term),
        "offset argument": lambda: gl.GLMMModel("y ~ trt + (1|block)", webworms,
                                                family="poisson", offset=term),
        "fit": lambda: gl.glmm(f"y ~ {term} + (1|block)", webworms, family="poisson"),
    }
    for slot, call in slots.items():
        assert_refused(marker, call)


def test_the_message_names_the_term(tmp_path):
    message = assert_refused(tmp_path / "m", lambda: check_expression("I(np.os.system('x'))"))
    assert "np.os.system" in message
    message = assert_refused(tmp_path / "m", lambda: check_expression("open('f')"))
    assert "open() is not a function formulas may call" in message
    message = assert_refused(tmp_path / "m", lambda: check_expression("x[0]"))
    assert "subscript" in message


def test_grouping_factors_must_be_names(webworms, tmp_path):
    with pytest.raises(gl.GLMMInputError, match="must name columns"):
        gl.GLMMModel("y ~ trt + (1|__import__('os'))", webworms, family="poisson")


@pytest.mark.parametrize("allowed", [
    "log(y + 1)", "I(x^2)", "poly(x, 2)", "scale(x)", "center(x)", "sqrt(x)", "log1p(x)",
    "pmin(x, 2)", "pmax(x, 1)", "exp(-x)", "abs(x - 1)", "C(trt, contr.sum)", "factor(trt)",
    "C(trt, levels=['b', 'a'])", "I(x > 1)", "a:b", "a %in% b", "(a + b)^2", "`odd name`",
    "poly(x, 2, raw=TRUE)", "cbind(s, n - s)", "log10(x) * trt",
])
def test_ordinary_terms_pass(allowed):
    check_expression(allowed)


def test_evaluation_uses_only_the_data():
    data = pd.DataFrame({"a.b": [1.0, 4.0], "np": [9.0, 16.0]})
    assert evaluate_expression("sqrt(a.b) + pmax(np, 10)", data).tolist() == [11.0, 18.0]
    with pytest.raises(gl.GLMMInputError, match="column 'x' not found"):
        evaluate_expression("log(x)", data)


# --- R's syntactic names: dots, underscores and digits, unquoted everywhere -------------------
def test_dotted_names_are_quoted_for_formulaic():
    assert for_formulaic("log(total.fruits)") == "log(`total.fruits`)"
    assert for_formulaic("C(trt, contr.sum)") == "C(trt, contr.sum)"
    assert for_formulaic("as.factor(plant_ht.2)") == "C(`plant_ht.2`)"


@pytest.fixture
def dotted(webworms):
    """webworms with R-style names: every slot's column has a dot, underscore or digit."""
    df = webworms.rename(columns={"y": "larvae.count", "trt": "trt_code.1",
                                  "block": "blk.id", "row": "row.pos"})
    df["n.total"] = df["larvae.count"] + 3
    df["expo.sure"] = 1.0 + (df["row.pos"] % 3)
    return df


def test_dotted_names_fit_as_the_plain_ones(webworms, dotted):
    plain = webworms.assign(total=webworms["y"] + 3, expo=1.0 + (webworms["row"] % 3))
    pairs = [
        ("larvae.count ~ trt_code.1 + log(row.pos) + offset(log(expo.sure)) + (1|blk.id)",
         "y ~ trt + log(row) + offset(log(expo)) + (1|block)", {}),
        ("cbind(larvae.count, n.total - larvae.count) ~ trt_code.1 + (1 + row.pos|blk.id)",
         "cbind(y, total - y) ~ trt + (1 + row|block)", {"family": "binomial"}),
    ]
    for dotted_formula, plain_formula, kw in pairs:
        kw = {"family": "poisson", **kw}
        a = gl.glmm(dotted_formula, dotted, **kw)
        b = gl.glmm(plain_formula, plain, **kw)
        assert abs(a.llf - b.llf) < 1e-8 * abs(b.llf)
        assert np.allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-6, atol=1e-8)
        assert "trt_code.1T2" in a.params.index
    disp = gl.glmm("larvae.count ~ trt_code.1 + (1|blk.id)", dotted, family="nbinom2",
                   dispformula="~ expo.sure")
    disp_plain = gl.glmm("y ~ trt + (1|block)", plain, family="nbinom2", dispformula="~ expo")
    assert abs(disp.llf - disp_plain.llf) < 1e-8 * abs(disp_plain.llf)
    zi = gl.GLMMModel("larvae.count ~ trt_code.1 + (1|blk.id)", dotted, family="poisson",
                      ziformula="~ log(row.pos)")
    zi_plain = gl.GLMMModel("y ~ trt + (1|block)", plain, family="poisson", ziformula="~ log(row)")
    assert np.array_equal(zi.aux_designs["zi"], zi_plain.aux_designs["zi"])


def test_dotted_names_in_emmeans(dotted):
    fit = gl.glmm("larvae.count ~ trt_code.1 + (1|blk.id)", dotted, family="poisson")
    means = gl.emmeans(fit, "trt_code.1")
    assert len(means) == 4


# --- the report command: the same checks, before anything is written ---------------------
def test_report_refuses_a_formula_that_runs_code(tmp_path):
    marker = tmp_path / "ran"
    for option, value in (("--formula", f"y ~ trt + {payloads(marker)[0]} + (1|block)"),
                          ("--means", f"__import__('os').system('touch {marker}')"),
                          ("--factor", f"__import__('os').system('touch {marker}')")):
        args = ["--formula", "y ~ trt + (1|block)", "--family", "nbinom1", "--no-pdf"]
        if option == "--formula":
            args[1] = value
        else:
            args += [option, value]
        out = tmp_path / "out"
        proc = run_course("report", str(WEBWORMS), *args, "--out", str(out))
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
        assert not marker.exists() and not out.exists()
