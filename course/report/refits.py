"""The report's model comparison: the fit against refits with another family or
another random part, by AIC.

- :func:`rebuild_formula`: the formula from its parts, a random term dropped or added;
- :func:`observation_level_terms`: random terms with one level per row;
- :func:`family_comparison`: Poisson / NB1 / NB2 for counts, with and without
  an observation-level random effect for proportions.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .prose import winner_note

#: The families a count model is compared with (refitted with the log link).
COUNT_FAMILIES = ("poisson", "nbinom1", "nbinom2")


def _plain_counts(family) -> bool:
    """Counts without trials or zero inflation: the families of :data:`COUNT_FAMILIES`."""
    return (family.integer_response and not family.has_trials
            and family.zero_inflation_parameter is None)


# --- the model comparison --------------------------------------------------------------
def rebuild_formula(parsed, drop_random: int | None = None, add_random: str | None = None) -> str:
    """The formula from its parts, without random term number ``drop_random`` / with one more."""
    rhs = [parsed.fixed.strip() or "1"]
    rhs += [f"offset({o})" for o in parsed.offsets]
    for k, term in enumerate(parsed.random):
        if k != drop_random:
            rhs.append(str(term))
    if add_random:
        rhs.append(add_random)
    return f"{parsed.response} ~ {' + '.join(rhs)}"


def observation_level_terms(model) -> list[int]:
    """Random terms whose grouping factor has one level per row (an observation-level effect)."""
    out = []
    for k, term in enumerate(model.random_effects.terms):
        if term.n_levels == model.nobs and list(term.term_names) == ["(Intercept)"]:
            out.append(k)
    return out


@dataclass
class Comparison:
    kind: str                   # "families", "olre" or "none"
    table: pd.DataFrame | None  # one row per model: family, parameters, logLik, AIC, ...
    winner: str | None
    note: str
    fits: dict = field(default_factory=dict)
    anova: pd.DataFrame | None = None   # glmm_lib.compare(): AIC, BIC and likelihood-ratio tests

    def markdown(self) -> str:
        return self.note


def _anova(gl, fits: dict):
    """``gl.compare`` of the fits that converged (None when fewer than two)."""
    usable = {name: f for name, f in fits.items() if f is not None}
    if len(usable) < 2:
        return None
    try:
        return gl.compare(*usable.values(), names=list(usable))
    except Exception:  # noqa: BLE001 - the AIC table is still shown
        return None


def _fit_quietly(gl, formula, data, family, link, weights=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gl.glmm(formula, data=data, family=family, link=link, weights=weights)
    return fit, [str(w.message) for w in caught]


def _row(label, family, formula, fit, error=None):
    if fit is None:
        return {"model": label, "family": family, "formula": formula, "parameters": np.nan,
                "logLik": np.nan, "AIC": np.nan, "BIC": np.nan, "converged": False,
                "note": error or ""}
    return {"model": label, "family": family, "formula": formula, "parameters": fit.n_params,
            "logLik": fit.llf, "AIC": fit.aic, "BIC": fit.bic, "converged": fit.converged,
            "note": "" if fit.converged else "; ".join(fit.convergence_problems)}


def family_comparison(fit, data: pd.DataFrame, link=None, weights=None,
                      dispformula=None) -> Comparison:
    """Compare the fit with its alternatives by AIC.

    Counts (Poisson, NB1, NB2): the same formula with each of the three
    families. Binomial responses with more than one trial: with and without an
    observation-level random effect. Other families, and a model of the
    dispersion (which Poisson cannot take): no comparison. ``weights`` go to
    every refit.
    """
    import glmm_lib as gl

    model = fit.model
    if dispformula and str(dispformula).strip().lstrip("~").strip() != "1":
        return Comparison("none", None, None,
                          "No alternative family is compared: the dispersion is modelled "
                          f"(`{dispformula}`), which the other families cannot all take.")
    family = model.family.name
    parsed = model.formula
    link_name = model.family.link.name
    if _plain_counts(model.family):
        rows, fits = [], {}
        for fam in COUNT_FAMILIES:
            if gl.families.get_family(fam).relation_to(model.family) == "same":
                f, err = fit, None
            else:
                try:
                    f, _ = _fit_quietly(gl, parsed.text, data, fam, "log", weights)
                    err = None
                except Exception as exc:  # noqa: BLE001 - shown in the table
                    f, err = None, f"{type(exc).__name__}: {exc}"
            fits[fam] = f
            label = fam + (" (this report)" if f is fit else "")
            rows.append(_row(label, fam, parsed.text, f, err))
        table = pd.DataFrame(rows).set_index("model")
        ok = table[table["converged"] & table["AIC"].notna()]
        winner = ok["family"].loc[ok["AIC"].idxmin()] if len(ok) else None
        table["dAIC"] = table["AIC"] - table["AIC"].min()
        own = next(fam for fam, f in fits.items() if f is fit)
        note = winner_note(table, winner, own, "family")
        return Comparison("families", table, winner, note, fits, _anova(gl, fits))

    trials = np.asarray(model.trials, float)
    if model.family.has_trials:
        if np.all(trials == 1):
            return Comparison("none", None, None,
                              "The response is 0/1 (one trial per row): an observation-level "
                              "random effect is not identifiable for it, so there is no "
                              "with/without comparison.")
        olre = observation_level_terms(model)
        try:
            if olre:
                other_formula = rebuild_formula(parsed, drop_random=olre[0])
                other_data = data
                labels = ("with observation-level effect (this report)",
                          "without observation-level effect")
            else:
                obs = "obs"
                while obs in data.columns:
                    obs += "_"
                other_data = data.copy()
                other_data[obs] = pd.Categorical(np.arange(len(data)))
                other_formula = rebuild_formula(parsed, add_random=f"(1 | {obs})")
                labels = ("without observation-level effect (this report)",
                          f"with observation-level effect (1 | {obs})")
            other, _ = _fit_quietly(gl, other_formula, other_data, family, link_name, weights)
            err = None
        except Exception as exc:  # noqa: BLE001
            other, err = None, f"{type(exc).__name__}: {exc}"
        rows = [_row(labels[0], family, parsed.text, fit),
                _row(labels[1], family, other_formula, other, err)]
        table = pd.DataFrame(rows).set_index("model")
        ok = table[table["converged"] & table["AIC"].notna()]
        winner = ok["AIC"].idxmin() if len(ok) else None
        table["dAIC"] = table["AIC"] - table["AIC"].min()
        note = winner_note(table, winner, labels[0], "model")
        fits = {labels[0]: fit, labels[1]: other}
        short = {"with observation-level effect": fits[next(k for k in labels if k.startswith("with "))],
                 "without": fits[next(k for k in labels if k.startswith("without"))]}
        return Comparison("olre", table, winner, note, fits, _anova(gl, short))
    return Comparison("none", None, None,
                      f"No alternative family is compared for the {family} family "
                      "(the comparison is made for counts and for binomial proportions).")
