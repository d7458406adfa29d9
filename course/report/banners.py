"""HTML boxes in the report: notes and warnings, and sections that show their own
failure in place instead of stopping the notebook."""
from __future__ import annotations

import html
import warnings

#: Print rules of the report page (the page's own CSS is course/nbhtml.py's): headings
#: and table captions stay with what follows them, a long table breaks between rows
#: rather than moving whole to the next page (which left first pages mostly blank).
PRINT_CSS = """<style>
@media print {
  h1, h2, h3 { break-after: avoid; }
  .output:has(> p > strong:only-child), .output:has(img) { break-after: avoid; }
  table { break-inside: auto; }
  tr, .output img, .report-note, .report-warning { break-inside: avoid; }
  thead { display: table-header-group; }
}
</style>"""


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


#: How the report names a parameter of each kind in a message (the library's labels, e.g.
#: ``theta:log_sd((Intercept))|block``, are for programmers).
_KIND_WORDS = {"fixed": "the coefficient {name}", "log_sd": "a random-effect variance{natural}",
               "correlation": "a random-effect correlation", "dispersion": "the dispersion",
               "zero_inflation": "the zero-inflation probability", "shape": "a shape parameter"}


def in_words(text: str, parameters) -> str:
    """``text`` with each parameter's internal label replaced by words for its kind (in
    one pass, longest label first, so that a label inside another is not replaced twice)."""
    import re

    words = {}
    for k, name in enumerate(parameters.names):
        p = parameters[k]
        natural = f" ({p.natural_name})" if p.natural_name else ""
        words[name] = _KIND_WORDS.get(p.kind.value, "a parameter").format(name=name,
                                                                          natural=natural)
    if not words:
        return text
    pattern = "|".join(re.escape(n) for n in sorted(words, key=len, reverse=True))
    return re.sub(pattern, lambda m: words[m.group(0)], text)


def fit_banners(fit) -> list[str]:
    """The boxes at the top of a report about the fit itself: a warning when it did not
    converge (its numbers may be wrong), a note for a singular fit (a variance estimated
    as zero is a result: the fixed effects still hold)."""
    boxes = []
    convergence = fit.convergence
    if not fit.converged:
        problems = "; ".join(in_words(p, fit.parameters) for p in convergence.problems)
        boxes.append(banner(
            "warning", "Warning: the model did not converge",
            f"The optimizer stopped before it found the maximum of the likelihood ({problems}). "
            "Every number below describes where it stopped and may be wrong: simplify the "
            "model (fewer random terms, fewer levels), check the data, or try another family "
            "before relying on it."))
    if convergence.singular:
        said = "; ".join(convergence.singular)
        boxes.append(banner(
            "note", "Note: a variance component is estimated at its limit (a singular fit)",
            f"In this fit {said}. This is a result, not a failure of the fit: the data show no "
            "variation between those groups beyond what the rest of the model explains (or, "
            "for a correlation at +1 or -1, two effects that vary together as one), so the "
            "model is in effect simpler than written. The fixed effects, their standard "
            "errors, the means and the comparisons below still hold; they are computed with "
            "that component held at its limit. Dropping the component gives the same fixed "
            "effects."))
    return boxes
