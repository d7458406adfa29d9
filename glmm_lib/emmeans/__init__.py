"""Estimated marginal means, pairwise comparisons and compact letter displays,
as R's emmeans 1.8.4 computes them for glmmTMB fits.

>>> emm = emmeans(fit, "trt")                 # means on the response scale
>>> pairs(emm)                                # ratios (log link) / odds ratios (logit), Tukey
>>> cld(emm)                                  # compact letter display
>>> emm.table                                 # the means as a DataFrame

Each result holds its state (a frozen dataclass), prints and displays in a
notebook as emmeans' table with its notes, and gives the table as a DataFrame
in ``.table``.  One concept a module:

``grid``       the reference grid (covariates at their means, offsets, ``at=``)
``means``      :func:`emmeans` and its result :class:`EMMeans`
``contrasts``  :func:`pairs` and its result :class:`Contrasts`
``letters``    :func:`cld` and its result :class:`CompactLetters`

The p-value adjustments are in :mod:`glmm_lib.multiplicity`; the plot of the
means is :func:`glmm_lib.means_plots.plot_means`.
"""
from .contrasts import ADJUSTMENTS, Contrasts, pairs
from .grid import ReferenceGrid, reference_grid
from .letters import CompactLetters, cld, letter_matrix
from .means import EMMeans, emmeans

__all__ = ["emmeans", "pairs", "cld", "EMMeans", "Contrasts", "CompactLetters",
           "ReferenceGrid", "reference_grid", "letter_matrix", "ADJUSTMENTS"]
