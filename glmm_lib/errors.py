"""Errors and warnings raised by glmm_lib.

Every problem with a user's input is a ``GLMMInputError`` whose message names the
column, the first offending rows and what was expected, so that a notebook or a
report can show it as it is.
"""


class GLMMInputError(ValueError):
    """The data, formula or family given to a fit cannot be used as they are."""


class ConvergenceWarning(UserWarning):
    """The optimizer stopped somewhere that may not be the maximum likelihood."""


class SingularFitWarning(UserWarning):
    """A variance parameter was estimated at (or numerically near) zero."""


def first_rows(mask, index, limit=5):
    """Human-readable list of the first row labels where ``mask`` is true."""
    import numpy as np

    where = np.flatnonzero(mask)
    shown = ", ".join(str(index[i]) for i in where[:limit])
    more = f" (and {len(where) - limit} more)" if len(where) > limit else ""
    return f"{shown}{more}"
