"""A fit's estimates group by group, next to what each group's own data say.

Both tables compare three kinds of estimate for every level of a grouping
factor: the group's raw data alone (no pooling), the fitted model's prediction
for the group, random effect included (partial pooling), and what ignores the
group (complete pooling, or the population-level prediction). Lessons print
them and draw them (``course.lessonkit.figures``).

- :func:`pooling_table`: the mean response per group;
- :func:`group_effects`: a treatment's effect (ratio of means) per group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GLMMInputError

__all__ = ["pooling_table", "group_effects"]


def _levels(series: pd.Series) -> list:
    """Levels that occur in ``series``, in the categorical's order (else first-seen order)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if (series == c).any()]
    return list(dict.fromkeys(series))


def _response(model) -> np.ndarray:
    """The response per row, as a proportion of the trials for families with trials."""
    y = np.asarray(model.y, float)
    if model.family.has_trials:
        y = y / np.asarray(model.trials, float)
    return y


def pooling_table(fit, group: str) -> pd.DataFrame:
    """Three estimates of the mean response in each level of ``group``.

    - ``no_pooling``: the raw mean of the observations of that group alone;
    - ``partial_pooling``: the fitted model's mean for the group (its fitted
      values, which include the group's predicted random effect, averaged over
      the group's rows);
    - ``complete_pooling``: the raw mean of all observations, ignoring groups.

    ``n`` is the number of observations per group. For a binomial fit the
    response is the proportion of successes.
    """
    model = fit.model
    frame = model.frame.data
    if group not in frame.columns:
        raise GLMMInputError(f"{group!r} is not a column of the fitted data; columns: "
                             f"{list(frame.columns)}")
    y = _response(model)
    fitted = np.asarray(fit.predict(), float)
    work = pd.DataFrame({"g": frame[group].to_numpy(), "y": y, "fitted": fitted})
    grouped = work.groupby("g", observed=True, sort=False)
    out = pd.DataFrame({
        "n": grouped.size(),
        "no_pooling": grouped["y"].mean(),
        "partial_pooling": grouped["fitted"].mean(),
    })
    out = out.reindex(_levels(frame[group]))
    out.index.name = group
    out["complete_pooling"] = float(np.mean(y))
    return out


def group_effects(fit, treatment: str, group: str, level, reference=None) -> pd.DataFrame:
    """The effect of treatment ``level`` against ``reference`` (default: the first
    level) in every level of ``group``, as a ratio of mean responses.

    Columns: ``raw`` (ratio of the group's raw means), ``model`` (ratio of the
    fit's predictions for that group, random effects included) and ``average``
    (ratio of the population-level predictions, random effects at zero: the
    same for every group). A ratio suits log-link models, where the model's
    ratio is exp of a difference on the link scale. ``attrs["contrast"]`` names
    the ratio.
    """
    frame = fit.model.frame.data
    for col in (treatment, group):
        if col not in frame.columns:
            raise GLMMInputError(f"{col!r} is not a column of the fitted data")
    levels = _levels(frame[treatment])
    reference = levels[0] if reference is None else reference
    if level not in levels or reference not in levels:
        raise GLMMInputError(f"{treatment} levels are {levels}; got {level!r} and {reference!r}")
    groups = _levels(frame[group])
    grid = pd.DataFrame({group: np.repeat(groups, 2), treatment: np.tile([reference, level], len(groups))})
    grid[group] = pd.Categorical(grid[group], categories=frame[group].cat.categories)
    grid[treatment] = pd.Categorical(grid[treatment], categories=frame[treatment].cat.categories)
    model = np.asarray(fit.predict(newdata=grid), float).reshape(-1, 2)
    average = np.asarray(fit.predict(newdata=grid, re_form="~0"), float).reshape(-1, 2)
    raw = (pd.DataFrame({"g": frame[group].to_numpy(), "t": frame[treatment].to_numpy(),
                         "y": _response(fit.model)})
           .groupby(["g", "t"], observed=True)["y"].mean())
    raw_ratio = [raw.get((g, level), np.nan) / raw.get((g, reference), np.nan) for g in groups]
    out = pd.DataFrame({"raw": raw_ratio, "model": model[:, 1] / model[:, 0],
                        "average": average[:, 1] / average[:, 0]},
                       index=pd.Index(groups, name=group))
    out.attrs["contrast"] = f"{level} / {reference}"
    return out
