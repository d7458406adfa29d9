"""Build tooling of the course: lessons -> executed notebooks -> site -> PDF handouts.

``python -m course build`` runs the whole pipeline (see :mod:`course.cli`). The
pieces are importable on their own so that other commands can reuse them:

- :mod:`course.project`: the book's layout (``_toc.yml``, lessons, build folders);
- :mod:`course.params`: a lesson's ``parameters`` cell and ``--param`` overrides;
- :mod:`course.execute`: papermill execution with a cache (:func:`run_notebook`,
  :func:`execute_lessons`);
- :mod:`course.site`: the Jupyter Book build from the executed notebooks;
- :mod:`course.handouts`: PDF handouts printed by headless Chromium
  (:func:`print_pdf`).

The fitting library ``glmm_lib`` never imports this package.
"""

from .errors import CourseError, LessonFailed

__all__ = ["CourseError", "LessonFailed"]
