"""Covariance structures of a random-effects term, in glmmTMB's names.

A term with ``s`` coefficients per group level has covariance Sigma = Lambda
Lambda', where Lambda is the lower-triangular factor returned by
``factor(theta)`` for an unconstrained parameter vector theta.  The
optimizer works on theta; ``report`` turns theta into the standard
deviations and correlations that summaries print.

``factor`` is written with arithmetic that stays valid for complex input, so
its derivative is exact by the complex-step method (``jacobian``) without a
hand-written derivative for every structure.
"""
from __future__ import annotations

import functools

import numpy as np

from .parameters import LOG, Kind, Parameter, Transform

_STEP = 1e-30


def _complex_cholesky(matrix):
    """Cholesky factor without conjugation, so it is analytic in complex-step input."""
    n = matrix.shape[0]
    out = np.zeros_like(matrix)
    for j in range(n):
        d = matrix[j, j] - np.sum(out[j, :j] * out[j, :j])
        out[j, j] = np.sqrt(d)
        for i in range(j + 1, n):
            out[i, j] = (matrix[i, j] - np.sum(out[i, :j] * out[j, :j])) / out[j, j]
    return out


def _expit(x):
    return 1 / (1 + np.exp(-x))


class CovStructure:
    name = "structure"

    def __init__(self, size: int):
        self.size = size

    @property
    def n_params(self) -> int:
        raise NotImplementedError

    def start(self) -> np.ndarray:
        return np.zeros(self.n_params)

    def factor(self, theta):
        raise NotImplementedError

    def covariance(self, theta):
        lam = self.factor(np.asarray(theta, float))
        return lam @ lam.T

    def jacobian(self, theta):
        """d Lambda / d theta_k for each k, exact by complex step."""
        theta = np.asarray(theta, float)
        out = []
        for k in range(self.n_params):
            shifted = theta.astype(complex)
            shifted[k] += 1j * _STEP
            out.append(self.factor(shifted).imag / _STEP)
        return out

    def report(self, theta) -> dict:
        cov = self.covariance(theta)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
        return {"sd": sd, "corr": corr if self.size > 1 else None}

    def parameters(self, term_names) -> list:
        """The structure's parameters in the order of theta, named for display."""
        raise NotImplementedError


def _log_sds(term_names):
    return [Parameter(f"log_sd({t})", Kind.LOG_SD, LOG, natural_name=f"sd_{t}")
            for t in term_names]


# correlations: each structure maps its parameters to them in its own way (``factor``)
_UNIT_ROWS = Transform("normalised rows of a unit lower-triangular matrix")
_CS_RHO = Transform("rho = lower + (1 - lower) expit(x), lower = -1/(size - 1)")
_AR1_RHO = Transform("rho = x / sqrt(1 + x^2)", lambda x: x / np.sqrt(1 + x * x))


class Unstructured(CovStructure):
    """us: log standard deviations, then the correlation through a unit lower-triangular
    matrix whose rows are normalised (the form glmmTMB uses)."""
    name = "us"

    @property
    def n_params(self):
        return self.size + self.size * (self.size - 1) // 2

    @functools.cached_property
    def _strict_lower(self):
        """np.tril_indices(size, -1), made once: it costs 20 us, a factor 5 us."""
        return np.tril_indices(self.size, -1)

    def factor(self, theta):
        s = self.size
        sd = np.exp(theta[:s])
        if s == 1:
            return sd.reshape(1, 1)
        unit = np.eye(s, dtype=theta.dtype)
        unit[self._strict_lower] = theta[s:]
        norms = np.sqrt(np.sum(unit * unit, axis=1))
        return sd[:, None] * (unit / norms[:, None])

    def jacobian(self, theta):
        """d Lambda / d theta_k in closed form (the complex step costs one factor per
        parameter, and an 8 x 8 us term has 36).  Each parameter moves one row of
        Lambda: log sd_i scales row i; the lower-triangular entry u_ij moves row i
        through its normalization, d(u/|u|)/du_j = e_j/|u| - u u_j/|u|^3."""
        theta = np.asarray(theta, float)
        s = self.size
        if s == 1:
            return [np.exp(theta).reshape(1, 1)]
        sd = np.exp(theta[:s])
        unit = np.eye(s)
        rows, cols = self._strict_lower
        unit[rows, cols] = theta[s:]
        norms = np.sqrt(np.sum(unit * unit, axis=1))
        lam = sd[:, None] * unit / norms[:, None]
        out = []
        for i in range(s):
            d = np.zeros((s, s))
            d[i] = lam[i]
            out.append(d)
        for i, j in zip(rows, cols):
            d = np.zeros((s, s))
            d[i] = -sd[i] * unit[i] * unit[i, j] / norms[i] ** 3
            d[i, j] += sd[i] / norms[i]
            out.append(d)
        return out

    def parameters(self, term_names):
        # the strict lower triangle row by row, as np.tril_indices (which costs 20 us)
        return _log_sds(term_names) + [
            Parameter(f"corr_par({term_names[i]},{term_names[j]})", Kind.CORRELATION, _UNIT_ROWS)
            for i in range(self.size) for j in range(i)]


class Diagonal(CovStructure):
    """diag (and lme4's ||): independent effects, one SD each."""
    name = "diag"

    @property
    def n_params(self):
        return self.size

    def factor(self, theta):
        return np.diag(np.exp(theta))

    def report(self, theta):
        return {"sd": np.exp(np.asarray(theta, float)), "corr": None}

    def parameters(self, term_names):
        return _log_sds(term_names)


class CompoundSymmetry(CovStructure):
    """cs: heterogeneous SDs and one common correlation, kept in (-1/(s-1), 1)."""
    name = "cs"

    @property
    def n_params(self):
        return self.size + 1

    def rho(self, theta):
        lower = -1.0 / (self.size - 1) if self.size > 1 else -1.0
        return lower + (1 - lower) * _expit(theta[-1])

    def factor(self, theta):
        s = self.size
        sd = np.exp(theta[:s])
        rho = self.rho(theta)
        corr = rho * np.ones((s, s), dtype=theta.dtype) + (1 - rho) * np.eye(s)
        return _complex_cholesky(sd[:, None] * corr * sd[None, :])

    def start(self):
        out = np.zeros(self.n_params)
        out[-1] = -np.log(self.size) if self.size > 1 else 0.0  # rho near 0
        return out

    def report(self, theta):
        out = super().report(theta)
        out["rho"] = float(self.rho(np.asarray(theta, float)))
        return out

    def parameters(self, term_names):
        return _log_sds(term_names) + [Parameter("rho_par", Kind.CORRELATION, _CS_RHO)]


class AR1(CovStructure):
    """ar1: one SD and correlation rho^|i-j| between ordered levels; rho = t/sqrt(1+t^2)."""
    name = "ar1"

    @property
    def n_params(self):
        return 2

    def rho(self, theta):
        return theta[1] / np.sqrt(1 + theta[1] ** 2)

    def factor(self, theta):
        s = self.size
        rho = self.rho(theta)
        lag = np.subtract.outer(np.arange(s), np.arange(s))
        tail = np.sqrt(1 - rho * rho)
        powers = np.where(lag >= 0, rho ** np.maximum(lag, 0), 0)
        scale = np.where(np.arange(s) == 0, 1.0, tail)[None, :]
        return np.exp(theta[0]) * np.tril(powers * scale)

    def report(self, theta):
        out = super().report(theta)
        out["rho"] = float(self.rho(np.asarray(theta, float)))
        return out

    def parameters(self, term_names):
        return [Parameter("log_sd", Kind.LOG_SD, LOG, natural_name="sd"),
                Parameter("rho_par", Kind.CORRELATION, _AR1_RHO)]


STRUCTURES = {"us": Unstructured, "diag": Diagonal, "cs": CompoundSymmetry, "ar1": AR1}
