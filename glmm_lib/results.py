"""The fitted model: estimates, standard errors, variance components,
conditional modes, predictions and simulation, with tidy pandas output."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import stats

from .differences import central_jacobian
from .errors import GLMMInputError
from .formula import evaluate_expression
from .objectives import make_objective
from .profile import profile_intervals
from .simulate import simulate_responses
from .summary import Summary


def _standard_errors(cov, at_limit=()):
    """sqrt of the diagonal; NaN (not a warning) where a non-positive-definite Hessian
    left a negative variance, and for the parameters ``at_limit`` (positions in ``cov``),
    held at a limit of their range: the fit reports both in ``convergence_problems``."""
    var = np.diag(np.asarray(cov, float)).copy()
    var[list(at_limit)] = np.nan
    return np.sqrt(np.where(var >= 0, var, np.nan))


class GLMMResults:
    """A fitted model, immutable: the model, the optimizer's summary, the convergence
    verdict and the final state.  Computations that need the likelihood again (the
    Jacobian of the modes, profiles) make their own objective from the model."""

    def __init__(self, model, state, optimizer, convergence):
        self.model = model
        self.family = model.family
        self.formula = model.formula.text
        self.state = state
        self.optimizer = optimizer
        self.convergence = convergence
        self.parameters = state.parameters
        self.layout = self.parameters.layout
        self.theta = optimizer.end[self.layout.theta]
        self.aux_coefficients = {name: optimizer.end[self.layout.aux(name)]
                                 for name in model.aux_designs}

    @functools.cached_property
    def params(self) -> pd.Series:
        """The fixed effects (a Series made when first read: a pandas index of the names
        costs as much as the rest of the results)."""
        return pd.Series(self.state.beta, index=self.model.fixed.names, name="Estimate")

    # ---- convergence -------------------------------------------------------
    @property
    def converged(self) -> bool:
        return self.convergence.converged

    @property
    def convergence_problems(self) -> list:
        """Why the fit may not have converged, then each component of a singular fit
        (``singular fit: the block variance is estimated as zero``), which does not make
        ``converged`` False."""
        return list(self.convergence.notes)

    # ---- fixed effects -----------------------------------------------------
    def cov_params(self, full=False) -> pd.DataFrame:
        """Covariance of the fixed effects (or of all outer parameters with ``full``)."""
        if full:     # a parameter held at a limit has no variance (NaN) and no covariance (0)
            names = self.parameters.names
            cov = self.state.cov.copy()
            cov[self.state.at_limit, self.state.at_limit] = np.nan
            return pd.DataFrame(cov, index=names, columns=names)
        return pd.DataFrame(self.state.beta_cov, index=self.params.index, columns=self.params.index)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(_standard_errors(self.cov_params().to_numpy()), index=self.params.index,
                         name="Std. Error")

    @property
    def tvalues(self) -> pd.Series:
        return (self.params / self.bse).rename("z value")

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * stats.norm.sf(np.abs(self.tvalues)), index=self.params.index,
                         name="Pr(>|z|)")

    def conf_int(self, alpha=0.05, method="wald") -> pd.DataFrame:
        """Confidence intervals, as glmmTMB's confint().

        ``method="wald"``: fixed effects, estimate +- z * SE.  ``method="profile"``: the
        same Wald rows for the fixed effects, then profile-likelihood intervals for the
        random-effect standard deviations (rows ``sd_<term>|<group>``, on the SD scale: the
        parameters' ``natural_name``)
        and the other variance parameters (on the optimizer's scale)."""
        z = stats.norm.ppf(1 - alpha / 2)
        lo, hi = self.params - z * self.bse, self.params + z * self.bse
        pct = (f"{100 * alpha / 2:g} %", f"{100 * (1 - alpha / 2):g} %")
        wald = pd.DataFrame({pct[0]: lo, pct[1]: hi, "Estimate": self.params})
        if method == "wald":
            return wald[list(pct)]
        if method != "profile":
            raise GLMMInputError("method must be 'wald' or 'profile'")
        prof = profile_intervals(self, level=1 - alpha)
        rows = {}
        for name, r in prof.iterrows():
            natural_name = self.parameters.named(name).natural_name
            if natural_name is not None:
                rows[natural_name] = (r["natural_lower"], r["natural_upper"],
                                      r["natural_estimate"])
            else:
                rows[name] = (r["lower"], r["upper"], r["estimate"])
        extra = pd.DataFrame.from_dict(rows, orient="index", columns=[pct[0], pct[1], "Estimate"])
        return pd.concat([wald, extra])

    def profile(self, level=0.95, parameters=None) -> pd.DataFrame:
        """Profile intervals on the optimizer's scale (see ``glmm_lib.profile``)."""
        return profile_intervals(self, level=level, parameters=parameters)

    def coef_table(self, ddf=None) -> pd.DataFrame:
        """glmmTMB's z table; with ``ddf`` ("Satterthwaite", "Kenward-Roger", "residual",
        "asymptotic") lmerTest's t table for a gaussian identity-link model."""
        if ddf is not None:
            from .ddf import coef_table_ddf

            return coef_table_ddf(self, ddf)
        return pd.DataFrame({"Estimate": self.params, "Std. Error": self.bse,
                             "z value": self.tvalues, "Pr(>|z|)": self.pvalues})

    # ---- views of the fitted model that lessons and reports show -------------
    def pooling_table(self, group) -> pd.DataFrame:
        """Per-group raw means beside the model's predictions (``glmm_lib.pooling``)."""
        from .pooling import pooling_table

        return pooling_table(self, group)

    def group_effects(self, treatment, group, level, reference=None) -> pd.DataFrame:
        """The effect of ``treatment`` in each group (``glmm_lib.pooling``)."""
        from .pooling import group_effects

        return group_effects(self, treatment, group, level, reference=reference)

    def implied_covariance(self, rows) -> pd.DataFrame:
        """The marginal covariance of the responses in ``rows`` implied by the fit."""
        from .implied_covariance import implied_covariance

        return implied_covariance(self, rows)

    # ---- likelihood --------------------------------------------------------
    @property
    def llf(self) -> float:
        return self.state.value

    @property
    def n_params(self) -> int:
        """Parameters counted in AIC and BIC (the fixed effects included, also under REML)."""
        return self.model.layout.size

    @property
    def REML(self) -> bool:
        return self.model.REML

    @property
    def nobs(self) -> int:
        return self.model.nobs

    @property
    def aic(self) -> float:
        return -2 * self.llf + 2 * self.n_params

    @property
    def bic(self) -> float:
        return -2 * self.llf + np.log(self.nobs) * self.n_params

    @property
    def deviance(self) -> float:
        """-2 log-likelihood, as glmmTMB's summary prints under 'deviance'."""
        return -2 * self.llf

    @property
    def df_resid(self) -> int:
        """nobs minus the optimizer's parameters: under REML the fixed effects are integrated
        out and not subtracted (as glmmTMB's df.residual)."""
        return self.nobs - self.layout.size

    # ---- dispersion and variance components --------------------------------
    @property
    def sigma(self) -> float:
        """glmmTMB's sigma(): the family's dispersion (at the intercept of a dispersion model)."""
        m = self.model
        values = {k: float(v[0] if v.size else 0.0) + m.aux_offsets[k]
                  for k, v in self.aux_coefficients.items()}
        return self.family.sigma(values)

    def _aux_table(self, name):
        names = self.model.aux_names(name)
        sl = self.layout.aux(name)
        est = pd.Series(self.optimizer.end[sl], index=names, name="Estimate")
        held = [k - sl.start for k in self.state.at_limit if sl.start <= k < sl.stop]
        se = pd.Series(_standard_errors(self.state.cov[sl, sl], held), index=names,
                       name="Std. Error")
        return est, se

    @property
    def params_zi(self) -> pd.Series:
        """Zero-inflation model coefficients (logit scale); empty without zero inflation."""
        name = self.model.options.zero_inflation
        return self._aux_table(name)[0] if name else pd.Series(dtype=float)

    @property
    def bse_zi(self) -> pd.Series:
        name = self.model.options.zero_inflation
        return self._aux_table(name)[1] if name else pd.Series(dtype=float)

    @property
    def params_disp(self) -> pd.Series:
        """Dispersion model coefficients (log scale, as glmmTMB reports them)."""
        name = self.model.options.dispersion
        return self._aux_table(name)[0] if name else pd.Series(dtype=float)

    @property
    def bse_disp(self) -> pd.Series:
        name = self.model.options.dispersion
        return self._aux_table(name)[1] if name else pd.Series(dtype=float)

    @property
    def varcorr(self) -> pd.DataFrame:
        """One row per random-effect coefficient: group, term, variance, sd
        (and corr_<j> columns for correlated terms: the correlation with the term's j-th
        coefficient; rho for ar1/cs)."""
        rows = []
        re = self.model.random_effects
        for term, sl in zip(re.terms, re.theta_slices):
            rep = term.structure.report(self.theta[sl])
            for i, name in enumerate(term.term_names):
                row = {"group": term.group_name, "term": name, "structure": term.structure.name,
                       "variance": rep["sd"][i] ** 2, "sd": rep["sd"][i]}
                if rep.get("corr") is not None:
                    for j, other in enumerate(term.term_names[:i]):
                        row[f"corr_{j + 1}"] = rep["corr"][i, j]
                if "rho" in rep:
                    row["rho"] = rep["rho"]
                rows.append(row)
        return pd.DataFrame(rows)

    def _conditional_blocks(self, joint):
        """Per term and level, Var(u | y): Lambda H^-1 Lambda' (+ parameter uncertainty)."""
        re, state = self.model.random_effects, self.state
        blocks = re.blocks
        inverse = blocks.inverse(state.chol)
        factors = re.factors(self.theta)
        out = []
        jac = self._mode_jacobian() if joint else None
        for t, off, lam in zip(re.terms, re.offsets, factors):
            s = t.size
            cols = off + np.arange(t.n_levels)[:, None] * s + np.arange(s)[None, :]
            hinv = blocks.entries(inverse, cols[:, :, None].repeat(s, 2),
                                      cols[:, None, :].repeat(s, 1))
            cov = lam @ hinv @ lam.T
            if joint:
                j = jac[cols]                       # (levels, s, n_params): d u / d p
                cov = cov + j @ state.cov @ np.swapaxes(j, 1, 2)
            out.append(cov)
        return out

    def _mode_jacobian(self, step=1e-5):
        """d u_hat / d p by central differences of the inner mode (u = Lambda b)."""
        objective, p = make_objective(self.model), self.optimizer.end
        re = self.model.random_effects

        def u_of(params):
            b = objective.mode(params, b_start=self.state.b).b
            u = np.empty_like(b)
            for t, off, lam in zip(re.terms, re.offsets, re.factors(params[self.layout.theta])):
                block = b[off: off + t.n_levels * t.size].reshape(t.n_levels, t.size)
                u[off: off + t.n_levels * t.size] = (block @ lam.T).ravel()
            return u

        return central_jacobian(u_of, p, step)

    def ranef(self, cond_var="joint") -> dict:
        """Conditional modes per grouping factor: {group: DataFrame(level x term)} with
        conditional SDs in columns ``sd(<term>)``.

        ``cond_var="joint"`` includes the uncertainty of the estimated parameters (as
        glmmTMB's ``ranef(condVar=TRUE)``, from TMB's sdreport); ``"conditional"`` gives
        lme4's H^-1 only; ``None`` skips them.
        """
        re = self.model.random_effects
        blocks = self._conditional_blocks(cond_var == "joint") if cond_var else None
        out = {}
        for k, (t, off, lam) in enumerate(zip(re.terms, re.offsets, re.factors(self.theta))):
            b = self.state.b[off: off + t.n_levels * t.size].reshape(t.n_levels, t.size)
            u = b @ lam.T
            frame = pd.DataFrame(u, index=pd.Index(t.levels, name=t.group_name),
                                 columns=t.term_names)
            if blocks is not None:
                sd = np.sqrt(np.diagonal(blocks[k], axis1=1, axis2=2))
                for i, name in enumerate(t.term_names):
                    frame[f"sd({name})"] = sd[:, i]
            key = t.group_name
            while key in out:
                key += "'"
            out[key] = frame
        return out

    # ---- prediction and simulation -----------------------------------------
    def _new_design(self, newdata):
        frame = self.model.frame
        if not isinstance(newdata, pd.DataFrame):
            raise GLMMInputError("newdata must be a pandas DataFrame")
        nd = newdata.copy()
        for col in frame.data.columns:
            if isinstance(frame.data[col].dtype, pd.CategoricalDtype) and col in nd.columns:
                cats = frame.data[col].cat.categories
                values = nd[col].astype(type(cats[0])) if len(cats) and \
                    not isinstance(nd[col].dtype, pd.CategoricalDtype) and \
                    pd.api.types.is_numeric_dtype(pd.Series(cats)) else nd[col]
                unknown = ~pd.Series(values).isin(cats).to_numpy() & pd.notna(values)
                if unknown.any() and col not in self._group_columns():
                    raise GLMMInputError(f"newdata column {col!r} has levels not in the fit: "
                                         f"{sorted(set(np.asarray(values)[unknown].astype(str)))}")
                nd[col] = pd.Categorical(values, categories=cats)
        offset = np.zeros(len(nd))
        for expr in self.model.formula.offsets:
            offset += evaluate_expression(expr, nd)
        return nd, self.model.fixed.matrix_for(nd), offset

    def _group_columns(self):
        return {c.strip("` ") for t in self.model.random_effects.terms for c in t.group_name.split(":")}

    def predict(self, newdata=None, type="response", re_form=None):
        """Predictions on the response or link scale.

        ``re_form=None`` includes the conditional modes (levels not seen in the fit
        get zero), ``re_form="~0"`` (or ``NA``) gives population-level predictions.
        """
        if type not in ("response", "link"):
            raise GLMMInputError("type must be 'response' or 'link'")
        population = re_form is not None and str(re_form).replace(" ", "") in ("~0", "NA", "nan")
        if re_form is not None and not population:
            raise GLMMInputError("re_form must be None (all random effects) or '~0'")
        re = self.model.random_effects
        aux = self.state.aux
        if newdata is None:
            eta = self.state.eta.copy()
            if population:
                eta = self.model.X @ self.params.to_numpy() + self.model.offset
        else:
            nd, X, offset = self._new_design(newdata)
            m = self.model
            aux = {}
            for name, coefs in self.aux_coefficients.items():
                fe = m.aux_fixed.get(name)
                design = np.ones((len(nd), coefs.size)) if fe is None else fe.matrix_for(nd)
                aux[name] = design @ coefs + m.aux_offsets[name]
            eta = X @ self.params.to_numpy() + offset
            if not population:
                for t, off, lam in zip(re.terms, re.offsets, re.factors(self.theta)):
                    b = self.state.b[off: off + t.n_levels * t.size].reshape(t.n_levels, t.size)
                    u = b @ lam.T
                    codes = t.codes_for(nd)
                    Z = t.design.matrix_for(nd)
                    contrib = np.einsum("ik,ik->i", Z, u[np.maximum(codes, 0)])
                    eta += np.where(codes >= 0, contrib, 0.0)
        if type == "link":
            return eta
        # E(y): the conditional mean, times (1 - pi) under zero inflation (as glmmTMB)
        return self.family.mean(self.family.link.inverse(eta), aux)

    @property
    def fittedvalues(self):
        return self.predict()

    def resid_pearson(self):
        mu = self.predict()
        m = self.model
        aux = self.state.aux
        if self.family.has_trials:
            return (m.y - m.trials * mu) / np.sqrt(self.family.variance(mu, aux, m.trials))
        return (m.y - mu) / np.sqrt(self.family.variance(mu, aux, m.trials))

    def simulate(self, nsim=1, seed=None, re="new"):
        """Responses simulated from the fit, shape (nobs, nsim).

        ``re="new"`` draws the random effects anew (glmmTMB's default);
        ``re="conditional"`` keeps them at their conditional modes.  Binomial
        responses are numbers of successes out of the fit's trials.
        """
        if re not in ("new", "conditional"):
            raise GLMMInputError("re must be 'new' or 'conditional'")
        m = self.model
        fixed_eta = m.X @ self.params.to_numpy() + m.offset
        return simulate_responses(m, self.family, fixed_eta, self.state.aux, nsim, seed,
                                  A=self.state.A,
                                  eta=None if re == "new" else self.state.eta)

    # ---- printing ----------------------------------------------------------
    def summary(self):
        return Summary(self)

    def __repr__(self):
        return (f"<GLMMResults {self.family.name}({self.family.link.name}) {self.formula!r}: "
                f"logLik {self.llf:.4f}, {'converged' if self.converged else 'NOT CONVERGED'}>")
