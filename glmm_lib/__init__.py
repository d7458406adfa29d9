"""glmm_lib: generalized linear mixed models by Laplace maximum likelihood,
reproducing glmmTMB, for the glmm-course lessons and reports."""
from . import datasets, families
from . import diagnostics  # simulate_residuals & tests; plots: glmm_lib.diagnostic_plots
from .errors import ConvergenceWarning, GLMMInputError, SingularFitWarning
from .model import GLMMModel, glmm
from .results import GLMMResults
from .emmeans import cld, contrast, emmeans, pairs
from .means_plots import plot_means
from .compare import compare
from .anova import anova
from . import designs  # layouts for power analysis: rcbd, split_plot, repeated_measures, ...
from .bootstrap import bootstrap
from .specify import specify
from .power import power

__all__ = ["glmm", "GLMMModel", "GLMMResults", "families", "GLMMInputError",
           "ConvergenceWarning", "SingularFitWarning",
           "emmeans", "pairs", "contrast", "cld", "plot_means", "compare", "anova",
           "designs", "bootstrap", "specify", "power"]
