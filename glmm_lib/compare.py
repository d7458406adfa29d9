"""Likelihood-ratio comparison of fitted models, laid out as R's ``anova()`` prints
it for glmmTMB fits.

>>> compare(m0, m1, names=["poisson", "nbinom1"])
         Df     AIC     BIC   logLik  deviance   Chisq  Chi Df  Pr(>Chisq)
poisson   5  3048.0  3073.8  -1519.0    3038.0     NaN     NaN         NaN
nbinom1   6  3012.4  3043.4  -1500.2    3000.4  37.615     1.0    8.62e-10

As in R (lme4's and glmmTMB's ``anova``): the models are sorted by their number
of parameters (``Df``, stable for ties), and each row is tested against the row
above it: ``Chisq = 2 * max(0, logLik - logLik_above)`` on ``Chi Df`` = the
difference in ``Df`` degrees of freedom.  ``deviance`` is ``-2 logLik``.

Where this goes beyond R:

* models fitted to different data are refused (:class:`GLMMInputError`): a
  different number of observations, response values, binomial trials or prior
  weights.  R only checks that the same ``data`` object was named.
* a test is left out (``NaN``, with a note in ``attrs["notes"]``, printed under
  the table) where it would not be a likelihood-ratio test: between families
  that do not nest (e.g. binomial and Poisson, nbinom1 and nbinom2), between
  different links, and between models with the same number of parameters.
  R prints a chi-square for these too; AIC and BIC are still comparable there.
* where one family is a limiting case of the other (Poisson inside the
  negative binomials, as the dispersion goes to its boundary) the test is kept,
  with a note that the null value is on the boundary of the parameter space, so
  the chi-square p-value is conservative (a 50:50 mixture of chi-square(0) and
  chi-square(1) is the usual correction: halve it).
* a row whose fixed-effects columns or random-effect terms do not include those
  of the row above is flagged in the notes as possibly not nested (the test is
  still shown, as R shows it).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .tables import InferenceTable
from .errors import GLMMInputError

__all__ = ["compare"]

_COLUMNS = ["Df", "AIC", "BIC", "logLik", "deviance", "Chisq", "Chi Df", "Pr(>Chisq)"]


def _describe(fit):
    fam = fit.family
    return f"{fit.formula}, {fam.name}({fam.link.name})"


def _same_values(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


def _check_same_data(fits, names):
    ref, ref_name = fits[0], names[0]
    for fit, name in zip(fits[1:], names[1:]):
        if fit.nobs != ref.nobs:
            raise GLMMInputError(
                f"the models were fitted to different data: {ref_name} has {ref.nobs} "
                f"observations, {name} has {fit.nobs} (rows dropped for missing values in "
                "different columns?); a likelihood-ratio test needs the same rows in every model")
        checks = (("response", "y"), ("binomial trials", "trials"), ("prior weights", "weights"))
        for what, attr in checks:
            if not _same_values(getattr(ref.model, attr), getattr(fit.model, attr)):
                raise GLMMInputError(
                    f"the models were fitted to different data: the {what} of {ref_name} and "
                    f"{name} differ ({ref.model.frame.response_name!r} vs "
                    f"{fit.model.frame.response_name!r}); likelihoods of different data "
                    "cannot be compared")


def _random_terms(fit):
    return {(t.group_name, tuple(t.term_names)) for t in fit.model.random_effects.terms}


def _relation(small, large):
    """'nested', 'boundary', 'maybe' (same family, terms not obviously nested) or 'no'."""
    fs, fl = small.family, large.family
    families = fs.relation_to(fl)
    if families is None:
        return "no", f"families {fs.name} and {fl.name} do not nest"
    if fs.link.name != fl.link.name:
        return "no", (f"different links ({fs.name}({fs.link.name}) vs "
                      f"{fl.name}({fl.link.name}))")
    if families == "boundary":
        return "boundary", None
    fixed_ok = set(small.params.index) <= set(large.params.index)
    re_small, re_large = _random_terms(small), _random_terms(large)
    groups_large = {g for g, _ in re_large}
    re_ok = all(g in groups_large for g, _ in re_small)
    if fixed_ok and re_ok:
        return "nested", None
    return "maybe", None


def compare(*models, names=None, method="chisq", **bootstrap_options):
    """Compare fitted models by AIC, BIC and likelihood-ratio tests, as R's ``anova()``.

    ``method="bootstrap"`` adds a parametric-bootstrap p-value for two nested models
    (``glmm_lib.bootstrap_lrt``; options ``nsim``, ``seed``, ``workers``, ...).

    Parameters
    ----------
    *models : GLMMResults
        Two or more fits to the same data.
    names : list of str, optional
        Row labels (R uses the variable names); default ``model1``, ``model2``, ... in
        the order given.

    Returns
    -------
    A DataFrame (index: the model names, sorted by ``Df``) with columns ``Df``,
    ``AIC``, ``BIC``, ``logLik``, ``deviance``, ``Chisq``, ``Chi Df``,
    ``Pr(>Chisq)``; ``attrs["models"]`` describes each model and
    ``attrs["notes"]`` says where a test was left out or needs care.
    """
    if method == "bootstrap":
        from .bootstrap_lrt import bootstrap_compare
        return bootstrap_compare(*models, names=names, **bootstrap_options)
    if method != "chisq" or bootstrap_options:
        raise GLMMInputError("method must be 'chisq' or 'bootstrap' (which alone takes nsim, "
                             f"seed, workers, ...); got method={method!r}")
    if len(models) == 1 and isinstance(models[0], (list, tuple)):
        models = tuple(models[0])
    if len(models) < 2:
        raise GLMMInputError("compare() needs at least two fitted models")
    for i, m in enumerate(models):
        if not all(hasattr(m, a) for a in ("llf", "n_params", "nobs", "model", "family")):
            raise GLMMInputError(f"argument {i + 1} is not a fitted model from glmm_lib.glmm() "
                                 f"(got {type(m).__name__})")
    if names is None:
        names = [f"model{i + 1}" for i in range(len(models))]
    names = [str(n) for n in names]
    if len(names) != len(models):
        raise GLMMInputError(f"{len(names)} names for {len(models)} models")
    if len(set(names)) != len(names):
        raise GLMMInputError("model names must be distinct")
    _check_same_data(models, names)

    df = np.array([m.n_params for m in models], dtype=float)
    order = np.argsort(df, kind="stable")
    fits = [models[i] for i in order]
    labels = [names[i] for i in order]
    llf = np.array([m.llf for m in fits])
    dfs = df[order]
    chisq = np.full(len(fits), np.nan)
    chi_df = np.full(len(fits), np.nan)
    pval = np.full(len(fits), np.nan)
    notes = []
    for r in range(1, len(fits)):
        small, large = fits[r - 1], fits[r]
        pair = f"{labels[r - 1]} vs {labels[r]}"
        d = dfs[r] - dfs[r - 1]
        if d == 0:
            notes.append(f"{pair}: the same number of parameters, so the models cannot be "
                         "nested; no likelihood-ratio test (compare AIC/BIC).")
            continue
        relation, why = _relation(small, large)
        if relation == "no":
            notes.append(f"{pair}: {why}, so the models are not nested and a likelihood-ratio "
                         "test is not meaningful; compare AIC/BIC only.")
            continue
        chisq[r] = 2 * max(0.0, llf[r] - llf[r - 1])
        chi_df[r] = d
        pval[r] = stats.chi2.sf(chisq[r], d)
        if relation == "boundary":
            notes.append(f"{pair}: {small.family.name} is the boundary case of "
                         f"{large.family.name} (dispersion at its limit); the chi-square p-value "
                         "is conservative (halving it is the usual correction).")
        elif relation == "maybe":
            notes.append(f"{pair}: the terms of {labels[r - 1]} are not all in {labels[r]}; "
                         "check that the models are nested before reading the test.")
    aic = np.array([m.aic for m in fits])
    bic = np.array([m.bic for m in fits])
    out = pd.DataFrame({"Df": dfs.astype(int), "AIC": aic, "BIC": bic, "logLik": llf,
                        "deviance": -2 * llf, "Chisq": chisq, "Chi Df": chi_df,
                        "Pr(>Chisq)": pval}, index=pd.Index(labels, name=None))[_COLUMNS]
    models_desc = {lab: _describe(f) for lab, f in zip(labels, fits)}
    header = ["Models:"] + [f"{lab}: {desc}" for lab, desc in models_desc.items()]
    table = InferenceTable(out)
    table.attrs.update({"models": models_desc, "header": header, "notes": notes,
                        "nobs": int(fits[0].nobs)})
    return table
