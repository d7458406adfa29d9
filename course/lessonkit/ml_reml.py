"""ML against REML on simulated data: the Day 1 demonstration that maximum likelihood
underestimates variance components on a small design and REML does not (on average).

:func:`variance_estimates` draws data sets from a model given with ``gl.specify``, fits
each by ML and by REML with glmm_lib, and returns the estimated variances; the lesson
summarises and plots them.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import glmm_lib as gl

__all__ = ["variance_estimates", "summarise_estimates", "plot_variance_estimates",
           "describe_variance_estimates"]


def variance_estimates(spec, response: str, group: str, nsim: int = 200,
                       seed=None) -> pd.DataFrame:
    """One row per simulated data set and method ("ML", "REML"): the estimated
    variance of the random intercept of ``group`` and the residual variance.

    ``spec`` is a ``gl.specify`` model on a design with a random intercept for
    ``group``; every data set is fitted with the formula of ``spec``."""
    design = spec.arguments["data"]
    formula = spec.arguments["formula"]
    draws = spec.simulate(nsim, seed=seed)
    rows = []
    with warnings.catch_warnings():
        # many small data sets put the group variance at zero: that is part of the
        # result (it is counted on the page), not a problem to report each time
        warnings.simplefilter("ignore", gl.SingularFitWarning)
        for k in range(draws.shape[1]):
            data = design.assign(**{response: draws[:, k]})
            for method, reml in (("ML", False), ("REML", True)):
                fit = gl.glmm(formula, data=data, REML=reml)
                vc = fit.varcorr
                rows.append({"sim": k, "method": method,
                             "group_variance": float(vc.loc[vc["group"] == group, "variance"].iloc[0]),
                             "residual_variance": float(fit.sigma ** 2)})
    return pd.DataFrame(rows)


def summarise_estimates(estimates: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Mean estimate, its Monte Carlo standard error and the relative bias of each
    variance under each method; ``truth`` maps ``group_variance`` and
    ``residual_variance`` to the true values."""
    rows = []
    for method, part in estimates.groupby("method", sort=False):
        for name, true in truth.items():
            values = part[name].to_numpy(float)
            mean = float(values.mean())
            rows.append({"method": method, "variance": name.replace("_", " "),
                         "true": float(true), "mean estimate": mean,
                         "MC SE": float(values.std(ddof=1) / np.sqrt(len(values))),
                         "relative bias": mean / float(true) - 1.0})
    return pd.DataFrame(rows)


def plot_variance_estimates(estimates: pd.DataFrame, column: str, true: float,
                            label: str = "estimated variance"):
    """Histograms of one variance's ML and REML estimates over the simulated data sets,
    with the true value and each method's mean as vertical lines. Returns the Figure."""
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(estimates["method"]))
    values = estimates[column].to_numpy(float)
    bins = np.linspace(0.0, float(np.quantile(values, 0.99)), 31)
    fig, axes = plt.subplots(1, len(methods), figsize=(7.0, 3.0), sharex=True, sharey=True)
    for k, (ax, method) in enumerate(zip(np.atleast_1d(axes), methods)):
        part = estimates.loc[estimates["method"] == method, column].to_numpy(float)
        ax.hist(np.clip(part, None, bins[-1]), bins=bins, color=f"C{k}", alpha=0.75)
        ax.axvline(true, color="black", lw=1.5, label="true value")
        ax.axvline(part.mean(), color=f"C{k}", lw=1.5, ls="--", label="mean estimate")
        ax.set_title(method, fontsize="medium")
        ax.set_xlabel(label)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize="small")
    np.atleast_1d(axes)[0].set_ylabel("simulated data sets")
    fig.tight_layout()
    return fig


def describe_variance_estimates(estimates: pd.DataFrame, column: str, true: float) -> str:
    """Alt text of :func:`plot_variance_estimates`, from the estimates it draws."""
    parts = []
    for method, part in estimates.groupby("method", sort=False):
        values = part[column].to_numpy(float)
        parts.append(f"{method}: mean {values.mean():.3g}, {np.mean(values < 1e-6) * 100:.0f} % "
                     "of the estimates at zero")
    n = estimates["sim"].nunique()
    return (f"Histograms of the estimated {column.replace('_', ' ')} in {n} simulated data "
            f"sets, true value {true:.3g}. " + "; ".join(parts) + ".")
