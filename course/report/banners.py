"""HTML boxes in the report: notes and warnings, and sections that show their own
failure in place instead of stopping the notebook."""
from __future__ import annotations

import html
import warnings


class Sections:
    """Run each part of the report so that a failure shows in its place, not as a crash.

    >>> sections = Sections(quiet=(ConvergenceWarning,))
    >>> with sections("Marginal means"):
    ...     ...

    Warnings raised inside a section are shown as notes in it (those of the
    ``quiet`` categories, already reported at the top, are dropped).
    ``sections.failed`` lists (section, error) for the result file.
    """

    def __init__(self, quiet=()):
        self.failed: list[tuple[str, str]] = []
        self.quiet = tuple(quiet)
        self._name = None
        self._catcher = None
        self._caught = None

    def __call__(self, name: str):
        self._name = name
        return self

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, exc_type, exc, tb):
        from IPython.display import HTML, display

        self._catcher.__exit__(None, None, None)
        seen = set()
        for w in self._caught:
            text = str(w.message)
            if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning) + self.quiet) \
                    or text in seen:
                continue
            seen.add(text)
            display(HTML(banner("note", f"Note ({self._name})", text)))
        if exc is None or not isinstance(exc, Exception):
            return False
        message = f"{type(exc).__name__}: {exc}"
        self.failed.append((self._name, message))
        display(HTML(banner("warning", f"This section could not be computed ({self._name})",
                            message)))
        return True


def banner(kind: str, title: str, body: str) -> str:
    """An HTML box (kind: "warning" or "note") for the top of the report."""
    return (f'<div class="report-{kind}"><p class="report-{kind}-title">{html.escape(title)}</p>'
            f"<p>{html.escape(body)}</p></div>")
