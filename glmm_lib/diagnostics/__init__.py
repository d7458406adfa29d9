"""Residual diagnostics by simulation, after DHARMa (Hartig).

For a mixed model, use ``simulate_residuals(fit, n_sim=250, refit=True)``::

    res = gl.diagnostics.simulate_residuals(fit, n_sim=250, seed=1, refit=True)
    res.tests()                                  # uniformity, dispersion, zeros, outliers
    gl.diagnostic_plots.plot_diagnostics(res)

It refits the model to every simulated data set and compares each statistic of
the data and its fit with the same statistic of the refits (a parametric
bootstrap, :mod:`~glmm_lib.diagnostics.refit_residuals`); those tests are
calibrated for mixed models, the others are not (below).  It costs ``n_sim``
fits: 250 refits of the webworm NB1 model (1300 rows) take about 8 s of CPU
(2 s fitting, 5 s simulating each refit's residuals;
``benchmarks/bench_refit_residuals.py``), where glmmTMB would need about two
minutes for the fits alone; ``workers=2`` spreads them over a local Dask
cluster.  Without refitting, the tests cost milliseconds.

1. ``simulate_residuals(fit, n_sim=250, seed=...)`` simulates ``n_sim`` response
   vectors from the fit (random effects drawn anew by default, or kept at their
   conditional modes with ``re="conditional"``; with ``refit=True``, the model
   refitted to each) and turns each observation into a scaled residual,
   uniform on (0, 1) under the model whatever the family
   (:mod:`~glmm_lib.diagnostics.residuals`).
2. Tests on the result, each returning a :class:`TestResult` with a
   statistic, a p-value, the method and the alternative, as DHARMa reports
   (:mod:`~glmm_lib.diagnostics.htest`):
   against the simulations (:mod:`~glmm_lib.diagnostics.simulation_tests`,
   or the refits, :mod:`~glmm_lib.diagnostics.refit_tests`):
   :func:`test_uniformity` (Kolmogorov-Smirnov against the uniform),
   :func:`test_dispersion` (spread of observed vs simulated responses; the
   Pearson chi-square against the refits'; ``type="PearsonChisq"``: the quick
   analytic check against a chi-square distribution),
   :func:`test_zero_inflation` (observed vs simulated zeros),
   :func:`test_outliers` (observations outside the simulation envelope, exact
   binomial test); against a predictor
   (:mod:`~glmm_lib.diagnostics.predictor_tests`): :func:`test_quantiles`
   (quantile regressions of the residuals on the rank-transformed prediction)
   and :func:`test_categorical` (residuals within the levels of a factor).

Plots are in :mod:`glmm_lib.diagnostic_plots` (matplotlib is imported there
only).

Why refit?  Measured with ``benchmarks/calibrate_residual_tests.py`` (Poisson
GLMMs, 30 groups x 10, 250 simulations; 60 correct data sets, where the 99%
binomial band of 5% is 0-8 rejections, and 30 NB2 data sets with theta = 2
fitted as Poisson; table in ``benchmarks/RESULTS.md``): without refitting, the
dispersion test rejected 0 of 60 correct fits but detected only 13 of 30
overdispersed ones with random effects drawn anew (the default, as glmmTMB and
DHARMa; the spread of each simulated data set is dominated by its simulated
group effects), and with ``re="conditional"`` it detected all 30 but also
rejected 9 of 60 correct fits, outside the band (the fit has adapted its
random effects to the observed data and not to the simulated ones).  With
``refit=True`` the data and the simulations are treated alike: 4 of 60 and
30 of 30, and for uniformity, zero inflation and outliers 2, 5 and 0 of 60
correct fits rejected, 30 of 30 overdispersed ones detected; the refit
p-values of correct fits average 0.5 (0.49-0.51; outliers 0.68, a discrete
count).  Without refitting the uniformity and zero-inflation p-values of
correct mixed models average about 0.6-0.7: conservative.
"""
from .htest import TestResult, tests_frame
from .predictor_tests import rank_transform, test_categorical, test_quantiles
from .refit_residuals import RefitSimulations
from .residuals import (SimulatedResiduals, from_simulations, scaled_residuals,
                        simulate_residuals)
from .simulation_tests import (simulation_p_value, test_all, test_dispersion, test_outliers,
                               test_uniformity, test_zero_inflation)

__all__ = ["SimulatedResiduals", "RefitSimulations", "TestResult", "simulate_residuals", "from_simulations",
           "test_uniformity", "test_dispersion", "test_zero_inflation", "test_outliers",
           "test_quantiles", "test_categorical", "test_all", "rank_transform", "tests_frame",
           "simulation_p_value", "scaled_residuals"]
