"""R's printing rules, reproduced so that printed output matches R's character for character.

glmmTMB prints its summary with R's own formatting; these modules emulate the rules it uses:

- ``numbers``: ``format(x, digits=)`` (R's formatReal: every element gets the significant
  digits it needs, up to ``digits``, the vector shares one number of decimals and one
  width, and switches to scientific notation when that is narrower); ``round`` (R >= 4.0's
  algorithm), ``zapsmall``, ``format.pval`` (``< 2e-16``) and ``formatC(x, digits = 3)``;
- ``printing``: ``print`` of a character matrix (row names left-aligned, columns right- or
  left-aligned, blocks of columns that fit in 80 characters) and of a named vector,
  ``cat(..., fill = TRUE)`` and ``printCoefmat`` (estimates and SEs rounded together,
  z values to 3 decimals after ``zapsmall``, p-values, significance stars and their legend);
- ``deparse``: ``deparse`` of a formula (R's spacing around operators, a line break after a
  binary operator once a line passes 60 characters).
"""
