"""The likelihood-ratio test with a parametric-bootstrap p-value, as pbkrtest's
``PBmodcomp``: ``gl.compare(m0, m1, method="bootstrap", nsim=1000, seed=1)``.

Responses are simulated from the smaller model (the null hypothesis), both models are
refitted to each from their own estimates, and the observed statistic
LRT = 2 (logLik1 - logLik0) is set against the simulated ones:

    p = (1 + #{LRT* >= LRT}) / (1 + n),   n = simulations where both refits reached a maximum.

The chi-square reference is only asymptotic, and wrong where the null value is on the
boundary of the parameter space (a variance component of zero: "is the plate effect
needed?") or where the design is small; the bootstrap distribution needs neither.
"""
from __future__ import annotations

import numpy as np

from .bootstrap import check_fit
from .errors import GLMMInputError
from .refit import refit
from .simulation_runner import run


def likelihood_ratio(llf_small, llf_large):
    """As ``compare`` prints it: never negative."""
    return 2 * max(0.0, llf_large - llf_small)


class BootstrapLRTJob:
    def __init__(self, small, large):
        self.small, self.large = small, large

    def __call__(self, sim, seed):
        y = self.small.simulate(1, seed=seed)[:, 0]
        fits = [refit(m.model, y, start=m.optimizer.end) for m in (self.small, self.large)]
        ok = all(f.usable for f in fits)
        return {"status": "ok" if ok else "failed",
                "problems": "; ".join(f"{which}: {f.message}" for which, f in
                                      zip(("small", "large"), fits) if f.message),
                "LRT": likelihood_ratio(fits[0].fit.llf, fits[1].fit.llf) if ok else np.nan}


def bootstrap_compare(*models, names=None, nsim=1000, seed=None, workers=1, scheduler=None,
                      chunk_size=None, store=None, resume=False, progress=True):
    """``compare`` of two nested models with the bootstrap p-value in ``Pr(boot)``.

    The table is ``compare``'s (the chi-square test kept for comparison); its
    ``attrs["bootstrap"]`` holds the simulated statistics (one row per simulation, with
    the status of the refits) and ``attrs["notes"]`` the number of simulations used."""
    from .compare import compare

    if len(models) == 1 and isinstance(models[0], (list, tuple)):
        models = tuple(models[0])
    if len(models) != 2:
        raise GLMMInputError(f"the bootstrap test compares exactly two nested models; got "
                             f"{len(models)}")
    for i, m in enumerate(models):
        check_fit(m, f"argument {i + 1}")
    table = compare(*models, names=names)
    if not np.isfinite(table["Chisq"].iloc[1]):
        raise GLMMInputError("these models are not nested (see the notes of compare()); the "
                             "bootstrap likelihood-ratio test needs a smaller model inside a "
                             "larger one:\n" + "\n".join(table.attrs["notes"]))
    small, large = sorted(models, key=lambda m: m.n_params)
    observed = likelihood_ratio(small.llf, large.llf)
    job = BootstrapLRTJob(small, large)
    sims, info = run(job, nsim, seed, workers=workers, scheduler=scheduler, chunk_size=chunk_size,
                     store=store, resume=resume, progress=progress, label="bootstrap LRT",
                     description={"what": "bootstrap LRT", "small": small.formula,
                                  "large": large.formula, "llf": [small.llf, large.llf]})
    used = sims.loc[sims["status"] == "ok", "LRT"].to_numpy()
    failed = int(len(sims) - used.size)
    p_value = (1 + np.sum(used >= observed)) / (1 + used.size)
    table["Pr(boot)"] = [np.nan, p_value]
    table.attrs["bootstrap"] = sims
    table.attrs["notes"] = list(table.attrs["notes"]) + [
        f"Pr(boot): parametric bootstrap, {used.size} of {nsim} simulations from "
        f"{table.index[0]} used ({failed} with a failed refit left out; seed {info.seed}"
        + (f"; {info.retried} chunks retried" if info.retried else "") + ")."]
    return table

