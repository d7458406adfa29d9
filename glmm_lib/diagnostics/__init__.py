"""Residual diagnostics by simulation, after DHARMa (Hartig).

A fitted model is checked against data simulated from itself:

1. ``simulate_residuals(fit, n_sim=250, seed=...)`` simulates ``n_sim`` response
   vectors from the fit (random effects drawn anew by default, or kept at their
   conditional modes with ``re="conditional"``) and turns each observation into
   a scaled residual, uniform on (0, 1) under the model whatever the family
   (:mod:`~glmm_lib.diagnostics.residuals`).
2. Tests on the result, each returning a :class:`TestResult` with a
   statistic, a p-value, the method and the alternative, as DHARMa reports
   (:mod:`~glmm_lib.diagnostics.htest`):
   against the simulations (:mod:`~glmm_lib.diagnostics.simulation_tests`):
   :func:`test_uniformity` (Kolmogorov-Smirnov against the uniform),
   :func:`test_dispersion` (spread of observed vs simulated responses),
   :func:`test_zero_inflation` (observed vs simulated zeros),
   :func:`test_outliers` (observations outside the simulation envelope, exact
   binomial test); against a predictor
   (:mod:`~glmm_lib.diagnostics.predictor_tests`): :func:`test_quantiles`
   (quantile regressions of the residuals on the rank-transformed prediction)
   and :func:`test_categorical` (residuals within the levels of a factor).

Plots are in :mod:`glmm_lib.diagnostic_plots` (matplotlib is imported there
only).

Conditional or new random effects?  With random effects drawn anew (the
default, as glmmTMB and DHARMa) the residuals are uniform under the model, but
the dispersion test of a mixed model has little power: the spread of each
simulated data set is dominated by its simulated group effects.  Measured on
nbinom1 data (Var = 2 mu, 10 groups x 10) fitted as Poisson, the dispersion
test rejected 11% of data sets with ``re="new"`` and 88% with
``re="conditional"``; on the webworm counts the Poisson fit's p-value is about
0.03-0.06 and 0 (of 250 simulations) respectively.  As DHARMa advises, test the
dispersion of mixed models on conditional simulations as well.  For small data
sets (ten groups) all tests are conservative with either choice (mean p-value
about 0.7 for a correct model), because the fitted parameters match the
realised group effects.
"""
from .htest import TestResult, tests_frame
from .predictor_tests import rank_transform, test_categorical, test_quantiles
from .residuals import (SimulatedResiduals, from_simulations, scaled_residuals,
                        simulate_residuals)
from .simulation_tests import (simulation_p_value, test_all, test_dispersion, test_outliers,
                               test_uniformity, test_zero_inflation)

__all__ = ["SimulatedResiduals", "TestResult", "simulate_residuals", "from_simulations",
           "test_uniformity", "test_dispersion", "test_zero_inflation", "test_outliers",
           "test_quantiles", "test_categorical", "test_all", "rank_transform", "tests_frame",
           "simulation_p_value", "scaled_residuals"]
