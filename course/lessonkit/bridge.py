"""The numbers of a page's R tabs, as the page computed them in Python.

Every model fit, residual check and means table of a lesson has a tab with the
R code (glmmTMB, DHARMa, emmeans) that gives the same numbers. The lesson
glues its Python values under the R expression they correspond to:

>>> glue_bridge({"m_nb": fit_nb, "emm": means, "pairs(emm)": comparisons})

``tests/r_bridge.R`` runs the pages' R snippets and writes the same kinds of
numbers (:func:`numbers` here, its ``numbers()`` there) to
``tests/fixtures/r_bridge.json``; ``tests/test_r_bridge.py`` compares the two.
The key of a value is the name an R snippet assigns it to (``m_nb <- ...``) or
the text of the R expression that prints it (``pairs(emm)``).
"""
from __future__ import annotations

import json
import math

import pandas as pd

#: Name of the glued value that holds a page's bridge numbers.
GLUE_NAME = "r_bridge"


def _plain(values) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for v in values]


def _table_numbers(frame: pd.DataFrame) -> dict:
    return {str(c): _plain(frame[c].astype(float)) for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}


def numbers(value) -> dict:
    """The comparable numbers of a fit (coefficients, standard errors, log-likelihood,
    AIC), of a results table (its numeric columns) or of a DataFrame (its numeric columns)."""
    if hasattr(value, "params") and hasattr(value, "bse"):
        return {"coef": _plain(value.params), "se": _plain(value.bse),
                "logLik": _plain([value.llf]), "AIC": _plain([value.aic])}
    table = getattr(value, "table", value)
    if isinstance(table, pd.DataFrame):
        return _table_numbers(table)
    raise TypeError(f"no bridge numbers for a {type(value).__name__}")


def lm_anova(table: pd.DataFrame, fit) -> pd.DataFrame:
    """A fixed-effects fit's :func:`glmm_lib.anova` table (``ddf="residual"``) laid out as
    R's ``anova()`` of an ``lm`` prints it: ``Df`` per term, then a ``Residuals`` row with
    the residual sum of squares and mean square and no test."""
    residual_df = float(table["DenDF"].iloc[0])
    residual_ms = float(fit.sigma) ** 2
    residuals = pd.DataFrame({"Df": [residual_df], "Sum Sq": [residual_df * residual_ms],
                              "Mean Sq": [residual_ms]}, index=["Residuals"])
    terms = table.rename(columns={"NumDF": "Df"})[["Df", "Sum Sq", "Mean Sq", "F value", "Pr(>F)"]]
    return pd.concat([terms.astype(float), residuals])


def glue_bridge(values: dict) -> None:
    """Glue ``{R key: numbers(value)}`` into the page (not displayed)."""
    from myst_nb import glue

    glue(GLUE_NAME, json.dumps({key: numbers(value) for key, value in values.items()}),
         display=False)
