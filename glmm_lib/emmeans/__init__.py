"""Estimated marginal means, pairwise comparisons and compact letter displays,
as R's emmeans 1.8.4 computes them for glmmTMB fits (and, with Kenward-Roger or
Satterthwaite df, for lme4 fits of linear mixed models).

>>> emm = emmeans(fit, "trt")                 # means on the response scale
>>> pairs(emm)                                # ratios (log link) / odds ratios (logit), Tukey
>>> contrast(emm, "trt.vs.ctrl", ref="T1")     # Dunnett (multivariate t); "consec", "poly", {...}
>>> cld(emm)                                  # compact letter display
>>> emm.table                                 # the means as a DataFrame

Each result holds its state (a frozen dataclass), prints and displays in a
notebook as emmeans' table with its notes, and gives the table as a DataFrame
in ``.table``.  One concept a module:

``grid``       the reference grid (covariates at their means, offsets, ``at=``)
``means``      :func:`emmeans` and its result :class:`EMMeans`
``contrast_methods``  the coefficients of the contrast families
``contrasts``  :func:`contrast`, :func:`pairs` and their result :class:`Contrasts`
``letters``    :func:`cld` and its result :class:`CompactLetters`

The p-value adjustments are in :mod:`glmm_lib.multiplicity`; the plot of the
means is :func:`glmm_lib.means_plots.plot_means`.
"""
from .contrasts import ADJUSTMENTS, Contrasts, contrast, pairs
from .grid import ReferenceGrid, reference_grid
from .letters import CompactLetters, cld, letter_matrix
from .means import EMMeans, emmeans

__all__ = ["emmeans", "pairs", "contrast", "cld", "EMMeans", "Contrasts", "CompactLetters",
           "ReferenceGrid", "reference_grid", "letter_matrix", "ADJUSTMENTS"]
