"""A model with given parameter values, to simulate from: designed from scratch with
``gl.specify`` or taken from a fit (``SpecifiedModel.from_fit``), with effects changed
and the data extended along a grouping factor, for power analysis (``gl.power``).

>>> design = gl.designs.rcbd(treatments=["T1", "T2", "T3", "T4"], blocks=6)
>>> model = gl.specify("y ~ trt + (1|block)", data=design, family="nbinom1",
...                    fixed={"(Intercept)": 0.3, "trtT2": -0.4, "trtT3": -0.2, "trtT4": -0.5},
...                    sd={"block": 0.3}, dispersion=0.3)
>>> model.simulate(2, seed=1)        # responses, one column per simulation

Values: ``fixed`` every fixed-effect coefficient by its name (link scale); ``sd`` a
random term's standard deviation by its grouping (``{"block": 0.3}``; a dict by
coefficient for a term with several, ``{"subject": {"(Intercept)": 1, "time": 0.2}}``);
``corr`` a term's correlation (a number for two coefficients, or for the ``rho`` of
ar1/cs terms; a matrix otherwise); ``dispersion`` glmmTMB's ``sigma()`` of the family;
``zi`` the zero-inflation probability; ``aux`` any other auxiliary coefficient by its
name on the optimizer's scale (``{"log_df": 1.6}`` for a t family with free df).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.optimize

from .errors import GLMMInputError
from .families import get_family
from .formula import evaluate_expression, expression_variables, parse_formula
from .model import GLMMModel
from .simulate import simulate_responses


def _response_placeholder(family, trials, index, name):
    """A constant response the family accepts, so the design can be built before any
    response is simulated (0.5 for continuous families, 0 for counts)."""
    for value in (0.5, 0.0):
        y = np.full(len(index), value)
        try:
            family.check_response(y, trials, index, name)
        except GLMMInputError:
            continue
        return value
    raise GLMMInputError(f"no placeholder response suits the {family.name} family")


def _with_response_columns(formula, data, family):
    """``data`` with the response's missing columns added (placeholder values)."""
    parsed = parse_formula(formula)
    missing = [v for part in parsed.response_parts for v in expression_variables(part)
               if v not in data.columns]
    if not missing:
        return data
    data = data.copy()
    value = _response_placeholder(family, np.ones(len(data)), data.index, missing[0])
    for column in missing:
        data[column] = value
    return data


class SpecifiedModel:
    """A GLMMModel with a full parameter vector: simulates responses, and is the truth
    and the starting point of the refits in a power simulation."""

    def __init__(self, arguments: dict, beta, theta, aux: dict):
        self.arguments = arguments
        self.model = GLMMModel(**arguments)
        self.family = self.model.family
        self.formula = self.model.formula.text
        names = self.model.fixed.names
        self.params = pd.Series(np.asarray(beta, float), index=names, name="Estimate")
        self.theta = np.asarray(theta, float)
        self.aux_coefficients = {k: np.asarray(v, float) for k, v in aux.items()}

    # ---- made from a fit ----------------------------------------------------
    @classmethod
    def from_fit(cls, fit):
        """The fit's model at its estimates, with the arguments that rebuild it on other
        data (offset and weights as arrays over the fit's rows)."""
        m = fit.model
        frame = m.frame
        data = frame.data
        formula_offset = np.zeros(frame.nobs)
        for expr in m.formula.offsets:
            formula_offset += evaluate_expression(expr, data)
        family, zi, disp = fit.family, None, None
        zi_design = m.aux_fixed.get("zi")
        if zi_design is not None:       # given again as a formula, on the count family
            family, zi = family.base, "~" + zi_design.rhs
        name = m.dispersion_parameter(fit.family)
        if name is not None and m.aux_designs[name].shape[1] == 0:
            disp = "~0"
        elif name is not None and m.aux_fixed.get(name) is not None:
            disp = "~" + m.aux_fixed[name].rhs
        weights = frame.weights.copy()
        if family.has_trials and len(m.formula.response_parts) == 1:
            weights = weights * frame.trials         # a proportion with its trials as weights
        arguments = {"formula": fit.formula, "data": data, "family": family,
                     "weights": weights, "offset": frame.offset - formula_offset,
                     "ziformula": zi, "dispformula": disp, "REML": m.REML}
        return cls(arguments, fit.params.to_numpy(), fit.theta, fit.aux_coefficients)

    # ---- the parameter vector and the refits' start -------------------------
    @property
    def parameters(self) -> np.ndarray:
        """(beta, theta, auxiliary coefficients) in the model's layout."""
        return np.concatenate([self.params.to_numpy(), self.theta] +
                              [self.aux_coefficients[k] for k in self.model.aux_designs])

    def start_for(self, model):
        """Starting values for ``model`` (this one, or one with fewer fixed effects):
        the true values of the parameters it has."""
        beta = self.params.reindex(model.fixed.names).fillna(0.0).to_numpy()
        full = np.concatenate([beta, self.theta] +
                              [self.aux_coefficients[k] for k in model.aux_designs])
        return model.objective().start(full)

    # ---- simulation ---------------------------------------------------------
    def simulate(self, nsim=1, seed=None):
        """Responses (nobs x nsim) with the random effects drawn anew, as a fit's
        ``simulate(re="new")`` draws them (the same numbers for the same seed)."""
        m = self.model
        fixed_eta = m.X @ self.params.to_numpy() + m.offset
        aux = {name: design @ self.aux_coefficients[name] + m.aux_offsets[name]
               for name, design in m.aux_designs.items()}
        A = m.random_effects.values(self.theta) if m.random_effects.q else None
        return simulate_responses(m, self.family, fixed_eta, aux, nsim, seed, A=A)

    # ---- variations ---------------------------------------------------------
    def with_effects(self, effect: dict):
        """A copy with some fixed effects changed (``{"trtT3": -0.3}``)."""
        unknown = [k for k in effect if k not in self.params.index]
        if unknown:
            raise GLMMInputError(f"effect names {unknown} are not fixed-effect coefficients of "
                                 f"the model; they are: {', '.join(self.params.index)}")
        beta = self.params.copy()
        for name, value in effect.items():
            beta[name] = float(value)
        return SpecifiedModel(self.arguments, beta.to_numpy(), self.theta, self.aux_coefficients)

    def extended(self, along: str, n_levels: int):
        """The same model on data with ``n_levels`` levels of the factor ``along``: its
        first levels kept, or its levels copied in turn (as simr's ``extend``); a copy's
        labels get a suffix, as do those of every factor nested in ``along`` (plots in
        blocks), so that copied units are new units.  When ``along`` is itself nested in
        factors (subjects in treatment groups), ``n_levels`` is the number within each
        combination of them: every group keeps or copies its own units, so no group is
        lost."""
        data = self.model.frame.data
        if along not in data.columns:
            raise GLMMInputError(f"along={along!r} is not a column of the model's data; the "
                                 f"columns are: {', '.join(map(str, data.columns))}")
        if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 2:
            raise GLMMInputError(f"levels of {along!r} must be integers >= 2, got {n_levels!r}")
        factor = data[along].astype(str)
        nested = [c for c in data.columns if c != along and _nested_in(data[c], factor)]
        groups = _groups_containing(data, along, factor, nested)
        pieces, rows = [], []
        for group in pd.unique(groups):
            levels = list(pd.unique(factor[groups == group]))
            for k in range(n_levels):
                source, copy_number = levels[k % len(levels)], k // len(levels)
                where = np.flatnonzero(factor.to_numpy() == source)
                piece = data.iloc[where].copy()
                if copy_number:
                    for column in [along] + nested:
                        piece[column] = piece[column].astype(str) + f"_{copy_number + 1}"
                pieces.append(piece)
                rows.append(where)
        rows = np.concatenate(rows)
        new_data = pd.concat(pieces, ignore_index=True)
        for column in [along] + nested:
            new_data[column] = pd.Categorical(new_data[column].astype(str),
                                              categories=list(pd.unique(new_data[column].astype(str))))
        arguments = dict(self.arguments, data=new_data)
        for key in ("weights", "offset"):
            if isinstance(arguments[key], np.ndarray):
                arguments[key] = arguments[key][rows]
        return SpecifiedModel(arguments, self.params.to_numpy(), self.theta, self.aux_coefficients)

    def __repr__(self):
        return (f"<SpecifiedModel {self.family.name}({self.family.link.name}) {self.formula!r}: "
                f"{self.model.nobs} rows>")


def _is_numeric(column):
    return pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)


def _nested_in(column, factor):
    """Is every level of this (non-numeric) column within a single level of ``factor``?"""
    if _is_numeric(column):
        return False
    pairs = pd.DataFrame({"c": column.astype(str).to_numpy(), "f": factor.to_numpy()})
    return bool((pairs.groupby("c")["f"].nunique() == 1).all()) and pairs["c"].nunique() > 1


def _groups_containing(data, along, factor, nested):
    """Each row's group: its levels of the factors that ``along`` is nested in (the
    treatment of a subject), one group when there are none.  Factors nested in
    ``along`` (its own units relabelled) and numeric columns are not groups."""
    containing = [c for c in data.columns
                  if c != along and c not in nested and not _is_numeric(data[c])
                  and data[c].astype(str).nunique() < factor.nunique()
                  and _nested_in(factor, data[c].astype(str))]
    if not containing:
        return np.zeros(len(data), dtype=int)
    return pd.factorize(pd.MultiIndex.from_frame(data[containing].astype(str)))[0]


# ---- parameter values from their natural scale --------------------------------------

def _theta_for(term, sd, corr):
    """The term's theta whose reported SDs (and correlations or rho) are the given ones;
    solved numerically, so any covariance structure works the same way."""
    names = list(term.term_names)
    if isinstance(sd, dict):
        missing = [n for n in names if n not in sd]
        if missing or set(sd) - set(names):
            raise GLMMInputError(f"sd for ({term.spec.lhs} | {term.group_name}) needs a value "
                                 f"for each of {names}; got {list(sd)}")
        target_sd = np.array([float(sd[n]) for n in names])
    else:
        if len(names) != 1 and np.ndim(sd) == 0:
            raise GLMMInputError(f"the term ({term.spec.lhs} | {term.group_name}) has "
                                 f"coefficients {names}: give sd as a dict by coefficient")
        target_sd = np.broadcast_to(np.asarray(sd, float), (len(names),)).copy()
    if np.any(~np.isfinite(target_sd)) or np.any(target_sd <= 0):
        raise GLMMInputError(f"standard deviations must be positive; got {sd!r} for "
                             f"{term.group_name}")
    structure = term.structure
    probe = structure.report(structure.start())

    def residual(theta):
        rep = structure.report(theta)
        parts = [np.log(np.asarray(rep["sd"], float)) - np.log(target_sd)]
        if corr is not None and "rho" in rep:
            parts.append([rep["rho"] - float(corr)])
        elif corr is not None and rep.get("corr") is not None:
            target = np.asarray(corr, float)
            if target.ndim == 0:
                target = np.array([[1.0, float(corr)], [float(corr), 1.0]])
            lower = np.tril_indices(len(names), -1)
            parts.append(np.asarray(rep["corr"])[lower] - target[lower])
        return np.concatenate([np.atleast_1d(p) for p in parts])

    if corr is not None and "rho" not in probe and probe.get("corr") is None:
        raise GLMMInputError(f"the term ({term.spec.lhs} | {term.group_name}) has no "
                             "correlation to set")
    solution = scipy.optimize.least_squares(residual, structure.start(), xtol=1e-15,
                                            ftol=1e-15, gtol=1e-15)
    if np.max(np.abs(residual(solution.x))) > 1e-8:
        raise GLMMInputError(f"the standard deviations and correlations given for "
                             f"({term.spec.lhs} | {term.group_name}) are not a valid "
                             f"{structure.name} covariance")
    return solution.x


def _aux_for(model, name, value, how):
    """Coefficients of the auxiliary parameter ``name`` from the value given."""
    size = model.aux_designs[name].shape[1]
    if isinstance(value, dict):
        names = model.aux_names(name)
        if set(value) != set(names):
            raise GLMMInputError(f"{name} needs coefficients for {names}; got {list(value)}")
        return np.array([float(value[n]) for n in names])
    if size != 1:
        raise GLMMInputError(f"{name} is modelled by a formula: give its coefficients as a "
                             f"dict by name ({model.aux_names(name)})")
    return np.array([how(float(value))])


def _check_names(given, known, what):
    unknown = [k for k in given if k not in known]
    if unknown:
        raise GLMMInputError(f"{what} {unknown} not in the model; it has: {', '.join(known)}")


def specify(formula, data, family="gaussian", link=None, *, fixed, sd=None, corr=None,
            dispersion=None, zi=None, aux=None, weights=None, offset=None, ziformula=None,
            dispformula=None, REML=False) -> SpecifiedModel:
    """A model with given parameter values on the design ``data`` (see the module
    docstring for the values).  Its response column may be absent from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise GLMMInputError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    data = _with_response_columns(formula, data, get_family(family, link))
    arguments = {"formula": formula, "data": data, "family": family, "link": link,
                 "weights": weights, "offset": offset, "ziformula": ziformula,
                 "dispformula": dispformula, "REML": REML}
    model = GLMMModel(**arguments)
    names = list(model.fixed.names)
    fixed = dict(fixed or {})
    _check_names(fixed, names, "fixed effects")
    missing = [n for n in names if n not in fixed]
    if missing:
        raise GLMMInputError(f"fixed= needs a value for every coefficient; missing: {missing}")
    sd, corr = dict(sd or {}), dict(corr or {})
    re = model.random_effects
    groups = [t.group_name for t in re.terms]
    _check_names(sd, groups, "sd groupings")
    _check_names(corr, groups, "corr groupings")
    if len(set(groups)) != len(groups):
        raise GLMMInputError("two random terms share a grouping; specify() names terms by "
                             "their grouping")
    absent = [g for g in groups if g not in sd]
    if absent:
        raise GLMMInputError(f"sd= needs a value for every random term; missing: {absent}")
    theta = np.concatenate([_theta_for(t, sd[t.group_name], corr.get(t.group_name))
                            for t in re.terms]) if re.terms else np.zeros(0)
    fam = model.family
    values = dict(aux or {})
    dispersion_name = model.dispersion_parameter(fam)
    coefficients = {}
    for name in model.aux_designs:
        if name in values:
            coefficients[name] = _aux_for(model, name, values.pop(name), float)
        elif name == dispersion_name and dispersion is not None:
            coefficients[name] = _aux_for(model, name, dispersion,
                                          lambda v: _link_scale_dispersion(fam, name, v))
        elif name == "zi" and zi is not None:
            coefficients[name] = _aux_for(model, name, zi, _logit)
        elif model.aux_designs[name].shape[1] == 0:
            coefficients[name] = np.zeros(0)
        else:
            raise GLMMInputError(f"the {fam.name} model needs a value for {name!r}: "
                                 + ("dispersion=" if name == dispersion_name else
                                    "zi=" if name == "zi" else f"aux={{{name!r}: ...}}"))
    if values:
        raise GLMMInputError(f"aux= names {list(values)} are not auxiliary parameters of the "
                             f"model ({', '.join(model.aux_designs)})")
    return SpecifiedModel(arguments, [fixed[n] for n in names], theta, coefficients)


def _logit(p):
    if not 0 < p < 1:
        raise GLMMInputError(f"zi is a probability strictly between 0 and 1, got {p!r}")
    return float(np.log(p / (1 - p)))


def _link_scale_dispersion(family, name, value):
    """The coefficient at which ``family.sigma`` is ``value`` (sigma is monotone in it)."""
    if not np.isfinite(value) or value <= 0:
        raise GLMMInputError(f"dispersion must be a positive number, got {value!r}")

    def gap(x):
        return np.log(family.sigma({name: x})) - np.log(value)

    return float(scipy.optimize.brentq(gap, -60.0, 60.0, xtol=1e-14, rtol=1e-15))
