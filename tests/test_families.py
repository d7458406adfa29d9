"""Stage 3: response families.

- ``loglik`` against scipy.stats for each family, with glmmTMB's parameterization read off
  ``family.sigma()`` (nbinom1: size mu/phi, prob 1/(1+phi); nbinom2: size theta,
  prob theta/(theta+mu); Gamma: shape 1/sigma^2; beta: shapes mu phi, (1-mu) phi; ...);
- ``variance`` against scipy's variance;
- ``eta_derivatives`` (g = dl/deta, w = -d2l/deta2, w3 = -d3l/deta3 and, per auxiliary
  parameter, dl/da, dg/da, dw/da) against central finite differences, for every family x link.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from glmm_lib import families as fam
from glmm_lib.errors import GLMMInputError

RNG = np.random.default_rng(20261125)
N = 12


def _counts():
    # zeros, small counts and counts above the NB1 ascending-sum cap (64)
    return np.array([0, 0, 1, 2, 3, 5, 8, 13, 21, 40, 70, 150], dtype=float)


def _trials():
    return np.array([1, 1, 2, 5, 5, 10, 10, 20, 20, 40, 40, 40], dtype=float)


def response(family):
    """Valid responses (and binomial trials) for a family."""
    name = family.name
    if family.has_trials:
        trials = _trials()
        y = np.minimum(trials, np.array([0, 1, 1, 0, 5, 3, 7, 10, 20, 1, 39, 17], dtype=float))
        return y, trials
    if isinstance(family, fam.ZeroInflated) or name in ("poisson", "nbinom1", "nbinom2"):
        return _counts(), np.ones(N)
    if name == "Gamma":
        return RNG.gamma(2.0, 1.5, N), np.ones(N)
    if name == "beta":
        return RNG.uniform(0.02, 0.98, N), np.ones(N)
    return RNG.normal(1.0, 2.0, N), np.ones(N)    # gaussian, t


def linear_predictor(family):
    """eta where the link's mean is valid for the family."""
    link = family.link.name
    base = np.linspace(0.0, 1.0, N)
    if link in ("logit", "probit", "cloglog"):
        return -2.0 + 4.0 * base
    if link == "log":
        return -2.0 + 1.8 * base if family.has_trials else -1.0 + 3.5 * base
    if link == "inverse":
        return 0.3 + 1.7 * base
    # identity
    if family.name in ("gaussian", "t"):
        return -3.0 + 6.0 * base
    return 0.5 + 3.0 * base


def aux_values(family, scale=1.0):
    """Per-observation auxiliary parameters on the optimizer's scale."""
    values = {}
    for k, p in enumerate(family.aux_parameters):
        if p.name == "zi":
            values[p.name] = np.full(N, -0.7)
        elif p.name == "log_df":
            values[p.name] = np.full(N, np.log(6.0))
        else:
            values[p.name] = np.full(N, 0.3 * scale - 0.2 * k)
    return values


def all_families():
    out = []
    for key in ("gaussian", "poisson", "binomial", "nbinom1", "nbinom2", "gamma", "beta", "t"):
        if key not in fam.FAMILIES:
            continue
        cls = fam.FAMILIES[key]
        for link in cls.links:
            out.append(pytest.param(lambda c=cls, ln=link: c(ln), id=f"{key}-{link}"))
    if "t" in fam.FAMILIES:
        out.append(pytest.param(lambda: fam.FAMILIES["t"]("identity", df=4.0), id="t-df4"))
    if hasattr(fam, "ZeroInflated"):
        for key in ("poisson", "nbinom1", "nbinom2"):
            out.append(pytest.param(lambda k=key: fam.ZeroInflated(fam.FAMILIES[k]()),
                                    id=f"zi-{key}"))
    return out


# ---------------------------------------------------------------- densities vs scipy

def scipy_logpdf(family, y, mu, aux, trials):
    s = family.sigma({k: v[0] for k, v in aux.items()})
    base = family.base if isinstance(family, fam.ZeroInflated) else family
    name = base.name
    if name == "gaussian":
        out = stats.norm.logpdf(y, mu, s)
    elif name == "poisson":
        out = stats.poisson.logpmf(y, mu)
    elif name == "binomial":
        out = stats.binom.logpmf(y, trials, mu)
    elif name == "nbinom1":           # Var = mu (1 + phi): size mu/phi, prob 1/(1+phi)
        out = stats.nbinom.logpmf(y, mu / s, 1 / (1 + s))
    elif name == "nbinom2":           # Var = mu + mu^2/theta: size theta
        out = stats.nbinom.logpmf(y, s, s / (s + mu))
    elif name == "Gamma":             # sigma = CV = 1/sqrt(shape)
        out = stats.gamma.logpdf(y, 1 / s**2, scale=mu * s**2)
    elif name == "beta":              # sigma = phi
        out = stats.beta.logpdf(y, mu * s, (1 - mu) * s)
    elif name == "t":
        nu = base.df if base.df is not None else np.exp(aux["log_df"])
        out = stats.t.logpdf(y, nu, mu, s)
    else:
        raise AssertionError(name)
    if isinstance(family, fam.ZeroInflated):
        pi = special.expit(aux["zi"])
        out = np.where(y == 0, np.log(pi + (1 - pi) * np.exp(out)), np.log1p(-pi) + out)
    return out


@pytest.mark.parametrize("make", all_families())
def test_loglik_matches_scipy(make):
    family = make()
    y, trials = response(family)
    mu = family.link.inverse(linear_predictor(family))
    aux = aux_values(family)
    ours = family.loglik(y, mu, aux, trials)
    np.testing.assert_allclose(ours, scipy_logpdf(family, y, mu, aux, trials), rtol=1e-9,
                               atol=1e-9)
    # kernel + normalizer is the whole log density
    np.testing.assert_allclose(family.kernel(y, mu, aux, trials)
                               + family.normalizer(y, trials), ours, rtol=1e-10, atol=1e-10)


def scipy_variance(family, mu, aux, trials):
    s = family.sigma({k: v[0] for k, v in aux.items()})
    base = family.base if isinstance(family, fam.ZeroInflated) else family
    name = base.name
    var = {"gaussian": lambda: np.full_like(mu, s**2),
           "poisson": lambda: stats.poisson.var(mu),
           "binomial": lambda: stats.binom.var(trials, mu),
           "nbinom1": lambda: stats.nbinom.var(mu / s, 1 / (1 + s)),
           "nbinom2": lambda: stats.nbinom.var(s, s / (s + mu)),
           "Gamma": lambda: stats.gamma.var(1 / s**2, scale=mu * s**2),
           "beta": lambda: stats.beta.var(mu * s, (1 - mu) * s),
           "t": lambda: stats.t.var(base.df if base.df is not None else np.exp(aux["log_df"]),
                                    mu, s)}[name]()
    if isinstance(family, fam.ZeroInflated):
        pi = special.expit(aux["zi"])
        var = (1 - pi) * (var + mu**2) - ((1 - pi) * mu) ** 2
    return var


@pytest.mark.parametrize("make", all_families())
def test_variance_matches_scipy(make):
    family = make()
    _, trials = response(family)
    mu = family.link.inverse(linear_predictor(family))
    aux = aux_values(family)
    np.testing.assert_allclose(family.variance(mu, aux, trials),
                               scipy_variance(family, mu, aux, trials), rtol=1e-10)


@pytest.mark.parametrize("make", all_families())
def test_simulate_has_the_family_mean(make):
    family = make()
    y, trials = response(family)
    mu = family.link.inverse(linear_predictor(family))[:4]
    aux = {k: v[:4] for k, v in aux_values(family).items()}
    trials = trials[:4]
    rng = np.random.default_rng(1)
    draws = np.stack([family.simulate(mu, aux, trials, rng) for _ in range(4000)])
    mean = (family.mean(mu, aux) if isinstance(family, fam.ZeroInflated)
            else mu * trials if family.has_trials else mu)
    sd = np.sqrt(scipy_variance(family, mu, aux, trials))
    # 4000 draws: the mean is within 5 standard errors
    assert np.all(np.abs(draws.mean(axis=0) - mean) <= 5 * sd / np.sqrt(4000) + 1e-12)


# ---------------------------------------------------------------- derivatives in eta

def _finite_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("make", all_families())
def test_eta_derivatives_match_finite_differences(make):
    family = make()
    y, trials = response(family)
    eta = linear_predictor(family)
    aux = aux_values(family)

    def d(e, a=aux):
        return family.eta_derivatives(y, e, a, trials, need_aux=True)

    def loglik(e, a=aux):
        return family.loglik(y, family.link.inverse(e), a, trials)

    h = 1e-5
    at = d(eta)
    close(at.g, _finite_difference(loglik, eta, h), 1e-6, "g = dl/deta")
    close(at.w, -_finite_difference(lambda e: d(e).g, eta, h), 1e-6, "w = -d2l/deta2")
    close(at.w3, _finite_difference(lambda e: d(e).w, eta, h), 1e-5, "w3 = -d3l/deta3")
    # the kernel returned with the derivatives is log f up to a parameter-free term
    close(at.loglik - loglik(eta), d(eta - 0.1).loglik - loglik(eta - 0.1), 1e-9, "kernel")

    names = [p.name for p in family.aux_parameters]
    assert sorted(at.aux) == sorted(names)
    for name in names:
        la, ga, wa = at.aux[name]

        def shifted(t, name=name):
            moved = dict(aux)
            moved[name] = aux[name] + t
            return moved

        close(la, _finite_difference(lambda t: loglik(eta, shifted(t)), 0.0, h), 1e-6,
              f"dl/d{name}")
        close(ga, _finite_difference(lambda t: d(eta, shifted(t)).g, 0.0, h), 1e-6,
              f"dg/d{name}")
        close(wa, _finite_difference(lambda t: d(eta, shifted(t)).w, 0.0, h), 1e-5,
              f"dw/d{name}")


def close(ours, reference, tol, what):
    """|ours - reference| <= tol (1 + |reference|) elementwise."""
    ours, reference = np.broadcast_arrays(np.asarray(ours, float), np.asarray(reference, float))
    bad = ~(np.abs(ours - reference) <= tol * (1 + np.abs(reference)))
    assert not bad.any(), (f"{what}: rows {np.flatnonzero(bad).tolist()}: {ours[bad]} vs "
                           f"finite differences {reference[bad]}")


def _exponential_with_fixed_dispersion(make):
    # exponential families for fixed dispersion (not nbinom1, whose size depends on mu:
    # there (dmu/deta)^2 / Var(y) is only the quasi-likelihood weight)
    family = make()
    return family.name in ("poisson", "binomial", "nbinom2", "gaussian") and \
        not isinstance(family, fam.ZeroInflated)


@pytest.mark.parametrize("make", [m for m in all_families()
                                  if _exponential_with_fixed_dispersion(m.values[0])])
def test_fisher_weights_are_expected_information(make):
    """Fisher scoring weights are the expected information in eta, E_y[w(y)] = E[-d2l/deta2],
    computed here by summing over the support (for y successes out of n trials that is
    n (dmu/deta)^2 / (mu (1 - mu)), mu the probability)."""
    family = make()
    _, trials = response(family)
    eta = linear_predictor(family)
    aux = aux_values(family)
    mu = family.link.inverse(eta)
    expected = np.empty(N)
    for i in range(N):
        one = {k: v[i: i + 1] for k, v in aux.items()}
        if family.name == "gaussian":      # w is linear in y: E[w] = w at y = mu
            support, prob = mu[i: i + 1], np.ones(1)
        else:
            top = int(trials[i]) if family.has_trials else 3000
            support = np.arange(top + 1, dtype=float)
            prob = np.exp(family.loglik(support, np.full(support.size, mu[i]),
                                        {k: np.full(support.size, v[0]) for k, v in one.items()},
                                        np.full(support.size, trials[i])))
        w = family.eta_derivatives(support, np.full(support.size, eta[i]),
                                   {k: np.full(support.size, v[0]) for k, v in one.items()},
                                   np.full(support.size, trials[i]), need_aux=False).w
        expected[i] = np.sum(prob * w)
    np.testing.assert_allclose(family.fisher_weights(eta, aux, trials), expected, rtol=1e-8)


# ---------------------------------------------------------------- links

@pytest.mark.parametrize("name", ["identity", "log", "logit", "probit", "cloglog", "inverse"])
def test_link_derivatives(name):
    from glmm_lib.links import LINKS
    link = LINKS[name]
    eta = np.linspace(0.2, 1.7, 7) if name == "inverse" else np.linspace(-1.5, 1.5, 7)
    mu, m1, m2, m3 = link.derivs(eta)
    np.testing.assert_allclose(mu, link.inverse(eta), rtol=1e-12)
    np.testing.assert_allclose(link.link(mu), eta, rtol=1e-10, atol=1e-12)
    h = 1e-5
    np.testing.assert_allclose(m1, _finite_difference(link.inverse, eta, h), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(m2, _finite_difference(lambda e: link.derivs(e)[1], eta, h),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(m3, _finite_difference(lambda e: link.derivs(e)[2], eta, h),
                               rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- names and links

def test_get_family_by_name_and_object():
    assert fam.get_family("nbinom1").name == "nbinom1"
    assert fam.get_family("Poisson").name == "poisson"         # case does not matter
    obj = fam.Binomial("probit")
    assert fam.get_family(obj) is obj
    assert fam.get_family(obj, "probit") is obj
    with pytest.raises(GLMMInputError, match="conflicts"):
        fam.get_family(obj, "cloglog")
    assert fam.get_family(fam.Binomial).link.name == "logit"


@pytest.mark.parametrize("key, default", [("gaussian", "identity"), ("poisson", "log"),
                                          ("binomial", "logit"), ("nbinom1", "log"),
                                          ("nbinom2", "log")])
def test_default_links(key, default):
    assert fam.get_family(key).link.name == default


def test_unknown_link_names_the_choices():
    with pytest.raises(GLMMInputError, match="no link 'logit'") as err:
        fam.get_family("poisson", "logit")
    assert "log" in str(err.value)


@pytest.mark.parametrize("top", [16, 40])
def test_ascending_sums_match_the_special_functions(top):
    """The NB1 finite sums against scipy, s from tiny to large: counts up to 16 (the
    one-table path), and larger counts (the step loop, and the special functions
    beyond the cap of 64)."""
    rng = np.random.default_rng(7)
    extra = [0, 1, 16] if top == 16 else [0, 1, 16, 17, 33, 64, 65, 300]
    y = np.concatenate([rng.integers(0, top, 500), extra]).astype(float)
    s = np.exp(rng.uniform(np.log(1e-6), np.log(1e4), y.size))
    sums = fam.AscendingSums(y)
    assert (sums._table is not None) == (top == 16)
    lg, psi0, psi1, psi2 = sums(s)
    np.testing.assert_allclose(lg, special.gammaln(y + s) - special.gammaln(s), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(psi0, special.digamma(y + s) - special.digamma(s), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(psi1, special.polygamma(1, y + s) - special.polygamma(1, s),
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(psi2, special.polygamma(2, y + s) - special.polygamma(2, s),
                               rtol=1e-8, atol=1e-12)


def test_ascending_sums_survive_products_that_overflow():
    """s so large that 16 factors overflow a double: the log-sum falls back term by term
    (log Gamma differences would cancel to nothing here)."""
    for y in (np.array([30.0, 5.0, 20.0]), np.array([16.0, 5.0, 12.0])):
        s = np.array([7e20, 1e25, 3.0])
        lg = fam.AscendingSums(y)(s)[0]
        expected = [math.fsum(math.log(si + j) for j in range(int(yi))) for yi, si in zip(y, s)]
        np.testing.assert_allclose(lg, expected, rtol=1e-14)


def test_nbinom1_recomputes_its_sums_for_a_new_response():
    """The NB1 family keeps the ascending sums of the response it last saw; a second
    response (another model, or the distinct rows) must not reuse them."""
    family = fam.get_family("nbinom1")
    mu, aux = np.full(N, 2.5), {"log_phi": np.full(N, 0.4)}
    first, second = _counts(), _counts()[::-1].copy()
    family.loglik(first, mu, aux, np.ones(N))
    phi = np.exp(0.4)
    expected = stats.nbinom.logpmf(second, mu / phi, 1 / (1 + phi))
    np.testing.assert_allclose(family.loglik(second, mu, aux, np.ones(N)), expected, rtol=1e-12)


# ---------------------------------------------------------------- properties callers ask for

# glmmTMB's definitions: dispformula models sigma() (not the t family's df), VarCorr shows a
# "Residual" row for the gaussian family only, its summary reports sigma^2 for its
# "classic" dispersion families (gaussian, Gamma, t); emmeans labels response-scale means
# "prob" for binomial and "rate" for Poisson families; REML is for gaussian-identity models
@pytest.mark.parametrize("make, dispersion, residual, sigma2, label, normal_linear, poisson_log", [
    (lambda: fam.get_family("gaussian"), "log_sigma2", True, True, "response", True, False),
    (lambda: fam.get_family("gaussian", "log"), "log_sigma2", True, True, "response", False, False),
    (lambda: fam.get_family("poisson"), None, False, False, "rate", False, True),
    (lambda: fam.get_family("poisson", "identity"), None, False, False, "rate", False, False),
    (lambda: fam.get_family("binomial"), None, False, False, "prob", False, False),
    (lambda: fam.get_family("nbinom1"), "log_phi", False, False, "response", False, False),
    (lambda: fam.get_family("nbinom2"), "log_theta", False, False, "response", False, False),
    (lambda: fam.get_family("Gamma"), "log_sigma", False, True, "response", False, False),
    (lambda: fam.get_family("beta"), "log_phi", False, False, "response", False, False),
    (lambda: fam.get_family("t"), "log_sigma", False, True, "response", False, False),
    (lambda: fam.StudentT(df=3), "log_sigma", False, True, "response", False, False),
    (lambda: fam.ZeroInflated(fam.get_family("poisson")), None, False, False, "rate", False, False),
    (lambda: fam.ZeroInflated(fam.get_family("nbinom2")), "log_theta", False, False, "response",
     False, False),
])
def test_family_properties(make, dispersion, residual, sigma2, label, normal_linear, poisson_log):
    family = make()
    assert family.dispersion_parameter == dispersion
    assert family.has_residual_variance is residual
    assert family.reports_sigma_squared is sigma2
    assert family.response_scale_label == label
    assert family.is_normal_linear is normal_linear
    assert family.is_poisson_log is poisson_log
    zero_inflated = isinstance(family, fam.ZeroInflated)
    assert family.zero_inflation_parameter == ("zi" if zero_inflated else None)


@pytest.mark.parametrize("small, large, relation", [
    ("poisson", "poisson", "same"), ("poisson", "nbinom1", "boundary"),
    ("poisson", "nbinom2", "boundary"), ("gaussian", "t", "boundary"),
    ("nbinom1", "poisson", None), ("nbinom1", "nbinom2", None), ("binomial", "poisson", None),
])
def test_relation_between_families(small, large, relation):
    assert fam.get_family(small).relation_to(fam.get_family(large)) == relation
    zero_inflated = fam.ZeroInflated(fam.get_family(small))
    if small in ("poisson", "nbinom1"):
        assert zero_inflated.relation_to(fam.get_family(large)) == relation
