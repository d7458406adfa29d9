"""Simulated experiments with known parameters, for the lessons.

A lesson that explains how a model is written down is clearer when the data
come from exactly that model: the reader can compare every estimate with the
value that generated it. These functions draw such data sets.

- :func:`simulate_rcbd`: a randomized complete block design, one plot per
  treatment and block, with a normal, beta or Gamma response whose mean is
  tied to ``intercept + tau_i + u_j`` through the family's usual link;
- :func:`rcbd_treatment_means`: the treatment means those parameters imply
  (for a typical block, ``u_j = 0``), on the data scale;
- :func:`compare_with_truth`: a fit's estimates next to the values that
  generated the data;
- :func:`simulate_swine`: a repeated-measures growth trial in rooms, pens and
  pigs (the Day 3 hierarchy example); ``data/make_swine.py`` uses it to make
  the shipped ``data/swine_weights.csv``; :func:`swine_covariance` and
  :func:`swine_coefficients` give the covariance and the fixed effects its
  parameters imply.

Every function takes a ``seed`` and draws from a single
:class:`numpy.random.Generator`, so a seed and the parameters fix the data.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from glmm_lib.errors import GLMMInputError

__all__ = ["RCBD_FAMILIES", "simulate_rcbd", "rcbd_treatment_means", "compare_with_truth",
           "simulate_swine", "swine_covariance", "swine_coefficients"]

#: Response families of :func:`simulate_rcbd` and the link each uses.
RCBD_FAMILIES = {"gaussian": "identity", "beta": "logit", "gamma": "log"}


def _treatment_effects(treatments) -> dict[str, float]:
    if isinstance(treatments, Mapping):
        effects = {str(k): float(v) for k, v in treatments.items()}
    elif isinstance(treatments, Sequence) and not isinstance(treatments, str):
        effects = {f"T{i + 1}": float(v) for i, v in enumerate(treatments)}
    else:
        raise GLMMInputError("treatments must be a mapping {name: effect} or a list of effects")
    if len(effects) < 2:
        raise GLMMInputError(f"an RCBD needs at least two treatments, got {len(effects)}")
    if not all(np.isfinite(v) for v in effects.values()):
        raise GLMMInputError(f"treatment effects must be finite numbers, got {effects}")
    return effects


def _family(family: str) -> str:
    key = str(family).lower()
    if key not in RCBD_FAMILIES:
        raise GLMMInputError(f"unknown family {family!r} for simulate_rcbd; "
                             f"available: {', '.join(RCBD_FAMILIES)}")
    return key


def _inverse_link(family: str, eta):
    link = RCBD_FAMILIES[family]
    if link == "identity":
        return np.asarray(eta, float)
    if link == "logit":
        return special.expit(eta)
    return np.exp(eta)


def _dispersion(family: str, sigma, phi, cv) -> float:
    """The one dispersion parameter of the family, checked."""
    name, value = {"gaussian": ("sigma", sigma), "beta": ("phi", phi), "gamma": ("cv", cv)}[family]
    others = {"sigma": sigma, "phi": phi, "cv": cv}
    others.pop(name)
    extra = [k for k, v in others.items() if v is not None]
    if extra:
        raise GLMMInputError(f"the {family} response takes {name}, not {', '.join(extra)}")
    if value is None or not np.isfinite(value) or value <= 0:
        raise GLMMInputError(f"the {family} response needs {name} > 0, got {value!r}")
    return float(value)


def simulate_rcbd(treatments, n_blocks: int = 3, *, family: str = "gaussian",
                  intercept: float = 0.0, sd_block: float = 0.0, sigma: float | None = None,
                  phi: float | None = None, cv: float | None = None, scale: float = 1.0,
                  seed=None, response: str = "y", treatment: str = "trt",
                  block: str = "block") -> pd.DataFrame:
    """One plot per treatment in each of ``n_blocks`` blocks, with a simulated response.

    The linear predictor of treatment ``i`` in block ``j`` is
    ``eta_ij = intercept + tau_i + u_j`` with ``u_j ~ N(0, sd_block^2)``, and the
    response, given the block effects, is

    - ``family="gaussian"``: ``y ~ N(eta, sigma^2)`` (identity link);
    - ``family="beta"``: ``y ~ Beta(mu, phi)`` in mean-precision form with
      ``logit(mu) = eta``, i.e. shapes ``mu * phi`` and ``(1 - mu) * phi``;
    - ``family="gamma"``: ``y ~ Gamma`` with mean ``mu = exp(eta)`` and
      coefficient of variation ``cv`` (shape ``1 / cv^2``), as glmm_lib's Gamma.

    ``treatments`` maps treatment names to their effects ``tau_i`` on the scale
    of the linear predictor (a list gives names T1, T2, ...); the first is the
    reference level of the returned factor. ``scale`` multiplies the response
    (``scale=100`` turns a beta proportion into a percentage).

    Returns a DataFrame with columns ``block``, ``treatment`` (categoricals) and
    ``response``, in field-book order (block by block). ``frame.attrs["truth"]``
    holds the parameters and the drawn block effects.
    """
    effects = _treatment_effects(treatments)
    family = _family(family)
    dispersion = _dispersion(family, sigma, phi, cv)
    if int(n_blocks) != n_blocks or n_blocks < 1:
        raise GLMMInputError(f"n_blocks must be a positive integer, got {n_blocks!r}")
    n_blocks = int(n_blocks)
    if not sd_block >= 0:
        raise GLMMInputError(f"sd_block must be >= 0, got {sd_block!r}")
    if not scale > 0:
        raise GLMMInputError(f"scale must be > 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    names = list(effects)
    blocks = [f"B{j + 1}" for j in range(n_blocks)]
    u = rng.normal(0.0, sd_block, n_blocks) if sd_block > 0 else np.zeros(n_blocks)
    tau = np.array([effects[t] for t in names])
    eta = intercept + tau[None, :] + u[:, None]                    # block x treatment
    mu = _inverse_link(family, eta)
    y = _DRAWS[family](rng, mu, dispersion)
    frame = pd.DataFrame({
        block: pd.Categorical(np.repeat(blocks, len(names)), categories=blocks),
        treatment: pd.Categorical(np.tile(names, n_blocks), categories=names),
        response: (scale * y).ravel(),
    })
    frame.attrs["truth"] = {
        "family": family, "link": RCBD_FAMILIES[family], "intercept": float(intercept),
        "treatment_effects": effects, "sd_block": float(sd_block),
        {"gaussian": "sigma", "beta": "phi", "gamma": "cv"}[family]: dispersion,
        "scale": float(scale), "block_effects": dict(zip(blocks, map(float, u))), "seed": seed,
        "columns": {"response": response, "treatment": treatment, "block": block},
    }
    return frame


def _beta_draw(rng, mu, phi):
    # a draw can round to exactly 0 or 1 in floating point; keep it inside (0, 1)
    return np.clip(rng.beta(mu * phi, (1 - mu) * phi), 1e-9, 1 - 1e-9)


# how each of the simulator's families draws a response from its mean and dispersion
_DRAWS = {
    "gaussian": lambda rng, mu, sigma: rng.normal(mu, sigma),
    "beta": _beta_draw,
    "gamma": lambda rng, mu, cv: rng.gamma(1.0 / cv**2, mu * cv**2),
}
# exp(E(log y)) / E(y): for a Gamma with shape k = 1/cv^2, exp(digamma(k) - log(k))
_GEOMETRIC_MEAN_FACTOR = {
    "gamma": lambda cv: np.exp(special.digamma(1.0 / cv**2) - np.log(1.0 / cv**2)),
}


def rcbd_treatment_means(treatments, *, family: str = "gaussian", intercept: float = 0.0,
                         sigma: float | None = None, phi: float | None = None,
                         cv: float | None = None, scale: float = 1.0,
                         treatment: str = "trt") -> pd.DataFrame:
    """What the parameters of :func:`simulate_rcbd` say about each treatment, in a
    typical block (``u_j = 0``).

    Columns: ``eta`` (the linear predictor ``intercept + tau_i``), ``mean`` (the
    mean on the data scale, ``scale * g^{-1}(eta)``) and, for the Gamma,
    ``exp_mean_log``: ``exp(E(log y))``, the geometric mean, which is what a
    back-transformed analysis of ``log(y)`` estimates. For a Gamma with shape
    ``k = 1/cv^2``, ``E(log y) = log(mu) + digamma(k) - log(k)``, so the
    geometric mean is the mean times ``exp(digamma(k) - log(k)) < 1``.
    """
    effects = _treatment_effects(treatments)
    family = _family(family)
    dispersion = _dispersion(family, sigma, phi, cv)
    eta = intercept + np.array(list(effects.values()))
    out = pd.DataFrame({"eta": eta, "mean": scale * _inverse_link(family, eta)},
                       index=pd.Index(list(effects), name=treatment))
    if family in _GEOMETRIC_MEAN_FACTOR:
        out["exp_mean_log"] = out["mean"] * _GEOMETRIC_MEAN_FACTOR[family](dispersion)
    return out


def compare_with_truth(fit, truth: dict) -> pd.DataFrame:
    """The estimates of a fit to :func:`simulate_rcbd` data next to the true values.

    ``truth`` is ``frame.attrs["truth"]`` of the simulated data (or a dict with
    the same keys). The fit must use treatment contrasts of the simulated
    treatment factor and a random intercept for the block, as
    ``response ~ trt + (1|block)``. Rows: the fixed effects (the intercept is
    the reference treatment's linear predictor, each other coefficient the
    difference from it), the block variance and the family's dispersion
    parameter (``sigma``, ``phi`` or ``cv``, which is what glmm_lib's
    ``fit.sigma`` reports for the gaussian, beta and Gamma families).
    Columns: ``true``, ``estimate`` and ``SE`` (for the fixed effects).
    """
    effects = truth["treatment_effects"]
    names = list(effects)
    trt = truth.get("columns", {}).get("treatment", "trt")
    block = truth.get("columns", {}).get("block", "block")
    true = {"(Intercept)": truth["intercept"] + effects[names[0]]}
    for name in names[1:]:
        true[f"{trt}{name}"] = effects[name] - effects[names[0]]
    missing = [k for k in fit.params.index if k not in true]
    if missing:
        raise GLMMInputError(f"the fit has coefficients {missing} that the simulation does not "
                             f"define; fit response ~ {trt} + (1|{block}) to the simulated data")
    rows = pd.DataFrame({"true": pd.Series(true), "estimate": fit.params, "SE": fit.bse})
    rows = rows.loc[list(fit.params.index)]
    vc = fit.varcorr
    match = vc[vc["group"] == block]
    if len(match) != 1:
        raise GLMMInputError(f"the fit has no single random intercept for {block!r}")
    dispersion = {"gaussian": "sigma", "beta": "phi", "gamma": "cv"}[truth["family"]]
    extra = pd.DataFrame({"true": [truth["sd_block"] ** 2, truth[dispersion]],
                          "estimate": [float(match["variance"].iloc[0]), float(fit.sigma)],
                          "SE": [np.nan, np.nan]},
                         index=["block variance", dispersion])
    return pd.concat([rows, extra])


def simulate_swine(*, n_rooms: int = 4, treatments=None, pigs_per_pen: int = 3,
                   weeks=(0, 2, 4, 6, 8), intercept: float = 25.0, slope: float = 6.0,
                   sd_room: float = 1.5, sd_pen: float = 1.0, sd_pig: float = 2.0,
                   sd_e: float = 1.2, rho: float = 0.6, decimals: int = 1,
                   seed=None) -> pd.DataFrame:
    """A swine growth trial: an RCBD in rooms, pens as experimental units, pigs
    weighed repeatedly.

    Each of ``n_rooms`` rooms (the blocks) holds one pen per treatment, the
    treatments randomized to pens within each room; each pen holds
    ``pigs_per_pen`` pigs, each weighed at every week in ``weeks``. The weight
    of pig ``k`` in pen ``(room r, treatment i)`` at week ``t`` is

        intercept + a_i + (slope + b_i) * t + room_r + pen_ri + pig_rik + e_rikt

    with ``room ~ N(0, sd_room^2)``, ``pen ~ N(0, sd_pen^2)``,
    ``pig ~ N(0, sd_pig^2)`` and, within a pig, errors ``e`` that follow a
    stationary AR(1) process over the weighings with variance ``sd_e^2`` and
    correlation ``rho`` between successive weighings (``rho**lag`` at ``lag``
    weighings apart).

    ``treatments`` maps names to ``(a_i, b_i)``: the shift at week 0 (kg) and
    the extra growth per week (kg/week); the default is four feeds T1..T4.

    Returns one row per weighing: ``room``, ``pen`` (the pen's label within its
    room, P1..), ``trt``, ``pig`` (unique across the trial), ``week`` (number),
    ``time`` (the week as a factor, ``w0``, ``w2``, ...) and ``weight`` (kg,
    rounded to ``decimals``).
    """
    if treatments is None:
        treatments = {"T1": (0.0, 0.0), "T2": (0.5, 0.3), "T3": (0.2, 0.6), "T4": (-0.3, 0.2)}
    if not isinstance(treatments, Mapping) or len(treatments) < 2:
        raise GLMMInputError("treatments must map at least two names to (shift, extra slope)")
    for name, value in treatments.items():
        if len(value) != 2:
            raise GLMMInputError(f"treatment {name!r}: give (shift at week 0, extra growth per week)")
    weeks = np.asarray(weeks, float)
    if weeks.ndim != 1 or len(weeks) < 2 or np.any(np.diff(weeks) <= 0):
        raise GLMMInputError(f"weeks must be at least two increasing numbers, got {weeks.tolist()}")
    for name, value in {"sd_room": sd_room, "sd_pen": sd_pen, "sd_pig": sd_pig, "sd_e": sd_e}.items():
        if not value >= 0:
            raise GLMMInputError(f"{name} must be >= 0, got {value!r}")
    if not -1 < rho < 1:
        raise GLMMInputError(f"rho must lie in (-1, 1), got {rho!r}")
    if int(n_rooms) != n_rooms or n_rooms < 1 or int(pigs_per_pen) != pigs_per_pen or pigs_per_pen < 1:
        raise GLMMInputError("n_rooms and pigs_per_pen must be positive integers")

    rng = np.random.default_rng(seed)
    names = list(treatments)
    rooms = [f"R{r + 1}" for r in range(int(n_rooms))]
    pens = [f"P{p + 1}" for p in range(len(names))]
    n_times = len(weeks)
    lag = np.abs(np.subtract.outer(np.arange(n_times), np.arange(n_times)))
    ar1_cov = sd_e**2 * rho**lag
    ar1_chol = np.linalg.cholesky(ar1_cov) if sd_e > 0 else np.zeros_like(ar1_cov)
    time_labels = [f"w{w:g}" for w in weeks]

    rows = []
    pig_no = 0
    for room in rooms:
        u_room = rng.normal(0.0, sd_room)
        order = rng.permutation(len(names))            # randomize treatments to pens
        for pen, i in zip(pens, order):
            trt = names[i]
            shift, extra = treatments[trt]
            u_pen = rng.normal(0.0, sd_pen)
            for _ in range(int(pigs_per_pen)):
                pig_no += 1
                u_pig = rng.normal(0.0, sd_pig)
                e = ar1_chol @ rng.standard_normal(n_times)
                mean = intercept + shift + (slope + extra) * weeks
                weight = mean + u_room + u_pen + u_pig + e
                for t in range(n_times):
                    rows.append((room, pen, trt, f"pig{pig_no:02d}", weeks[t], time_labels[t],
                                 round(float(weight[t]), decimals)))
    frame = pd.DataFrame(rows, columns=["room", "pen", "trt", "pig", "week", "time", "weight"])
    frame["room"] = pd.Categorical(frame["room"], categories=rooms)
    frame["pen"] = pd.Categorical(frame["pen"], categories=pens)
    frame["trt"] = pd.Categorical(frame["trt"], categories=names)
    frame["pig"] = pd.Categorical(frame["pig"], categories=list(dict.fromkeys(frame["pig"])))
    frame["time"] = pd.Categorical(frame["time"], categories=time_labels)
    if np.all(weeks == np.round(weeks)):
        frame["week"] = frame["week"].astype("int64")
    return frame


def swine_covariance(n_times: int, sd_room: float, sd_pen: float, sd_pig: float, sd_e: float,
                     rho: float, **_ignored) -> np.ndarray:
    """True covariance matrix of the ``n_times`` weighings of one pig under
    :func:`simulate_swine`: ``sd_room^2 + sd_pen^2 + sd_pig^2`` shared by all
    weighings (the pig's room, pen and own effect) plus the AR(1) errors,
    ``sd_e^2 * rho^|s - t|`` for weighings ``s`` and ``t``. Extra keyword
    arguments (the other parameters of a simulation) are ignored, so
    ``swine_covariance(n, **truth)`` works with the full parameter dict."""
    lag = np.abs(np.subtract.outer(np.arange(n_times), np.arange(n_times)))
    return sd_room**2 + sd_pen**2 + sd_pig**2 + sd_e**2 * rho**lag


def swine_coefficients(treatments: Mapping, intercept: float, slope: float, treatment: str = "trt",
                       time: str = "week", **_ignored) -> pd.Series:
    """The fixed effects of ``weight ~ trt * week`` (treatment contrasts, first
    treatment the reference) implied by the parameters of :func:`simulate_swine`,
    named as glmm_lib names them."""
    names = list(treatments)
    a0, b0 = treatments[names[0]]
    out = {"(Intercept)": intercept + a0}
    for name in names[1:]:
        out[f"{treatment}{name}"] = treatments[name][0] - a0
    out[time] = slope + b0
    for name in names[1:]:
        out[f"{treatment}{name}:{time}"] = treatments[name][1] - b0
    return pd.Series(out, name="true")
