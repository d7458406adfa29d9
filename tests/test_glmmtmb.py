"""glmm_lib against glmmTMB (issue 4's proof).

Oracles, both committed under tests/fixtures (R is never needed to run these tests):
  - ``fixtures/reference/glmmtmb_fits.json``: the workshop fits (copy of the course's shared
    reference, see the README beside it), on the course data of ``data/``;
  - ``fixtures/glmmtmb_fixtures.json`` with ``fixtures/data/*.csv``: every model of
    ``fixtures/make_fixtures.R`` (glmmTMB 1.1.5), factor levels from ``data/levels.json``.

Tolerances (issue 4): estimates within 1% of their glmmTMB standard error, standard errors
within 0.5% relative, logLik within 1e-3 (AIC, BIC, deviance within 2e-3 since they are
-2 logLik + constants); nobs and df.resid exact; sigma() within 0.5%; random-effect SDs
within 1% relative (or 1e-3 absolute when tiny), correlations within 0.01; conditional
modes within 1% of their conditional SD and conditional SDs within 1%.

Every fixture model is fitted once in its own test (so pytest-xdist spreads them), and all
its comparisons are reported together.  Boundary estimates
(glmmTMB SD < 0.01, see fixtures/README.md) are checked as "near zero", and parameters
glmmTMB sends off to infinity (SE > 100, a zero-inflation probability of 0) only by sign.  Models that glmmTMB itself flags (status
"warning") are not oracles for their numbers: there the test asks only that glmm_lib's
maximum is at least as high as glmmTMB's.
"""
from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmm_lib as gl

FIX = Path(__file__).resolve().parent / "fixtures"
DATA = FIX / "data"
FIXTURE_FILE = FIX / "glmmtmb_fixtures.json"
REFERENCE_FILE = FIX / "reference" / "glmmtmb_fits.json"

EST_SE = 0.01       # |estimate - R| <= 1% of R's SE
SE_REL = 0.005      # SEs within 0.5% relative
LOGLIK_ABS = 1e-3
IC_ABS = 2e-3       # AIC, BIC, deviance
SIGMA_REL = 0.005
SD_REL, SD_ABS = 0.01, 1e-3
CORR_ABS = 0.01
RANEF_MODE = 0.01   # of the conditional SD
RANEF_SD_REL = 0.01


@functools.lru_cache(maxsize=None)
def _json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def fixture_models() -> dict:
    if not FIXTURE_FILE.exists():
        return {}
    return _json(FIXTURE_FILE)["models"]


@functools.lru_cache(maxsize=None)
def load_data(name: str) -> pd.DataFrame:
    """A data set of tests/fixtures/data with R's factor levels (data/README.md): factor
    columns are read as strings and become pandas categoricals in levels.json's order."""
    levels = _json(DATA / "levels.json").get(name, {})
    df = pd.read_csv(DATA / f"{name}.csv", dtype={k: str for k in levels})
    for col, levs in levels.items():
        df[col] = pd.Categorical(df[col], categories=levs)
    return df


def _given(value) -> bool:
    return value not in (None, {}, [], "")


def fit_arguments(entry: dict) -> dict:
    """glmm() keyword arguments for a fixture entry (R argument -> Python keyword)."""
    kwargs = {"family": entry["family"], "link": entry["link"]}
    for key in ("ziformula", "dispformula", "offset", "weights"):
        if _given(entry.get(key)):
            kwargs[key] = entry[key]
    if entry.get("REML"):
        kwargs["REML"] = True
    # `start` (gamma_inverse_glmstart: beta from a GLM) is glmm_lib's default start anyway;
    # `control` (rel.tol) tunes nlminb only.
    return kwargs


@functools.lru_cache(maxsize=None)
def fit_fixture(key: str):
    entry = fixture_models()[key]
    data = load_data(entry["data"].removesuffix(".csv"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gl.glmm(entry["formula"], data, **fit_arguments(entry))
    return fit, [str(w.message) for w in caught]


# ---------------------------------------------------------------- comparison helpers

class Checks:
    """Collects every mismatch of one model so a failure lists all of them."""

    def __init__(self, key):
        self.key = key
        self.problems = []

    def fail(self, message):
        self.problems.append(message)

    def close(self, what, ours, theirs, abs_tol=0.0, rel_tol=0.0):
        ours, theirs = float(ours), float(theirs)
        if not np.isfinite(ours) or abs(ours - theirs) > abs_tol + rel_tol * abs(theirs):
            self.fail(f"{what}: glmm_lib {ours:.10g} vs glmmTMB {theirs:.10g} "
                      f"(diff {ours - theirs:.3g})")

    def coefficients(self, what, est, se, ref_est, ref_se, compare_se=True):
        ref_est = {k: v for k, v in ref_est.items()}
        ref_se = {_strip_prefix(k): v for k, v in ref_se.items()}
        if list(est.index) != list(ref_est):
            self.fail(f"{what} names: glmm_lib {list(est.index)} vs glmmTMB {list(ref_est)}")
            return
        for name, value in ref_est.items():
            s = ref_se[name]
            if s > UNIDENTIFIED_SE:
                # glmmTMB's estimate ran off towards infinity (a zero-inflation probability
                # of 0): neither it nor its SE is a target; the same direction is enough
                if not np.sign(est[name]) == np.sign(value):
                    self.fail(f"{what} {name}: {est[name]:.4g} vs {value:.4g} (unidentified)")
                continue
            if abs(est[name] - value) > EST_SE * s or not np.isfinite(est[name]):
                self.fail(f"{what} {name}: {est[name]:.8g} vs {value:.8g} = "
                          f"{abs(est[name] - value) / s:.3g} SE (tolerance {EST_SE} SE)")
            if compare_se:
                self.close(f"{what} SE {name}", se[name], s, rel_tol=SE_REL)

    def done(self):
        if self.problems:
            pytest.fail(f"{self.key}: {len(self.problems)} mismatch(es) with glmmTMB:\n  "
                        + "\n  ".join(self.problems), pytrace=False)


def _strip_prefix(name):
    for prefix in ("zi~", "d~"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _our_terms(fit):
    """[(group, term names, sds, corr or None, rho or None)] in glmm_lib's term order."""
    vc = fit.varcorr
    out, start = [], 0
    for term in fit.model.random_effects.terms:
        rows = vc.iloc[start: start + term.size]
        start += term.size
        corr = None
        if term.size > 1:
            corr = np.eye(term.size)
            for i in range(term.size):
                for j in range(i):
                    col = f"corr_{j + 1}"
                    if col in rows.columns and np.isfinite(rows.iloc[i][col]):
                        corr[i, j] = corr[j, i] = rows.iloc[i][col]
        rho = rows.iloc[0]["rho"] if "rho" in rows.columns else None
        out.append((term.group_name, list(rows["term"]), rows["sd"].to_numpy(float), corr,
                    rho if rho is not None and np.isfinite(rho) else None))
    return out


def compare_varcorr(check, fit, entry):
    ref = (entry.get("varcorr") or {}).get("cond") or {}
    ours = _our_terms(fit)
    used = set()
    if len(ours) != len(ref):
        check.fail(f"random terms: glmm_lib {[(g, t) for g, t, *_ in ours]} vs glmmTMB "
                   f"{[(r['group'], r['terms']) for r in ref.values()]}")
        return
    for key, r in ref.items():
        match = [i for i, (g, t, *_) in enumerate(ours)
                 if i not in used and same_group(g, r["group"]) and t == list(r["terms"])]
        if not match:
            check.fail(f"random term {key} ({r['group']}: {r['terms']}) not found in glmm_lib's "
                       f"{[(g, t) for g, t, *_ in ours]}")
            continue
        i = match[0]
        used.add(i)
        _, terms, sds, corr, rho = ours[i]
        for name, sd, ref_sd in zip(terms, sds, r["sd"]):
            if ref_sd < BOUNDARY_SD:      # a boundary estimate: only "near zero" is checked
                if not sd < 5 * BOUNDARY_SD:
                    check.fail(f"SD of {name} | {r['group']}: glmmTMB {ref_sd:.3g} is at the "
                               f"boundary, glmm_lib {sd:.3g} is not")
                continue
            check.close(f"SD of {name} | {r['group']}", sd, ref_sd, abs_tol=SD_ABS if ref_sd < 0.1
                        else 0.0, rel_tol=SD_REL)
        if r.get("rho") is not None and rho is not None:
            check.close(f"{r['covstruct']} rho | {r['group']}", rho, r["rho"], abs_tol=CORR_ABS)
        elif r.get("corr") is not None and corr is not None and r["covstruct"] in ("us",):
            ref_corr = np.asarray(r["corr"], float)
            for a in range(len(terms)):
                for b in range(a):
                    # a correlation of a boundary (zero) SD is not identified
                    if min(r["sd"][a], r["sd"][b]) > 1e-3:
                        check.close(f"corr({terms[a]}, {terms[b]}) | {r['group']}", corr[a, b],
                                    ref_corr[a, b], abs_tol=CORR_ABS)


def same_group(ours, theirs):
    """The same grouping factor whatever the order of its parts (a:b is b:a)."""
    return sorted(ours.split(":")) == sorted(theirs.split(":"))


def compare_ranef(check, fit, entry):
    ref = (entry.get("ranef") or {}).get("cond")
    if not ref:
        return
    ours = fit.ranef()
    for group, r in ref.items():
        if group not in ours:
            check.fail(f"ranef: no grouping factor {group!r} in glmm_lib's {list(ours)}")
            continue
        frame = ours[group]
        if [str(x) for x in frame.index] != list(r["levels"]):
            check.fail(f"ranef {group} levels: {list(frame.index)[:5]}... vs {r['levels'][:5]}...")
            continue
        for term in r["terms"]:
            mode, sd = np.asarray(r["mode"][term]), np.asarray(r["condsd"][term])
            diff = np.abs(frame[term].to_numpy() - mode) / sd
            if not diff.max() <= RANEF_MODE:
                check.fail(f"ranef {group} {term}: modes differ by up to {diff.max():.3g} "
                           f"conditional SDs (tolerance {RANEF_MODE})")
            rel = np.abs(frame[f"sd({term})"].to_numpy() / sd - 1)
            if not rel.max() <= RANEF_SD_REL:
                check.fail(f"ranef {group} {term}: conditional SDs differ by up to "
                           f"{rel.max():.3g} relative (tolerance {RANEF_SD_REL})")


# ---------------------------------------------------------------- the fixture models

MODELS = fixture_models()
OK = [k for k, m in MODELS.items() if m.get("status") == "ok"]
FLAGGED = [k for k, m in MODELS.items() if m.get("status") == "warning"]


def test_fixtures_present():
    assert FIXTURE_FILE.exists(), "tests/fixtures/glmmtmb_fixtures.json is missing"
    assert len(OK) >= 10, f"only {len(OK)} usable glmmTMB fixtures"
    families = {MODELS[k]["family"] for k in OK}
    assert {"gaussian", "poisson", "binomial", "nbinom1", "nbinom2"} <= families


BOUNDARY_SD = 0.01          # glmmTMB SDs below this are at the boundary (README: swine_cs/us)
UNIDENTIFIED_SE = 100.0     # glmmTMB SEs above this belong to parameters off to infinity


def boundary_terms(entry):
    return [(r["group"], t) for r in ((entry.get("varcorr") or {}).get("cond") or {}).values()
            for t, sd in zip(r["terms"], r["sd"]) if sd < BOUNDARY_SD]


@pytest.mark.parametrize("key", OK)
def test_matches_glmmtmb(key):
    entry = MODELS[key]
    fit, caught = fit_fixture(key)
    check = Checks(key)
    boundary = boundary_terms(entry)
    # at a boundary SD glmm_lib may say so (singular fit); glmmTMB prints nothing
    tolerated = ("singular fit", "near-singular Hessian") if boundary else ()
    # a zero-inflation or dispersion coefficient glmmTMB sends towards infinity (SE > 100)
    # leaves the Hessian singular: glmm_lib must say so, and the SEs of the other
    # coefficients depend on where each optimizer stopped along the flat direction
    unidentified = any(v > UNIDENTIFIED_SE for key_ in ("se_zi", "se_disp")
                       for v in (entry.get(key_) or {}).values())
    if unidentified:
        tolerated += ("near-singular Hessian", "non-positive-definite Hessian")
        if fit.converged:
            check.fail("glmm_lib did not flag the unidentified parameter")
    problems = [p for p in fit.convergence_problems if not p.startswith(tolerated)]
    if problems:
        check.fail(f"glmm_lib did not converge: {problems}")
    caught = [w for w in caught if not any(t in w for t in tolerated) or
              any(p in w for p in problems)]
    if caught:
        check.fail(f"glmm_lib warned where glmmTMB did not: {caught}")
    if fit.nobs != entry["nobs"]:
        check.fail(f"nobs {fit.nobs} vs {entry['nobs']}")
    if fit.df_resid != entry["df.resid"]:
        check.fail(f"df.resid {fit.df_resid} vs {entry['df.resid']}")
    check.close("logLik", fit.llf, entry["logLik"], abs_tol=LOGLIK_ABS)
    check.close("AIC", fit.aic, entry["AIC"], abs_tol=IC_ABS)
    check.close("BIC", fit.bic, entry["BIC"], abs_tol=IC_ABS)
    check.close("deviance (-2 logLik)", fit.deviance, entry["deviance"], abs_tol=IC_ABS)
    check.coefficients("coef", fit.params, fit.bse, entry["coef"], entry["se"],
                       compare_se=not unidentified)
    if _given(entry.get("coef_zi")):
        check.coefficients("zi coef", fit.params_zi, fit.bse_zi, entry["coef_zi"], entry["se_zi"],
                           compare_se=not unidentified)
    if _given(entry.get("coef_disp")):
        check.coefficients("disp coef", fit.params_disp, fit.bse_disp, entry["coef_disp"],
                           entry["se_disp"], compare_se=not unidentified)
    if entry.get("sigma") is not None:
        check.close("sigma()", fit.sigma, entry["sigma"], rel_tol=SIGMA_REL)
    compare_varcorr(check, fit, entry)
    compare_ranef(check, fit, entry)
    check.done()


@pytest.mark.parametrize("key", FLAGGED)
def test_at_least_glmmtmb_maximum_where_glmmtmb_warns(key):
    """glmmTMB flags these fits (false or singular convergence, failed start): its numbers
    are not targets, but glmm_lib must reach at least its maximum of the likelihood."""
    entry = MODELS[key]
    fit, _ = fit_fixture(key)
    reference = entry.get("logLik")
    if reference is None and entry.get("objective") is not None:
        reference = -entry["objective"]
    assert np.isfinite(fit.llf)
    if reference is not None and np.isfinite(reference):
        assert fit.llf >= reference - LOGLIK_ABS, (fit.llf, reference)
    assert list(fit.params.index) == list(entry["coef"])


# ---------------------------------------------------------------- the workshop reference

REFERENCE = _json(REFERENCE_FILE)


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_workshop_reference(key):
    entry = REFERENCE[key]
    data = gl.datasets.load(entry["data"].removesuffix(".csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = gl.glmm(entry["formula"], data, family=entry["family"], link=entry["link"])
    check = Checks(key)
    check.coefficients("coef", fit.params, fit.bse, entry["coef"], entry["se"])
    check.close("logLik", fit.llf, entry["logLik"], abs_tol=LOGLIK_ABS)
    for name, ours in (("AIC", fit.aic), ("BIC", fit.bic), ("deviance", fit.deviance)):
        check.close(name, ours, entry[name], abs_tol=IC_ABS)
    if fit.df_resid != entry["df.resid"]:
        check.fail(f"df.resid {fit.df_resid} vs {entry['df.resid']}")
    for group, variance in (entry["re_var"] or {}).items():
        vc = fit.varcorr.set_index("group")
        check.close(f"variance | {group}", vc.loc[group, "variance"], variance,
                    rel_tol=2 * SD_REL)
    if entry["dispersion"] is not None:
        check.close("dispersion", fit.sigma, entry["dispersion"], rel_tol=SIGMA_REL)
    else:
        check.close("sigma() without dispersion", fit.sigma, 1.0)
    check.done()


def test_workshop_reference_is_in_the_fixtures():
    """The two oracles agree with each other (same glmmTMB version, same data)."""
    for key, entry in REFERENCE.items():
        if key not in MODELS:
            continue
        other = MODELS[key]
        assert other["formula"] == entry["formula"]
        assert math.isclose(other["logLik"], entry["logLik"], abs_tol=1e-6)
        for name, value in entry["coef"].items():
            assert math.isclose(other["coef"][name], value, abs_tol=1e-6)
