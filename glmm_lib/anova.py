"""ANOVA tables of F tests for the fixed effects of a linear mixed model, as lmerTest's anova().

>>> gl.anova(fit, type=3, ddf="Kenward-Roger")
rows by term: Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F); the table's ``attrs``
carry the heading (type and df method) and the hypothesis matrices.
"""
from __future__ import annotations

import pandas as pd

from . import hypotheses
from .ddf import method_object, f_table_row, method_name
from .errors import GLMMInputError

_TYPES = {1: "I", 3: "III"}


def anova(fit, type=3, ddf="Satterthwaite") -> pd.DataFrame:
    """Type I (sequential) or type III (SAS, coding-independent) F tests, one row per term,
    with the denominator df of ``ddf`` ("Satterthwaite", "Kenward-Roger", "residual",
    "asymptotic")."""
    kind = {"1": 1, "I": 1, "3": 3, "III": 3}.get(str(type).strip().upper())
    if kind is None:
        raise GLMMInputError(f"type must be 1 (sequential) or 3 (SAS type III), got {type!r}")
    method = method_name(ddf)
    parts = method_object(fit, method)[0].parts
    built = hypotheses.type1(parts) if kind == 1 else hypotheses.type3(parts)
    rows = {label: f_table_row(fit, L, method) for label, L in built.items() if L.shape[0]}
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value",
                                            "Pr(>F)"])
    described = {"Satterthwaite": "with Satterthwaite's method",
                 "Kenward-Roger": "with Kenward-Roger's method",
                 "residual": "with residual df (n - rank X)",
                 "asymptotic": "with asymptotic (chi-square) tests"}[method]
    table.attrs["heading"] = f"Type {_TYPES[kind]} Analysis of Variance Table {described}"
    table.attrs["ddf"] = method
    table.attrs["hypotheses"] = built
    return table
