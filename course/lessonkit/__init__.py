"""What the lessons and the report notebook use besides the fitting library.

- :mod:`course.lessonkit.display`: the shared figure and table style
  (:func:`use_course_style`) and helpers such as :func:`show_tests`;
- :mod:`course.lessonkit.data`: a lesson's data, by name or file (:func:`read`);
- :mod:`course.lessonkit.figures`: the lessons' figures;
- :mod:`course.lessonkit.simulate_designs`: simulated experiments with known
  parameters;
- :mod:`course.lessonkit.equations`: a fitted model written out as equations.

Model computations the lessons show (pooling tables, implied covariances) are
glmm_lib's: :mod:`glmm_lib.pooling`, :mod:`glmm_lib.implied_covariance`.
Importing this package loads none of its modules (and no matplotlib).
"""
