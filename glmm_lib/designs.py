"""Layouts of common experimental designs as data frames, to specify a model on
(``gl.specify``) before any data exist.  Only the design columns: the response is
what a simulation adds.

Factors are pandas categoricals in the order given, so the first treatment is the
reference level of the fixed-effect coefficients (``trtT2`` is T2 against T1).
Unit labels are unique across the whole design (plot ``B1.T2``, subject ``S7``), so a
random term needs no nesting syntax.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GLMMInputError

__all__ = ["rcbd", "split_plot", "repeated_measures", "subsampling"]


def _levels(value, prefix, what):
    """Level labels from a list of labels or from a count (``prefix1``, ``prefix2``, ...)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 1:
            raise GLMMInputError(f"{what} must be at least 1, got {value}")
        return [f"{prefix}{i + 1}" for i in range(value)]
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise GLMMInputError(f"{what} must be a count or a list of labels, got {value!r}")
    labels = [str(v) for v in value]
    if not labels or len(set(labels)) != len(labels):
        raise GLMMInputError(f"{what} must be distinct labels, got {list(value)!r}")
    return labels


def _count(value, what, least=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise GLMMInputError(f"{what} must be an integer >= {least}, got {value!r}")
    return int(value)


def _frame(columns: dict, factors: dict) -> pd.DataFrame:
    out = pd.DataFrame(columns)
    for name, levels in factors.items():
        out[name] = pd.Categorical(out[name], categories=levels)
    return out


def rcbd(treatments, blocks, replicates=1) -> pd.DataFrame:
    """Randomized complete block design: every treatment ``replicates`` times in each
    block.  Columns ``block``, ``trt``, ``plot`` (one per block and treatment)."""
    trts = _levels(treatments, "T", "treatments")
    block_labels = _levels(blocks, "B", "blocks")
    reps = _count(replicates, "replicates")
    rows = [(b, t, f"{b}.{t}") for b in block_labels for t in trts for _ in range(reps)]
    block, trt, plot = zip(*rows)
    return _frame({"block": block, "trt": trt, "plot": plot},
                  {"block": block_labels, "trt": trts, "plot": list(dict.fromkeys(plot))})


def split_plot(main, sub, blocks) -> pd.DataFrame:
    """Split plot in randomized blocks: main-plot factor ``main`` on whole plots within
    each block, sub-plot factor ``sub`` on the split plots of each whole plot.  Columns
    ``block``, ``main``, ``sub``, ``wholeplot`` (unique per block and main level)."""
    mains = _levels(main, "A", "main")
    subs = _levels(sub, "S", "sub")
    block_labels = _levels(blocks, "B", "blocks")
    rows = [(b, a, s, f"{b}.{a}") for b in block_labels for a in mains for s in subs]
    block, main_col, sub_col, whole = zip(*rows)
    return _frame({"block": block, "main": main_col, "sub": sub_col, "wholeplot": whole},
                  {"block": block_labels, "main": mains, "sub": subs,
                   "wholeplot": list(dict.fromkeys(whole))})


def repeated_measures(treatments, subjects, times) -> pd.DataFrame:
    """Subjects assigned to treatments (``subjects`` per treatment), each measured at
    every time.  Columns ``subject``, ``trt``, ``time`` (numeric, as given or 1..n) and
    ``timef`` (time as a factor)."""
    trts = _levels(treatments, "T", "treatments")
    per = _count(subjects, "subjects")
    if isinstance(times, (int, np.integer)) and not isinstance(times, bool):
        time_values = list(range(1, _count(times, "times") + 1))
    else:
        time_values = [float(t) for t in times]
        if not time_values or len(set(time_values)) != len(time_values):
            raise GLMMInputError(f"times must be distinct numbers, got {times!r}")
    rows, subject = [], 0
    for t in trts:
        for _ in range(per):
            subject += 1
            rows += [(f"S{subject}", t, tv) for tv in time_values]
    subj, trt, time = zip(*rows)
    out = _frame({"subject": subj, "trt": trt, "time": time},
                 {"subject": [f"S{i + 1}" for i in range(subject)], "trt": trts})
    out["timef"] = pd.Categorical([str(v) for v in time], categories=[str(v) for v in time_values])
    return out


def subsampling(treatments, units, subsamples) -> pd.DataFrame:
    """Completely randomized design with subsampling: ``units`` experimental units per
    treatment, ``subsamples`` measurements on each.  Columns ``unit``, ``trt``,
    ``subsample``."""
    trts = _levels(treatments, "T", "treatments")
    per = _count(units, "units")
    n_sub = _count(subsamples, "subsamples")
    rows, unit = [], 0
    for t in trts:
        for _ in range(per):
            unit += 1
            rows += [(f"U{unit}", t, k + 1) for k in range(n_sub)]
    unit_col, trt, sub = zip(*rows)
    return _frame({"unit": unit_col, "trt": trt, "subsample": sub},
                  {"unit": [f"U{i + 1}" for i in range(unit)], "trt": trts})
