"""Starting values for the optimizer (the third stage of a fit): fixed effects from a
GLM without the random effects, variance parameters by moments, the family's own
starting values for its auxiliary parameters."""
from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm

from .errors import GLMMInputError
from .optimizer import rescaled
from .parameters import Kind

GLM_START_ROWS = 5_000


def start_vector(model, objective, start=None) -> np.ndarray:
    """The objective's starting point: ``start`` as given (checked), or ``starting_values``
    computed on the model's distinct rows."""
    names = objective.parameters.names
    if start is None:
        return objective.start(starting_values(model, glm_rows=model.distinct_rows))
    p0 = np.asarray(start, float)
    if p0.size != len(names):
        raise GLMMInputError(f"start has {p0.size} values; the model has {len(names)} "
                             f"parameters: {', '.join(names)}")
    return p0


def starting_values(model, glm_rows=None) -> np.ndarray:
    """beta from a GLM without the random effects (statsmodels), variance parameters from
    ``_theta_start``.

    Both are computed on ``glm_rows`` when given: the model's distinct rows with their
    weights give the same estimates.  On large data the GLM is fitted to a seeded random
    subset of the rows: starting values need to be close, not exact, and the full GLM
    would cost more than the mixed model's own iterations."""
    fam = model.family
    lay = model.layout
    data = model if glm_rows is None else glm_rows
    start = np.zeros(lay.size)
    mu = None
    if lay.n_beta:
        glm_family = fam.glm_family()
        rows = np.arange(data.nobs)
        if data.nobs > GLM_START_ROWS:
            rows = np.sort(np.random.default_rng(0).choice(data.nobs, GLM_START_ROWS, replace=False))
        if fam.has_trials:
            endog = np.column_stack([data.y[rows], data.trials[rows] - data.y[rows]])
        else:
            endog = data.y[rows]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.GLM(endog, data.X[rows], family=glm_family, offset=data.offset[rows],
                             var_weights=data.weights[rows]).fit()
            if np.all(np.isfinite(res.params)):
                start[lay.beta] = res.params
                mu = fam.link.inverse(model.X @ res.params + model.offset)
        except Exception:  # a failed GLM start is not fatal: start at zero
            pass
    if mu is None:
        mu = fam.link.inverse(model.X @ start[lay.beta] + model.offset)
    aux = fam.start_aux(model.y, mu, model.trials)
    for name, value in aux.items():
        if lay.aux_sizes[name]:
            start[lay.aux(name)][0] = value
    start[lay.theta] = _theta_start(data, start[lay.beta], aux)
    return start


def _theta_start(model, beta, aux):
    """Variance parameters to start from: SD 1, except a random intercept's SD, which is
    estimated by moments from the GLM fit.

    One Fisher-scoring step from b = 0 estimates each group's effect on the link scale,
    d_j = sum(g) / sum(w) over the group's rows (g the score, w the expected information
    at the GLM fit), with sampling variance 1 / sum(w); so sigma^2 is about
    mean(d_j^2 - 1 / sum(w)).  Starting near it spares the optimizer its longest
    stretch, the walk of log(sigma) from 0."""
    re = model.random_effects
    theta = re.theta_start()
    intercepts = _random_intercepts(model)
    if not intercepts:
        return theta
    score, info = _glm_score_and_information(model, beta, aux)
    if not (np.all(np.isfinite(score)) and np.all(np.isfinite(info))):
        return theta
    for k in intercepts:
        term = re.terms[k]
        total_info = np.bincount(term.codes, weights=info, minlength=term.n_levels)
        total_score = np.bincount(term.codes, weights=score, minlength=term.n_levels)
        seen = total_info > 0
        if seen.sum() < 2:
            continue
        variance = np.mean(total_score[seen] ** 2 / total_info[seen] ** 2 - 1 / total_info[seen])
        sd = np.sqrt(variance) if variance > 0 else 0.1
        theta[re.theta_slices[k]] = np.log(np.clip(sd, 0.1, 5.0))
    return theta


def _random_intercepts(model):
    """The terms that are a scalar random intercept: one parameter, its log SD (us or
    diag), on a column of ones."""
    re = model.random_effects
    theta_parameters = model.parameters[model.parameters.layout.theta]
    return [k for k, (t, sl) in enumerate(zip(re.terms, re.theta_slices))
            if [p.kind for p in theta_parameters[sl]] == [Kind.LOG_SD]
            and np.all(t.design.X[:, 0] == 1.0)]


def _glm_score_and_information(model, beta, aux):
    """Per row, the score and the expected information in eta at the GLM fit (weighted)."""
    fam = model.family
    eta = model.X @ beta + model.offset
    with np.errstate(all="ignore"):
        score = fam.eta_derivatives(model.y, eta, aux, model.trials, need_aux=False).g
        info = fam.fisher_weights(eta, aux, model.trials)
    return score * model.weights, info * model.weights


def search_scale(model, objective, p0):
    """Scales for the quasi-Newton search of a crossed model (``optimizer.rescaled``), from
    the curvature of L at the start estimated by level; None for other models.

    The curvatures of crossed models differ by orders of magnitude (VerbAgg: 5e4 for the
    uncentred Anger score, 50 for a contrast of the items), and L-BFGS, which starts from
    the identity, then spends dozens of evaluations learning them.  With I_j the GLM's
    information in level j of a random intercept of SD sigma and s_j = sigma^2 I_j /
    (1 + sigma^2 I_j) the share of it the random effect absorbs, the curvature is about
    2 sum_j s_j^2 in log sigma (the information of the level means' spread) and, for a
    fixed-effect column x, x'Wx less the part the levels absorb, sum_j (sum_i w_i x_i)^2
    s_j / I_j (the largest over the terms: crossed terms absorb much the same part).
    Parameters without an estimate (auxiliary ones, slopes, correlations) get the
    median scale."""
    blocks = getattr(objective, "blocks", None)
    if model.REML or blocks is None or not blocks.coupled:
        return None
    data = objective.model              # the rows the objective sums over, with their weights
    intercepts = _random_intercepts(data)
    lay, re = data.layout, data.random_effects
    _, info = _glm_score_and_information(data, p0[lay.beta], objective.aux_values(p0))
    if not intercepts or not np.all(np.isfinite(info)):
        return None
    curvature = np.zeros(lay.size)
    theta_curvature = curvature[lay.theta]          # a view
    absorbed = np.zeros(lay.n_beta)
    for k in intercepts:
        term, sl = re.terms[k], re.theta_slices[k]
        variance = np.exp(2 * p0[lay.theta][sl][0])
        level_info = np.bincount(term.codes, weights=info, minlength=term.n_levels)
        share = variance * level_info / (1 + variance * level_info)
        theta_curvature[sl] = 2 * np.sum(share ** 2)
        seen = level_info > 0
        level_sums = np.stack([np.bincount(term.codes, weights=info * x, minlength=term.n_levels)
                               for x in data.X.T], axis=1)[seen]
        absorbed = np.maximum(absorbed, (share[seen] / level_info[seen]) @ level_sums ** 2)
    curvature[lay.beta] = np.einsum("ic,i,ic->c", data.X, info, data.X) - absorbed
    return rescaled(np.diag(curvature))
