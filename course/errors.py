"""Errors the course command reports to its user (no traceback, clear text)."""


class CourseError(Exception):
    """A problem the user can fix: bad input, a missing tool, a failed step.

    ``exit_code`` is the process exit status the command line uses for it:
    2 for bad command-line input, 1 for everything else.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CourseError):
    """Bad command-line input (unknown lesson, unknown parameter, bad value)."""

    exit_code = 2


class LessonFailed(CourseError):
    """A lesson notebook raised an error while executing."""

    def __init__(self, message: str, lesson: str, cell: int | None, notebook=None):
        super().__init__(message)
        self.lesson = lesson
        self.cell = cell
        self.notebook = notebook
